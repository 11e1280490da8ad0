"""Outbound platform notifications: the `platform` outbox fanned out into signed webhooks.

Flow: a process or service adds a `platform` OutboxEvent (`platform.push` handler, `emit`);
the worker's `fan_out` turns each pending row into one `WebhookDelivery` per active endpoint
subscribed to the event (and serving the row's platform target), then `deliver_due` POSTs
the due deliveries.

Guarantees and choices:
- At least once: a delivery is marked delivered only after a 2xx answer, in the same
  transaction; a crash after sending re-sends it with the same id (= Idempotency-Key).
- Retries: a failure (non-2xx, timeout, refused connection, redirect) schedules the next
  attempt `WEBHOOK_BACKOFF_S × 2^(attempts-1)` seconds later (×1–1.25 jitter, capped at
  BACKOFF_CAP); after `WEBHOOK_MAX_ATTEMPTS` attempts the delivery is `dead`.
- Order per subject: a delivery of an endpoint and subject is not attempted while an earlier
  one (by outbox order) of the same endpoint and subject is still `pending`, including one
  waiting for its next retry. `dead`, `discarded` and `delivered` ones do not block: a
  poisoned event must not stop a subject's later news for ever; the dead letter stays visible
  to admins, and once retried it is pending again and blocks the later ones until delivered.
  Deliveries without a subject are not ordered.
- Several platform targets of one push (e.g. creditchina + gsxt) reaching the same endpoint
  are delivered once (`dedupe_key`).
- Deliveries of a deactivated endpoint wait (pending) until it is active again or discarded.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import random
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from app.models import (
    DeliveryState,
    OutboxEvent,
    User,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.models.base import utcnow
from app.services import audit
from app.services.errors import ConflictError, InvalidInputError, NotFoundError

logger = logging.getLogger(__name__)

# Event name → 中文 label. The first seven are the contract's; the record_* ones are what the
# objection process pushes when it corrects, deletes or un-flags a record.
EVENTS: dict[str, Any] = {
    "repair_approved": _l("信用修复通过"),
    "record_flagged": _l("信用信息异议标注"),
    "record_corrected": _l("信用信息更正"),
    "record_deleted": _l("信用信息删除"),
    "record_flag_cleared": _l("异议标注撤销"),
    "objection_decided": _l("异议处理决定"),
    "breach_recorded": _l("违诺失信记录"),
    "commitment_recorded": _l("信用承诺记录"),
    "document_issued": _l("文书出具"),
    "records_imported": _l("信用记录导入"),
}
# Platform keys used by `platform.push` targets.
TARGETS: dict[str, Any] = {
    "creditchina": _l("信用中国"),
    "gsxt": _l("国家企业信用信息公示系统"),
    "local_platform": _l("地方信用平台"),
    "credit_agencies": _l("信用服务机构"),
}
BACKOFF_CAP_S = 6 * 3600
USER_AGENT = "CreditFlow-Webhook/1"
_INTERNAL_KEYS = ("target", "subject_uscc", "in_app")

# (url, body bytes, headers, timeout seconds) → HTTP status; raises OSError when unreachable.
Sender = Callable[[str, bytes, Mapping[str, str], float], int]


@dataclass(frozen=True)
class Settings:
    max_attempts: int = 8
    timeout_s: float = 5.0
    backoff_s: float = 30.0
    default_secret: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            max_attempts=int(config.get("WEBHOOK_MAX_ATTEMPTS", 8)),
            timeout_s=float(config.get("WEBHOOK_TIMEOUT_S", 5)),
            backoff_s=float(config.get("WEBHOOK_BACKOFF_S", 30)),
            default_secret=str(config.get("WEBHOOK_SECRET") or ""),
        )


# ---------------------------------------------------------------- producing events


def emit(
    session: Session,
    event: str,
    subject_uscc: str | None,
    data: Mapping[str, Any],
    *,
    instance_id: int | None = None,
) -> OutboxEvent:
    """Queue one platform event (delivered by the worker to every subscribed endpoint).

    `data` becomes the delivery body's `data` (JSON-serialisable; dates are turned into ISO
    strings). Call it inside the transaction that makes the fact true.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown platform event {event!r}")
    payload = json.loads(json.dumps(dict(data), ensure_ascii=False, default=_json_default))
    row = OutboxEvent(
        instance_id=instance_id,
        kind="platform",
        name=event,
        payload={**payload, "subject_uscc": subject_uscc},
    )
    session.add(row)
    session.flush()
    return row


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------- fan-out


