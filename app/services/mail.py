"""Mail notifications: queued with the event, sent by the worker through SMTP, retried.

Flow: where an event happens (a task for a department, a deadline one working day away, an
application returned, a decision, a document) `queue` adds one `MailDelivery` per recipient
who has an address and wants that mail — in the same transaction as the event, so a mail
exists exactly when its event does. The worker's `deliver_mail` renders the due ones in the
recipient's language (`templates/mail/<event>.<zh_CN|en>.txt`, first line the subject) and
hands them to the SMTP server.

Choices:
- No `SMTP_HOST` → nothing is queued and nothing is sent; the in-app notices (notifications.py)
  are made either way.
- Recipients choose per mail (`User.mail_preferences`, missing = on); a mail whose recipient
  turned it off, or removed the address, before it went out is `discarded`.
- At least once: a mail is marked sent after the server accepted it. Its Message-ID is stable
  (derived from the row), so a resend after a crash is recognisable.
- Retries: a failure (server unreachable, 4xx, dropped connection) schedules the next attempt
  `MAIL_BACKOFF_S × 2^(attempts-1)` seconds later (×1–1.25 jitter, capped at 6 h); after
  `MAIL_MAX_ATTEMPTS` attempts the mail is `dead`. A permanent refusal of the recipient or the
  content (5xx) and a template error are dead at once.
"""

from __future__ import annotations

import logging
import random
import re
import smtplib
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

import jinja2
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import N_, translate_stored
from app.models import MailDelivery, MailState, Role, User
from app.models.base import utcnow
from app.services import audit
from app.services.errors import InvalidInputError

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "mail"
BACKOFF_CAP_S = 6 * 3600
LOCALES = ("zh_CN", "en")

# Mail event → 中文 label (the preferences page; translated there through `_()`).
EVENTS: dict[str, str] = {
    "task_assigned": N_("本部门有新的待办任务"),
    "deadline": N_("办理期限即将到期（到期前提醒）"),
    "returned": N_("申请被退回补正"),
    "decided": N_("办件已作出决定"),
    "document_ready": N_("文书已出具"),
}
# The mails that can reach a role (others see every mail on their page).
ROLE_EVENTS: dict[str, tuple[str, ...]] = {
    Role.ENTERPRISE.value: ("returned", "deadline", "decided", "document_ready"),
    Role.APPROVER.value: ("task_assigned", "deadline"),
}
LANES = {
    "zh_CN": {
        "enterprise": "企业",
        "window": "受理窗口",
        "reviewer": "审核",
        "inspector": "核查",
        "leader": "分管领导",
    },
    "en": {
        "enterprise": "enterprise",
        "window": "service window",
        "reviewer": "review",
        "inspector": "inspection",
        "leader": "leader in charge",
    },
}
DOCUMENT_KINDS_EN = {
    "commitment": "Credit commitment letter",
    "rongque_notice": "Notice of acceptance with deferred materials",
    "notify_commit_decision": "Approval decision (notification and commitment)",
    "repair_decision": "Credit repair decision",
    "objection_result": "Notice of the objection result",
    "breach_notice": "Notice of a breach of commitment",
}

_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9\u00a1-\uffff](?:[A-Za-z0-9\u00a1-\uffff-]*[A-Za-z0-9\u00a1-\uffff])?\.)+"
    r"[A-Za-z\u00a1-\uffff]{2,63}$"
)

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
    keep_trailing_newline=False,
    undefined=jinja2.StrictUndefined,
)


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class MailSettings:
    host: str | None = None
    port: int = 25
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    use_ssl: bool = False
    timeout_s: float = 10.0
    mail_from: str = "CreditFlow <no-reply@creditflow.local>"
    base_url: str = "http://127.0.0.1:5000"
    max_attempts: int = 8
    backoff_s: float = 60.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        use_ssl = bool(config.get("SMTP_SSL"))
        starttls = bool(config.get("SMTP_STARTTLS"))
        port = config.get("SMTP_PORT")
        return cls(
            host=config.get("SMTP_HOST") or None,
            port=int(port) if port else (465 if use_ssl else 587 if starttls else 25),
            username=config.get("SMTP_USERNAME") or None,
            password=config.get("SMTP_PASSWORD") or None,
            starttls=starttls,
            use_ssl=use_ssl,
            timeout_s=float(config.get("SMTP_TIMEOUT_S") or 10),
            mail_from=str(config.get("MAIL_FROM") or cls.mail_from),
            base_url=str(config.get("PUBLIC_BASE_URL") or cls.base_url),
            max_attempts=int(config.get("MAIL_MAX_ATTEMPTS") or 8),
            backoff_s=float(config.get("MAIL_BACKOFF_S") or 60),
        )


def configured() -> bool:
    """Is an SMTP server configured for the running app? (No app → no mail.)"""
    from flask import current_app, has_app_context

    return bool(has_app_context() and current_app.config.get("SMTP_HOST"))


# ---------------------------------------------------------------- recipients and choices


