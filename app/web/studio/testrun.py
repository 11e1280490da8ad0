"""Studio routes (testrun): filled in by the studio work."""

from app.web.studio import bp  # noqa: F401
