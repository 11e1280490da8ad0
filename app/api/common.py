"""Bearer-token authentication and request helpers shared by API modules."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from flask_babel import gettext as _

from app.extensions import db
from app.models import User
from app.services.accounts import user_for_token
from app.services.errors import InvalidInputError, NotAllowedError, ServiceError

F = TypeVar("F", bound=Callable[..., Any])


class UnauthorizedError(ServiceError):
    status = 401
    code = "unauthorized"


def token_required(*roles: str) -> Callable[[F], F]:
    """Require `Authorization: Bearer <token>`; optionally restrict to roles (403)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            scheme, _sep, raw = header.partition(" ")
            if scheme.lower() != "bearer" or not raw.strip():
                raise UnauthorizedError(
                    _("缺少访问令牌：请在 Authorization 头中携带 Bearer 令牌。")
                )
            loaded_for, loaded = g.get("api_token") or (None, None)
            found = loaded if loaded_for == raw.strip() else None
            user = user_for_token(db.session, raw.strip(), found=found)
            if user is None:
                raise UnauthorizedError(_("访问令牌无效、已过期或已撤销，请重新获取。"))
            if db.session.dirty:
                db.session.commit()  # last_used_at (once a minute)
            if roles and user.role not in roles:
                raise NotAllowedError(_("当前账号无权调用此接口。"))
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def api_user() -> User:
    return g.api_user  # type: ignore[no-any-return]


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ServiceError(_("请求体必须是 JSON 对象（Content-Type: application/json）。"))
    return data


def require_str(data: dict[str, Any], *names: str) -> dict[str, str]:
    fields = {
        n: [_("必填，且须为字符串。")]
        for n in names
        if not isinstance(data.get(n), str) or not data[n]
    }
    if fields:
        raise InvalidInputError(_("请求字段校验失败。"), fields)
    return {n: data[n] for n in names}
