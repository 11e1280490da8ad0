from flask import Blueprint

bp = Blueprint("verify", __name__, url_prefix="/verify")

from app.web.verify import routes  # noqa: E402,F401
