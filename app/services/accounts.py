"""Accounts: sign-in, self-registration, user creation and API tokens."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ApiToken, ApproverRole, Department, Role, Subject, User
from app.models.base import utcnow
from app.rules.uscc import validate_uscc
from app.services import audit
from app.services.errors import ConflictError, InvalidInputError, NotFoundError
from app.services.passwords import hash_password, needs_rehash, policy_errors, verify_password

logger = logging.getLogger(__name__)
USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,63}$")


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip()))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None; audits both outcomes."""
    user = find_user(session, username)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        audit.record(session, "auth.login_failed", actor=None, details={"username": username[:64]})
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record(session, "auth.login", actor=user)
    return user


def register_enterprise(
    session: Session,
    *,
    username: str,
    password: str,
    password_confirm: str,
    uscc: str,
    name: str,
) -> User:
    """Create an enterprise account bound to its credit subject (created if unknown)."""
    fields: dict[str, list[str]] = {}
    username = username.strip()
    name = name.strip()
    if not USERNAME_RE.match(username):
        fields["username"] = [_("用户名以字母开头，3–64 位字母、数字、下划线、点或连字符。")]
    elif find_user(session, username):
        fields["username"] = [_("该用户名已被使用，请换一个。")]
    result = validate_uscc(uscc)
    if not result.ok:
        fields["uscc"] = list(result.errors)
    if not (2 <= len(name) <= 200):
        fields["name"] = [_("请填写营业执照上的企业名称（2–200 个字符）。")]
    problems = policy_errors(password, username)
    if problems:
        fields["password"] = problems
    elif password != password_confirm:
        fields["password_confirm"] = [_("两次输入的密码不一致。")]
    if fields:
        raise InvalidInputError(_("注册信息有误，请按提示修改。"), fields)

    subject = session.scalar(select(Subject).where(Subject.uscc == result.code))
    if subject is None:
        subject = Subject(uscc=result.code, name=name)
        session.add(subject)
        session.flush()
    elif session.scalar(select(User).where(User.subject_id == subject.id)):
        raise InvalidInputError(
            _("注册信息有误，请按提示修改。"),
            {"uscc": [_("该统一社会信用代码已开通企业账号；如需新增账号请联系管理员。")]},
        )
    elif subject.name != name:
        raise InvalidInputError(
            _("注册信息有误，请按提示修改。"),
            {"name": [_("企业名称与登记信息不一致，请按营业执照填写。")]},
        )
    user = User(
        username=username,
        password_hash=hash_password(password),
        display_name=name,
        role=Role.ENTERPRISE.value,
        subject_id=subject.id,
    )
    session.add(user)
    session.flush()
    audit.record(
        session, "user.registered", actor=user, object_type="subject", object_id=subject.uscc
    )
    logger.info("enterprise registered: %s for %s", username, subject.uscc)
    return user


def create_user(
    session: Session,
    *,
    username: str,
    role: str,
    password: str,
    display_name: str | None = None,
    department_code: str | None = None,
    approver_role: str | None = None,
    uscc: str | None = None,
    actor: User | None = None,
) -> User:
    """Create any account (CLI and admin); checks the role's required links."""
    if role not in {r.value for r in Role}:
        raise InvalidInputError(
            _("角色无效。"),
            {"role": [_("可选：%(values)s", values=", ".join(r.value for r in Role))]},
        )
    if find_user(session, username):
        raise ConflictError(_("用户名 %(name)s 已存在。", name=username))
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        display_name=display_name or username,
    )
    if role == Role.APPROVER:
        if approver_role not in {r.value for r in ApproverRole}:
            raise InvalidInputError(
                _("审批人需要岗位。"), {"approver_role": ["window/reviewer/inspector/leader"]}
            )
        user.approver_role = approver_role
        user.department_id = _department_id(session, department_code)
    if role == Role.ENTERPRISE:
        code = validate_uscc(uscc or "")
        if not code.ok:
            raise InvalidInputError(_("统一社会信用代码无效。"), {"uscc": list(code.errors)})
        subject = session.scalar(select(Subject).where(Subject.uscc == code.code))
        if subject is None:
            raise NotFoundError(_("信用主体 %(uscc)s 不存在，请先导入。", uscc=code.code))
        user.subject_id = subject.id
    session.add(user)
    session.flush()
    audit.record(
        session,
        "user.created",
        actor=actor,
        object_type="user",
        object_id=username,
        details={"role": role},
    )
    return user


def _department_id(session: Session, code: str | None) -> int:
    department = session.scalar(select(Department).where(Department.code == (code or "")))
    if department is None:
        raise NotFoundError(_("部门 %(code)s 不存在。", code=code))
    return department.id


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(
    session: Session,
    user: User,
    *,
    ttl: timedelta,
    kind: str = "personal",
    name: str = "",
) -> tuple[str, ApiToken]:
    """Create a bearer token; the raw value is returned once and only its hash is kept."""
    raw = "cf_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        token_hash=_token_hash(raw),
        kind=kind,
        name=name,
        expires_at=utcnow() + ttl,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        "token.issued",
        actor=user,
        object_type="api_token",
        object_id=str(token.id),
        details={"kind": kind},
    )
    return raw, token


# last_used_at of API tokens is recorded at this resolution (see user_for_token).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def user_for_token(
    session: Session, raw: str, now: datetime | None = None, found: ApiToken | None = None
) -> User | None:
    """The active user behind a valid, unexpired, unrevoked token (`found`: already loaded)."""
    token = found or session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(raw)))
    if token is None or not token.is_valid(now or utcnow()) or not token.user.active:
        return None
    instant = now or utcnow()
    # Recorded at most once a minute: an UPDATE of the token row on every call would add a
    # write (and a row lock) to every API request of an integration.
    if token.last_used_at is None or instant - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = instant
    return token.user


def revoke_token(session: Session, token_id: int, actor: User) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.id and actor.role != Role.ADMIN):
        raise NotFoundError(_("令牌不存在。"))
    token.revoked_at = utcnow()
    audit.record(
        session, "token.revoked", actor=actor, object_type="api_token", object_id=str(token_id)
    )


def sign_out_everywhere(session: Session, user: User) -> None:
    """Invalidate every session cookie of this user (and revoke its personal tokens)."""
    user.session_epoch += 1
    for token in session.scalars(
        select(ApiToken).where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            ApiToken.kind != "integration",  # platforms' tokens are revoked on the tokens page
        )
    ):
        token.revoked_at = utcnow()
    audit.record(session, "auth.logout_everywhere", actor=user)
