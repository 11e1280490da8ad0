from flask import Blueprint

bp = Blueprint("documents", __name__, url_prefix="/documents")

from app.web.documents import routes  # noqa: E402,F401
