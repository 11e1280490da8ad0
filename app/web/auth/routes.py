"""Sign in, sign out, enterprise self-registration."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from app.extensions import limiter
from app.services import accounts, audit
from app.services.errors import InvalidInputError
from app.services.uow import transaction
from app.web.auth import bp
from app.web.auth.forms import LoginForm, RegisterForm


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _username_key() -> str:
    return "login:" + (request.form.get("username") or "").strip().lower()[:64]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_username_key)
def login() -> str | Response | tuple[str, int]:
    """Sign-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("auth/login.html", form=form), status
    with transaction() as session:
        user = accounts.authenticate(session, form.username.data or "", form.password.data or "")
    if user is None:
        form.password.errors = [_("用户名或密码不正确。连续多次失败将被暂时限制登录。")]
        return render_template("auth/login.html", form=form), 401
    login_user(user)
    return redirect(_safe_next() or url_for("main.index"))


def _safe_next() -> str | None:
    target = request.args.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else None


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Sign out of this browser."""
    with transaction() as session:
        audit.record(session, "auth.logout", actor=current_user._get_current_object())
    logout_user()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def logout_everywhere() -> Response:
    """Sign out of every browser and revoke this user's personal API tokens."""
    with transaction() as session:
        accounts.sign_out_everywhere(session, current_user._get_current_object())
    logout_user()
    flash(_("您已在所有设备上退出登录，个人 API 令牌已作废。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def register() -> str | Response | tuple[str, int]:
    """Enterprise self-registration with its unified social credit code."""
    form = RegisterForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("auth/register.html", form=form), status
    try:
        with transaction() as session:
            user = accounts.register_enterprise(
                session,
                username=form.username.data or "",
                password=form.password.data or "",
                password_confirm=form.password_confirm.data or "",
                uscc=form.uscc.data or "",
                name=form.name.data or "",
            )
    except InvalidInputError as exc:
        for field, messages in exc.fields.items():
            getattr(form, field).errors = list(messages)
        return render_template("auth/register.html", form=form), 422
    login_user(user)
    flash(_("注册成功，欢迎使用信用承诺与修复流程服务。"), "success")
    return redirect(url_for("main.index"))