def _dedupe_key(row: OutboxEvent, data: Mapping[str, Any], subject_uscc: str | None) -> str:
    if "target" not in (row.payload or {}):
        return f"outbox:{row.id}"
    canon = json.dumps(
        [row.name, row.instance_id, subject_uscc, data],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def _serves(endpoint: WebhookEndpoint, event: str, target: str | None) -> bool:
    if event not in (endpoint.events or []):
        return False
    return not endpoint.targets or target is None or target in endpoint.targets


def fan_out(session: Session, *, now: datetime | None = None, limit: int = 200) -> int:
    """Turn pending `platform` outbox rows into deliveries; returns the deliveries created."""
    now = now or utcnow()
    rows = session.scalars(
        select(OutboxEvent)
        .where(
            OutboxEvent.kind == "platform",
            OutboxEvent.state == "pending",
            OutboxEvent.available_at <= now,
        )
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return 0
    endpoints = session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id)
    ).all()
    created = 0
    for row in rows:
        payload = dict(row.payload or {})
        target = payload.get("target")
        subject_uscc = payload.get("subject_uscc")
        data = {k: v for k, v in payload.items() if k not in _INTERNAL_KEYS}
        key = _dedupe_key(row, data, subject_uscc)
        for endpoint in endpoints:
            if not _serves(endpoint, row.name, target):
                continue
            seen = session.scalar(
                select(WebhookDelivery.id).where(
                    WebhookDelivery.endpoint_id == endpoint.id,
                    WebhookDelivery.dedupe_key == key,
                )
            )
            if seen is not None:
                continue
            delivery_id = str(uuid.uuid4())
            session.add(
                WebhookDelivery(
                    id=delivery_id,
                    endpoint_id=endpoint.id,
                    outbox_event_id=row.id,
                    created_seq=row.id,
                    dedupe_key=key,
                    event=row.name,
                    subject_uscc=subject_uscc,
                    body={
                        "id": delivery_id,
                        "event": row.name,
                        "occurred_at": row.created_at.isoformat(),
                        "subject_uscc": subject_uscc,
                        "data": data,
                    },
                    state=DeliveryState.PENDING,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            session.flush()
            created += 1
        row.state, row.done_at = "done", now
    session.flush()
    return created


# ---------------------------------------------------------------- delivering


def sign(secret: str, timestamp: int, raw_body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, the signature header value."""
    message = f"{timestamp}.".encode() + raw_body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def encode_body(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def build_request(
    delivery: WebhookDelivery, secret: str, now: datetime
) -> tuple[bytes, dict[str, str]]:
    raw = encode_body(delivery.body)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-CreditFlow-Event": delivery.event,
        "X-CreditFlow-Delivery": delivery.id,
        "Idempotency-Key": delivery.id,
        "X-CreditFlow-Timestamp": str(timestamp),
        "X-CreditFlow-Signature": sign(secret, timestamp, raw),
    }
    return raw, headers


def http_post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
    """POST with the standard library; the status code. Redirects are not followed."""
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=dict(headers))
        response = connection.getresponse()
        response.read(65536)
        return int(response.status)
    finally:
        connection.close()


def backoff(attempts: int, base_s: float, rng: random.Random | None = None) -> timedelta:
    """Delay before attempt `attempts + 1`: base × 2^(attempts-1), ×1–1.25 jitter, capped."""
    delay = min(base_s * (2 ** max(attempts - 1, 0)), BACKOFF_CAP_S)
    jitter = (rng or random).uniform(1.0, 1.25)
    return timedelta(seconds=min(delay * jitter, BACKOFF_CAP_S))


def secret_for(endpoint: WebhookEndpoint, settings: Settings) -> str:
    return endpoint.secret or settings.default_secret


def deliver_due(
    session: Session,
    settings: Settings,
    *,
    now: datetime | None = None,
    send: Sender | None = None,
    rng: random.Random | None = None,
    limit: int = 20,
) -> dict[str, int]:
    """Attempt the due deliveries (order per endpoint and subject kept); counts by outcome."""
    now = now or utcnow()
    send = send or http_post
    earlier = aliased(WebhookDelivery)
    blocked_by_earlier = exists().where(
        and_(
            earlier.endpoint_id == WebhookDelivery.endpoint_id,
            earlier.subject_uscc == WebhookDelivery.subject_uscc,
            earlier.state == DeliveryState.PENDING,
            earlier.created_seq < WebhookDelivery.created_seq,
        )
    )
    query = (
        select(WebhookDelivery)
        .join(WebhookDelivery.endpoint)
        .where(
            WebhookDelivery.state == DeliveryState.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            WebhookEndpoint.active.is_(True),
            ~blocked_by_earlier,
        )
        .order_by(WebhookDelivery.created_seq, WebhookDelivery.id)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    counts = {"delivered": 0, "failed": 0, "dead": 0}
    budget = limit
    # Passes: a delivery that succeeds (or dies) unblocks the next one of its subject, which
    # is then sent in the same call; a failure keeps the rest of its subject waiting.
    while budget > 0:
        due = session.scalars(query.limit(budget)).all()
        progressed = False
        blocked: set[tuple[int, str]] = set()
        for delivery in due:
            group = (delivery.endpoint_id, delivery.subject_uscc or "")
            if delivery.subject_uscc and group in blocked:
                continue
            outcome = attempt(session, delivery, settings, now=now, send=send, rng=rng)
            counts[outcome] += 1
            budget -= 1
            if outcome == "failed":
                blocked.add(group)
            else:
                progressed = True
        if not progressed or not due:
            break
    return counts


def attempt(
    session: Session,
    delivery: WebhookDelivery,
    settings: Settings,
    *,
    now: datetime,
    send: Sender,
    rng: random.Random | None = None,
) -> str:
    """One POST of one delivery; returns delivered | failed | dead."""
    raw, headers = build_request(delivery, secret_for(delivery.endpoint, settings), now)
    status: int | None = None
    error: str | None = None
    try:
        status = send(delivery.endpoint.url, raw, headers, settings.timeout_s)
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except Exception as exc:  # noqa: BLE001 - any transport failure is retried later
        error = f"{type(exc).__name__}: {exc}"[:2000]
    delivery.attempts += 1
    delivery.last_status = status
    if error is None:
        delivery.state, delivery.delivered_at, delivery.last_error = (
            DeliveryState.DELIVERED,
            now,
            None,
        )
        session.flush()
        return "delivered"
    delivery.last_error = error
    if delivery.attempts >= settings.max_attempts:
        delivery.state = DeliveryState.DEAD
        logger.warning("webhook %s to %s is dead: %s", delivery.id, delivery.endpoint.url, error)
        session.flush()
        return "dead"
    delivery.next_attempt_at = now + backoff(delivery.attempts, settings.backoff_s, rng)
    session.flush()
    return "failed"


def run(
    session: Session,
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
    send: Sender | None = None,
) -> int:
    """The worker step: fan out the outbox, then deliver what is due; deliveries made."""
    now = now or utcnow()
    fan_out(session, now=now)
    return deliver_due(session, Settings.from_config(config), now=now, send=send)["delivered"]


# ---------------------------------------------------------------- admin operations


def _delivery(session: Session, delivery_id: str) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, str(delivery_id))
    if delivery is None:
        raise NotFoundError(_("投递记录不存在。"))
    return delivery


def retry(
    session: Session, delivery_id: str, actor: User, *, now: datetime | None = None
) -> WebhookDelivery:
    """Dead or discarded → pending now, with a fresh attempt budget; pending → due now."""
    now = now or utcnow()
    delivery = _delivery(session, delivery_id)
    if delivery.state == DeliveryState.DELIVERED:
        raise ConflictError(_("该投递已送达，无需重试。"))
    before = {"state": delivery.state, "attempts": delivery.attempts}
    if delivery.state != DeliveryState.PENDING:
        delivery.attempts = 0
    delivery.state, delivery.next_attempt_at = DeliveryState.PENDING, now
    audit.record(
        session,
        "webhook.delivery_retried",
        actor=actor,
        object_type="webhook_delivery",
        object_id=delivery.id,
        details={"before": before, "event": delivery.event, "endpoint_id": delivery.endpoint_id},
    )
    session.flush()
    return delivery


def discard(session: Session, delivery_id: str, actor: User) -> WebhookDelivery:
    """Pending or dead → discarded (never sent again unless retried)."""
    delivery = _delivery(session, delivery_id)
    if delivery.state not in (DeliveryState.PENDING, DeliveryState.DEAD):
        raise ConflictError(_("只能放弃待投递或死信状态的投递。"))
    before = delivery.state
    delivery.state = DeliveryState.DISCARDED
    audit.record(
        session,
        "webhook.delivery_discarded",
        actor=actor,
        object_type="webhook_delivery",
        object_id=delivery.id,
        details={"before": before, "event": delivery.event, "endpoint_id": delivery.endpoint_id},
    )
    session.flush()
    return delivery


# ---------------------------------------------------------------- endpoints


SECRET_MODES = ("generate", "system", "custom", "keep")


def validate_url(url: str) -> list[str]:
    """Problems with an endpoint URL (http/https only, a host, no credentials)."""
    problems: list[str] = []
    if not url:
        return [_("请填写接收地址。")]
    if len(url) > 1000:
        return [_("接收地址过长（最多 1000 个字符）。")]
    if any(ch.isspace() for ch in url):
        return [_("接收地址不能包含空白字符。")]
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return [_("接收地址格式不正确。")]
    if parts.scheme not in ("http", "https"):
        problems.append(_("接收地址只能使用 http 或 https。"))
    if not host:
        problems.append(_("接收地址缺少主机名。"))
    if parts.username is not None or parts.password is not None:
        problems.append(_("接收地址不能包含用户名或密码，请使用签名密钥认证。"))
    if parts.fragment:
        problems.append(_("接收地址不能包含 # 片段。"))
    return problems


def _clean(
    *,
    name: Any,
    url: Any,
    events: Any,
    targets: Any,
    secret_mode: Any,
    secret: Any,
    creating: bool,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    fields: dict[str, list[str]] = {}
    name = str(name or "").strip()
    if not name:
        fields["name"] = [_("请填写名称。")]
    elif len(name) > 128:
        fields["name"] = [_("名称最多 128 个字符。")]
    url = str(url or "").strip()
    if problems := validate_url(url):
        fields["url"] = problems
    events = [str(e) for e in (events or [])]
    if not events:
        fields["events"] = [_("请至少选择一个事件。")]
    elif unknown := [e for e in events if e not in EVENTS]:
        fields["events"] = [_("未知事件：%(events)s", events="、".join(unknown))]
    targets = [str(t) for t in (targets or [])]
    if unknown := [t for t in targets if t not in TARGETS]:
        fields["targets"] = [_("未知平台：%(targets)s", targets="、".join(unknown))]
    mode = str(secret_mode or ("generate" if creating else "keep"))
    secret = str(secret or "").strip()
    if mode not in SECRET_MODES or (creating and mode == "keep"):
        fields["secret_mode"] = [_("请选择签名密钥的设置方式。")]
    elif mode == "custom" and not 16 <= len(secret) <= 200:
        fields["secret"] = [_("自定义密钥长度须为 16–200 个字符。")]
    clean = {
        "name": name,
        "url": url,
        "events": list(dict.fromkeys(events)),
        "targets": list(dict.fromkeys(targets)),
        "secret_mode": mode,
        "secret": secret,
    }
    return clean, fields


def _apply_secret(endpoint: WebhookEndpoint, mode: str, secret: str) -> str | None:
    """Set the endpoint's secret; the generated value (to show once) or None."""
    if mode == "generate":
        endpoint.secret = "whsec_" + secrets.token_urlsafe(32)
        return endpoint.secret
    if mode == "system":
        endpoint.secret = None
    elif mode == "custom":
        endpoint.secret = secret
    return None


def mask(secret: str | None) -> str:
    if not secret:
        return _("系统密钥（WEBHOOK_SECRET）")
    return f"{secret[:8]}…{secret[-4:]}" if len(secret) > 16 else "****"


def _describe(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "name": endpoint.name,
        "url": endpoint.url,
        "events": list(endpoint.events or []),
        "targets": list(endpoint.targets or []),
        "active": endpoint.active,
        "secret": "system" if endpoint.secret is None else "own",
    }


def create_endpoint(
    session: Session,
    actor: User,
    *,
    name: Any,
    url: Any,
    events: Any,
    targets: Any = None,
    secret_mode: Any = "generate",
    secret: Any = None,
    active: bool = True,
) -> tuple[WebhookEndpoint, str | None]:
    """A new endpoint; returns it and its generated secret (shown once) if one was made."""
    clean, fields = _clean(
        name=name,
        url=url,
        events=events,
        targets=targets,
        secret_mode=secret_mode,
        secret=secret,
        creating=True,
    )
    if fields:
        raise InvalidInputError(_("接收端设置未通过校验。"), fields)
    endpoint = WebhookEndpoint(
        name=clean["name"],
        url=clean["url"],
        events=clean["events"],
        targets=clean["targets"],
        active=bool(active),
        created_by_id=actor.id,
    )
    shown = _apply_secret(endpoint, clean["secret_mode"], clean["secret"])
    session.add(endpoint)
    session.flush()
    audit.record(
        session,
        "webhook.endpoint_created",
        actor=actor,
        object_type="webhook_endpoint",
        object_id=str(endpoint.id),
        details=_describe(endpoint),
    )
    return endpoint, shown


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFoundError(_("接收端不存在。"))
    return endpoint


def update_endpoint(
    session: Session,
    actor: User,
    endpoint_id: int,
    *,
    name: Any,
    url: Any,
    events: Any,
    targets: Any = None,
    secret_mode: Any = "keep",
    secret: Any = None,
    active: bool = True,
) -> tuple[WebhookEndpoint, str | None]:
    """Edit an endpoint (pending deliveries keep their bodies and go to the new URL)."""
    endpoint = get_endpoint(session, endpoint_id)
    clean, fields = _clean(
        name=name,
        url=url,
        events=events,
        targets=targets,
        secret_mode=secret_mode,
        secret=secret,
        creating=False,
    )
    if fields:
        raise InvalidInputError(_("接收端设置未通过校验。"), fields)
    before = _describe(endpoint)
    endpoint.name, endpoint.url = clean["name"], clean["url"]
    endpoint.events, endpoint.targets = clean["events"], clean["targets"]
    endpoint.active = bool(active)
    shown = _apply_secret(endpoint, clean["secret_mode"], clean["secret"])
    session.flush()
    audit.record(
        session,
        "webhook.endpoint_updated",
        actor=actor,
        object_type="webhook_endpoint",
        object_id=str(endpoint.id),
        details={
            "before": before,
            "after": _describe(endpoint),
            "secret_changed": clean["secret_mode"] != "keep",
        },
    )
    return endpoint, shown


def set_active(session: Session, actor: User, endpoint_id: int, active: bool) -> WebhookEndpoint:
    endpoint = get_endpoint(session, endpoint_id)
    if endpoint.active != active:
        endpoint.active = active
        audit.record(
            session,
            "webhook.endpoint_activated" if active else "webhook.endpoint_deactivated",
            actor=actor,
            object_type="webhook_endpoint",
            object_id=str(endpoint.id),
            details={"name": endpoint.name},
        )
        session.flush()
    return endpoint
