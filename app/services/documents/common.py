"""Document kinds, labels, legal bases, serial numbers and content-addressed storage."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.engine import clock
from app.i18n import N_
from app.models import (
    DocumentCounter,
    DocumentStatus,
)

logger = logging.getLogger(__name__)


Renderer = Callable[[str, dict[str, Any]], bytes]


Signer = Callable[[bytes, Any], bytes]


QrMaker = Callable[[str], str]


KINDS: dict[str, tuple[str, str]] = {
    "commitment": (N_("信用承诺书"), "信承"),
    "rongque_notice": (N_("容缺受理通知书"), "容缺"),
    "notify_commit_decision": (N_("告知承诺审批决定书"), "告承决"),
    "repair_decision": (N_("信用修复决定书"), "信修决"),
    "objection_result": (N_("异议处理结果告知书"), "异议告"),
    "breach_notice": (N_("违诺认定告知书"), "违诺告"),
}


STATUS_LABELS = {
    DocumentStatus.VALID.value: N_("有效"),
    DocumentStatus.REVOKED.value: N_("已撤销"),
    DocumentStatus.SUPERSEDED.value: N_("已被新文书替代"),
    "preparing": N_("正在制作"),
}


NOTIFY_COMMIT_BASIS = (
    "《国务院办公厅关于全面推行证明事项和涉企经营许可事项告知承诺制的指导意见》"
    "（国办发〔2020〕42号）"
)


RONGQUE_BASIS = (
    "《国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见》"
    "（国办发〔2019〕35号）"
)


NDRC_REPAIR_BASIS = "《信用修复管理办法》（国家发展改革委令2025年第36号）"


SAMR_REPAIR_BASIS = "《市场监督管理信用修复管理办法》（市场监管总局令第107号）"


OBJECTION_BASIS = "《上海市社会信用条例》第三十六条"


COMMITMENT_BASIS = {
    "notify_commit": NOTIFY_COMMIT_BASIS,
    "rongque": RONGQUE_BASIS,
    "repair": f"{NDRC_REPAIR_BASIS}；{SAMR_REPAIR_BASIS}",
}


COMMITMENT_KIND_LABELS = {
    "notify_commit": "告知承诺书",
    "rongque": "申请容缺受理承诺书",
    "repair": "信用修复承诺书",
}


RULE_SET_BASIS = {"NDRC-36": NDRC_REPAIR_BASIS, "SAMR-107": SAMR_REPAIR_BASIS}


def title_of(kind: str) -> str:
    return KINDS[kind][0] if kind in KINDS else kind


def serial_path(serial: str) -> str:
    """The serial as one URL path segment (percent-encoded UTF-8)."""
    return quote(serial, safe="")


def verify_url(base_url: str, serial: str) -> str:
    return f"{base_url.rstrip('/')}/verify/{serial_path(serial)}"


def download_url(serial: str) -> str:
    return f"/documents/{serial_path(serial)}/download"


def file_path(storage_dir: Path, sha256: str) -> Path:
    return Path(storage_dir) / sha256[:2] / sha256[2:4] / sha256


def _local_now() -> datetime:
    from app.services.host import SETTINGS

    return clock.now().astimezone(ZoneInfo(SETTINGS.timezone))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def next_seq(session: Session, kind: str, year: int) -> int:
    """Lock the (kind, year) counter row, creating it if missing, and take the next number."""
    query = (
        select(DocumentCounter)
        .where(DocumentCounter.kind == kind, DocumentCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    counter = session.scalars(query).one_or_none()
    if counter is None:
        try:
            with session.begin_nested():
                session.add(DocumentCounter(kind=kind, year=year, last=0))
        except IntegrityError:
            pass  # another transaction created it first; lock theirs below
        counter = session.scalars(query).one()
    counter.last += 1
    session.flush()
    return counter.last


def format_serial(kind: str, year: int, seq: int) -> str:
    return f"{KINDS[kind][1]}〔{year}〕{seq}号"


def store_bytes(storage_dir: Path, data: bytes) -> str:
    """Write `data` content-addressed (atomic rename); return its sha256."""
    sha = hashlib.sha256(data).hexdigest()
    target = file_path(storage_dir, sha)
    if target.is_file() and target.stat().st_size == len(data):
        return sha
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".doc-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return sha
