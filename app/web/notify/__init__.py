from flask import Blueprint

bp = Blueprint("notify", __name__)

from app.web.notify import routes  # noqa: E402,F401