def locale_of(user: User) -> str:
    """The recipient's language: English when their locale says so, else Chinese."""
    return "en" if (user.locale or "").lower().startswith("en") else "zh_CN"


def events_for(user: User) -> tuple[str, ...]:
    return ROLE_EVENTS.get(user.role, tuple(EVENTS))


def wants_event(user: User, event: str) -> bool:
    """Has the user left this mail on? (Every mail is on until turned off.)"""
    return (user.mail_preferences or {}).get(event, True) is not False


def wants(user: User, event: str) -> bool:
    """Does the user get this mail: active, with an address, and not turned off?"""
    return bool(user.active and user.email and wants_event(user, event))


def clean_email(raw: str | None) -> str | None:
    """The address to store (None for empty), or InvalidInputError with a field message."""
    value = (raw or "").strip()
    if not value:
        return None
    local = value.rpartition("@")[0]
    if len(value) > 254 or len(local) > 64 or not _EMAIL.match(value):
        raise InvalidInputError(
            N_("电子邮箱地址无效。"),
            {
                "email": [
                    N_("请输入有效的电子邮箱地址，例如 name@example.com（不超过 254 个字符）。")
                ]
            },
        )
    return value


def set_preferences(
    session: Session, user: User, *, email: str | None, events: Iterable[str]
) -> None:
    """Save the user's address and the mails they want (the others of their role are off)."""
    wanted = set(events)
    unknown = sorted(wanted - set(EVENTS))
    address = clean_email(email)
    if unknown:
        raise InvalidInputError(
            N_("未知的邮件类型。"), {"events": [N_("请选择列表中的邮件类型。")]}
        )
    before = (user.email, dict(user.mail_preferences or {}))
    prefs = dict(user.mail_preferences or {})
    for event in events_for(user):
        prefs[event] = event in wanted
    user.email = address
    user.mail_preferences = prefs
    audit.record(
        session,
        "user.mail_preferences",
        actor=user,
        object_type="user",
        object_id=str(user.id),
        details={
            "email_changed": before[0] != address,
            "email_set": address is not None,
            "mail_preferences": prefs,
            "changed": before[1] != prefs,
        },
    )


# ---------------------------------------------------------------- queueing


def queue(
    session: Session,
    users: Iterable[User],
    event: str,
    context: Mapping[str, Any],
    *,
    key: str,
    instance_id: int | None = None,
) -> int:
    """Queue `event` for every user who wants it; `key` names the fact (one mail per user).

    `context` (JSON values) feeds the templates; its `link` is a path under PUBLIC_BASE_URL.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown mail event {event!r}")
    if not configured():
        return 0
    queued = 0
    for user in users:
        if not wants(user, event):
            continue
        dedupe_key = f"{event}:{key}:{user.id}"[:200]
        seen = session.scalar(select(MailDelivery.id).where(MailDelivery.dedupe_key == dedupe_key))
        if seen is not None:
            continue
        session.add(
            MailDelivery(
                user_id=user.id,
                event=event,
                dedupe_key=dedupe_key,
                instance_id=instance_id,
                context=dict(context),
                to_addr=user.email or "",
                state=MailState.PENDING,
            )
        )
        queued += 1
    if queued:
        session.flush()
    return queued


# ---------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None = None


def render(event: str, locale: str, context: Mapping[str, Any], base_url: str) -> Rendered:
    """Subject and body of one mail in `locale` (zh_CN or en)."""
    lang = locale if locale in LOCALES else "zh_CN"
    link = str(context.get("link") or "")
    kind = str(context.get("kind") or "")
    values = {
        "instance_id": None,
        "task_name": "",
        "outcome_label": "",
        "due": "",
        "material_name": "",
        "notice": "",
        "text": "",
        "serial": "",
        **context,
        "lane_label": LANES[lang].get(str(context.get("lane") or ""), context.get("lane") or ""),
        "kind_label": (DOCUMENT_KINDS_EN.get(kind) if lang == "en" else None)
        or context.get("kind_label")
        or kind,
        "url": base_url.rstrip("/") + link if link.startswith("/") else link or base_url,
    }
    if lang == "en":  # a stored Chinese outcome label, in English (app context: the worker)
        with force_locale("en"):
            values["outcome_label"] = translate_stored(values["outcome_label"])
    text = _env.get_template(f"{event}.{lang}.txt").render(values)
    subject, _, body = text.strip().partition("\n")
    try:
        html: str | None = _env.get_template(f"{event}.{lang}.html").render(values)
    except jinja2.TemplateNotFound:
        html = None
    return Rendered(subject=" ".join(subject.split())[:300], text=body.strip() + "\n", html=html)


def _domain(mail_from: str) -> str:
    return parseaddr(mail_from)[1].rpartition("@")[2] or "creditflow.local"


def build_message(row: MailDelivery, rendered: Rendered, settings: MailSettings) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = settings.mail_from
    message["To"] = row.to_addr
    message["Date"] = format_datetime(row.created_at)
    stamp = int(row.created_at.timestamp())
    message["Message-ID"] = f"<mail-{row.id}.{stamp}@{_domain(settings.mail_from)}>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-CreditFlow-Event"] = row.event
    message.set_content(rendered.text, charset="utf-8")
    if rendered.html:
        message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return message


# ---------------------------------------------------------------- delivering


class _Permanent(Exception):
    """The server refused for good (5xx on the recipient or the content)."""


def _connect(settings: MailSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.use_ssl:
        smtp = smtplib.SMTP_SSL(
            settings.host or "", settings.port, timeout=settings.timeout_s, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host or "", settings.port, timeout=settings.timeout_s)
    try:
        if settings.starttls and not settings.use_ssl:
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password or "")
    except BaseException:
        _close(smtp)
        raise
    return smtp


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _send(smtp: smtplib.SMTP, message: EmailMessage) -> None:
    try:
        smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            raise _Permanent(f"recipient refused: {exc.recipients}") from exc
        raise
    except smtplib.SMTPDataError as exc:
        if exc.smtp_code >= 500:
            raise _Permanent(f"message refused: {exc.smtp_code} {exc.smtp_error!r}") from exc
        raise


def next_delay(attempts: int, backoff_s: float) -> float:
    """Seconds until the next attempt after `attempts` failures (jittered, capped)."""
    base = backoff_s * (2 ** max(attempts - 1, 0))
    return min(base * random.uniform(1.0, 1.25), BACKOFF_CAP_S)


def _failed(row: MailDelivery, error: BaseException, settings: MailSettings, now: datetime) -> None:
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    if row.attempts >= settings.max_attempts:
        row.state = MailState.DEAD
        logger.warning("mail %s dead after %s attempts: %s", row.id, row.attempts, row.last_error)
    else:
        row.next_attempt_at = now + timedelta(seconds=next_delay(row.attempts, settings.backoff_s))


class _Connection:
    """One SMTP connection per round, opened at the first mail; unreachable → fail fast."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None
        self.unreachable: BaseException | None = None

    def get(self) -> smtplib.SMTP:
        if self.smtp is None:
            if self.unreachable is not None:
                raise self.unreachable
            try:
                self.smtp = _connect(self.settings)
            except (OSError, smtplib.SMTPException) as exc:
                host, port = self.settings.host, self.settings.port
                logger.warning("SMTP server %s:%s unreachable: %s", host, port, exc)
                self.unreachable = exc
                raise
        return self.smtp

    def drop(self) -> None:
        _close(self.smtp)
        self.smtp = None

    def close(self) -> None:
        self.drop()


