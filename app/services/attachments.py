"""Uploaded materials: type checked by content, stored content-addressed, written atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Attachment, ProcessInstance, Role, User
from app.services import audit
from app.services.errors import InvalidInputError, NotAllowedError, ServiceError

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
CHUNK = 64 * 1024


class TooLargeError(ServiceError):
    status = 413
    code = "too_large"


class UnsupportedTypeError(ServiceError):
    status = 415
    code = "unsupported_type"


def sniff(head: bytes) -> str | None:
    """The content type recognised from the first bytes, or None."""
    return next((ctype for magic, ctype in SIGNATURES if head.startswith(magic)), None)


def _path(storage_dir: Path, sha256: str) -> Path:
    return storage_dir / sha256[:2] / sha256[2:4] / sha256


def store_stream(stream: BinaryIO, storage_dir: Path, max_bytes: int) -> tuple[str, int, str]:
    """Copy to a temp file while hashing; check type and size; move into place atomically."""
    storage_dir.mkdir(parents=True, exist_ok=True)
    digest, size, head = hashlib.sha256(), 0, b""
    fd, tmp_name = tempfile.mkstemp(dir=storage_dir, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                if not head:
                    head = chunk[:16]
                size += len(chunk)
                if size > max_bytes:
                    raise TooLargeError(
                        _(
                            "文件超过 %(mb)s MB 上限，请压缩后重新上传。",
                            mb=max_bytes // (1024 * 1024),
                        )
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        ctype = sniff(head)
        if size == 0:
            raise InvalidInputError(_("文件为空。"), {"file": [_("文件为空，请重新选择。")]})
        if ctype is None:
            raise UnsupportedTypeError(_("仅支持 PDF、PNG、JPEG 格式的材料（按文件内容识别）。"))
        sha = digest.hexdigest()
        target = _path(storage_dir, sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_name, target)
        return sha, size, ctype
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def add_attachment(
    session: Session,
    instance: ProcessInstance,
    actor: User,
    *,
    kind: str,
    filename: str,
    stream: BinaryIO,
    storage_dir: Path,
    max_bytes: int,
) -> Attachment:
    """Store an uploaded material on an instance the actor participates in."""
    if actor.role == Role.ENTERPRISE and instance.subject_id != actor.subject_id:
        raise NotAllowedError(_("只能向本企业的办件上传材料。"))
    kind = (kind or "").strip()
    if not kind or len(kind) > 64:
        raise InvalidInputError(
            _("请注明材料类型。"), {"kind": [_("请填写材料类型（64 字以内）。")]}
        )
    sha, size, ctype = store_stream(stream, storage_dir, max_bytes)
    attachment = Attachment(
        instance_id=instance.id,
        kind=kind,
        sha256=sha,
        size=size,
        content_type=ctype,
        original_name=Path(filename or "file").name[:255],
        uploaded_by_id=actor.id,
    )
    session.add(attachment)
    session.flush()
    audit.record(
        session,
        "attachment.uploaded",
        actor=actor,
        object_type="process_instance",
        object_id=str(instance.id),
        details={"kind": kind, "sha256": sha, "size": size},
    )
    return attachment


def list_attachments(session: Session, instance_id: int) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment).where(Attachment.instance_id == instance_id).order_by(Attachment.id)
        )
    )


def attachment_dict(a: Attachment) -> dict[str, object]:
    return {
        "id": a.id,
        "sha256": a.sha256,
        "size": a.size,
        "kind": a.kind,
        "content_type": a.content_type,
        "name": a.original_name,
        "created_at": a.created_at.isoformat(),
    }
