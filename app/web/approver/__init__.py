from flask import Blueprint

bp = Blueprint("approver", __name__, url_prefix="/approver")

from app.web.approver import routes  # noqa: E402,F401
