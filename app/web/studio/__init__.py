"""Process studio: edit, validate, test-run and deploy BPMN/DMN, and operate instances.

Only process owners and administrators reach any page here (others get 403, anonymous users
the login page). The routes live in one module per area:
- `editor`: process list, versions, drafts, the modeler page and its JSON endpoints;
- `testrun`: sandboxed test runs of a draft;
- `operate`: instances of a process, the instance page and operator actions.
"""

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from app.models import Role

bp = Blueprint("studio", __name__, url_prefix="/studio")

STUDIO_ROLES = (Role.PROCESS_OWNER, Role.ADMIN)


@bp.before_request
def _studio_access():  # type: ignore[no-untyped-def]
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    if current_user.role not in STUDIO_ROLES:
        abort(403)
    return None


from app.web.studio import editor, operate, testrun  # noqa: E402,F401
