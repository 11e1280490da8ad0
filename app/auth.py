"""flask-login wiring and the access decorators views stack on top of each other."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort
from flask_babel import gettext
from flask_login import current_user

from app.extensions import db, login_manager
from app.i18n import N_
from app.models import User

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("请先登录。")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Session ids carry the user's session epoch, so 'sign out everywhere' invalidates them."""
    try:
        raw_id, raw_epoch = user_id.split(":", 1)
        user = db.session.get(User, int(raw_id))
        epoch = int(raw_epoch)
    except (ValueError, TypeError):
        return None
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    return user


def role_required(*roles: str) -> Callable[[F], F]:
    """Allow the view only to signed-in users holding one of `roles` (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
