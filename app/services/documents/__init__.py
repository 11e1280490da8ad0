"""Official documents: serial numbers, rendering, signing, content-addressed storage, checks.

A document is requested as an `OutboxEvent(kind="document", name=<kind>, payload=<context>)`;
the worker calls `process_document_outbox`, which issues each one through `issue_document`.
Issued documents are immutable: reissuing supersedes the old serial, revoking marks it revoked.
"""

from __future__ import annotations

from app.services.documents.access import (  # noqa: F401
    download_name,
    for_instance,
    matches,
    open_for,
    revoke,
    revoke_for_instance,
    verify,
)
from app.services.documents.common import (  # noqa: F401
    file_path,
    next_seq,
    serial_path,
)
from app.services.documents.issue import (  # noqa: F401
    issue_document,
    process_document_outbox,
    request_commitment_document,
    worker_settings,
)