def _deliver_one(
    session: Session, row: MailDelivery, cfg: MailSettings, now: datetime, conn: _Connection
) -> bool:
    """Try one mail; True when the server accepted it."""
    user = session.get(User, row.user_id)
    if user is None or not wants(user, row.event):
        row.state, row.last_error = MailState.DISCARDED, "recipient opted out"
        return False
    row.to_addr = user.email or ""
    try:
        rendered = render(row.event, locale_of(user), row.context or {}, cfg.base_url)
        message = build_message(row, rendered, cfg)
    except Exception as exc:  # noqa: BLE001 - a broken template must not block the others
        logger.exception("mail %s (%s) could not be rendered", row.id, row.event)
        row.attempts += 1
        row.state, row.last_error = MailState.DEAD, f"{type(exc).__name__}: {exc}"[:2000]
        return False
    row.subject = rendered.subject
    try:
        _send(conn.get(), message)
    except _Permanent as exc:
        row.attempts += 1
        row.state, row.last_error = MailState.DEAD, str(exc)[:2000]
        logger.warning("mail %s refused for good: %s", row.id, exc)
        return False
    except (OSError, smtplib.SMTPException) as exc:
        _failed(row, exc, cfg, now)
        answered = smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused
        if conn.smtp is not None and not isinstance(exc, answered):
            conn.drop()  # the connection is in an unknown state: reconnect for the next mail
        return False
    row.attempts += 1
    row.state, row.sent_at, row.last_error = MailState.SENT, now, None
    return True


def deliver_mail(
    session: Session,
    settings: MailSettings | Mapping[str, Any],
    *,
    now: datetime | None = None,
    limit: int = 50,
) -> int:
    """Send the due mails (one SMTP connection per round); returns how many were sent.

    `settings` is a `MailSettings` or the app config. Call inside a transaction.
    """
    cfg = settings if isinstance(settings, MailSettings) else MailSettings.from_config(settings)
    if not cfg.host:
        return 0
    now = now or utcnow()
    rows = session.scalars(
        select(MailDelivery)
        .where(MailDelivery.state == MailState.PENDING, MailDelivery.next_attempt_at <= now)
        .order_by(MailDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    conn = _Connection(cfg)
    try:
        for row in rows:
            sent += _deliver_one(session, row, cfg, now, conn)
            session.flush()
    finally:
        conn.close()
    if sent:
        logger.info("mail: %s sent", sent)
    return sent
