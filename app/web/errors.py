"""Exceptions → status codes, as an HTML page or the API's JSON envelope (no 500 for bad input)."""

from __future__ import annotations

import errno
import logging
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.extensions import db, login_manager
from app.services.errors import ServiceError

logger = logging.getLogger(__name__)

HINTS = {
    400: _l("请求内容有误。请返回上一页检查后重新提交。"),
    401: _l("请先登录，或检查用户名和密码。"),
    403: _l("您没有权限执行此操作。如认为有误，请联系本部门管理员。"),
    404: _l("未找到您要访问的内容。它可能已被删除，或您没有查看权限。"),
    405: _l("不支持此操作方式。请通过页面上的按钮操作。"),
    409: _l("该事项的状态已发生变化（可能已被他人处理）。请刷新页面查看最新状态。"),
    413: _l("上传的文件过大。请压缩或拆分后重新上传。"),
    415: _l("不支持该文件类型。请上传页面所列的文件类型。"),
    422: _l("提交的内容未通过校验。请按提示修改后重新提交。"),
    429: _l("操作过于频繁。请稍等一分钟后再试。"),
    500: _l("系统出现内部错误，已记录。请稍后重试；如仍有问题请联系管理员。"),
    503: _l("系统暂时无法连接数据库，本次操作未完成。请稍后重试；此前已保存的数据不受影响。"),
    507: _l("服务器存储空间不足，文件未能保存。请稍后重试；如仍有问题请联系管理员。"),
}
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
    507: "insufficient_storage",
}
DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(
    status: int,
    message: str | None = None,
    code: str | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[Response | str, int]:
    message = message or str(HINTS.get(status, HINTS[400]))
    if wants_json():
        body = {
            "error": {
                "code": code or CODES.get(status, "error"),
                "message": message,
                "details": details or {},
            }
        }
        return jsonify(body), status
    return render_template(
        "errors/error.html",
        status=status,
        message=message,
        hint=str(HINTS.get(status, "")),
        details=details or {},
    ), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> tuple[Response | str, int]:
        db.session.rollback()
        return error_response(exc.status, exc.message, exc.code, exc.details)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> tuple[Response | str, int]:
        return error_response(
            400, _("页面已过期或缺少安全令牌（CSRF）。请刷新页面后重新提交。"), "csrf_failed"
        )

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(exc: RateLimitExceeded) -> tuple[Response | str, int]:
        return error_response(429)

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError) -> tuple[Response | str, int]:
        db.session.rollback()
        return error_response(409, None, "conflict")

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _db_down(exc: DBAPIError) -> tuple[Response | str, int, dict[str, str]]:
        logger.error("database unavailable: %s", exc.orig)
        try:
            db.session.rollback()
        except DBAPIError:
            db.session.remove()
        g._login_user = login_manager.anonymous_user()  # the page renders without the database
        body, status = error_response(503)
        return body, status, {"Retry-After": "30"}

    @app.errorhandler(OSError)
    def _os_error(exc: OSError) -> tuple[Response | str, int]:
        if exc.errno not in DISK_FULL:
            return _unexpected(exc)
        logger.error("storage full: %s", exc)
        db.session.rollback()
        return error_response(507)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response | str, int]:
        status = exc.code or 500
        return error_response(status, None if status in HINTS else exc.description)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response | str, int]:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return error_response(500)
