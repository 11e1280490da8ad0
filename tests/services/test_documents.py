"""Issuing documents: serials, context, storage, outbox processing, reissue, revoke, checks.

Most tests inject a fake renderer and signer (the seam); `test_real_document_end_to_end`
issues through the real WeasyPrint renderer and pyHanko signer.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock
from app.models import (
    Commitment,
    Document,
    DocumentCounter,
    OutboxEvent,
    ProcessInstance,
    Subject,
)
from app.services import commitments, documents
from tests.engine_fixtures import user
from tests.scenarios.test_credit_repair import NOW, _files, accept, decide, start, submit

BASE = "https://creditflow.example"
CHENGXI = "91310114MA1GT8QX92"
KEY = object()  # the fake signer ignores the key


def fake_render(kind: str, context: dict[str, Any]) -> bytes:
    keys = ("serial", "title", "subject_name", "subject_uscc", "legal_basis", "verify_url")
    shown = {k: context[k] for k in keys} | {"issued_on": context["issued_on"].isoformat()}
    return b"%PDF-1.7\n% fake\n" + json.dumps(shown, ensure_ascii=False).encode() + b"\n%%EOF\n"


def fake_sign(pdf: bytes, key: object) -> bytes:
    return pdf + b"% signed\n"


def fake_qr(url: str) -> str:
    return f"<svg data-url='{url}'/>"


FAKES: dict[str, Any] = {"renderer": fake_render, "signer": fake_sign, "qr": fake_qr}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture()
def storage(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture()
def repair(seeded: Session) -> Session:
    from app.services.definitions import deploy_bundle

    deploy_bundle(seeded, _files())
    seeded.commit()
    return seeded


@pytest.fixture()
def decided(repair: Session, app: Flask) -> ProcessInstance:
    """A credit_repair instance driven to its decision (SAMR approves the one record)."""
    instance = start(repair, "samr-general")
    submit(repair, app, instance, "samr-general")
    accept(repair, instance)
    decide(repair, instance, "samr", {"decision": "approve", "opinion": "已履行"})
    return instance


@pytest.fixture()
def other_instance(repair: Session) -> ProcessInstance:
    """A finished instance (refused at once) to hang directly created requests on."""
    return start(repair, "samr-serious")


def process(session: Session, storage: Path, **overrides: Any) -> int:
    kwargs = {**FAKES, **overrides}
    return documents.process_document_outbox(
        session, storage_dir=storage, base_url=BASE, key=KEY, **kwargs
    )


def issue(session: Session, storage: Path, instance_id: int | None, kind: str, **kw: Any) -> Any:
    return documents.issue_document(
        session,
        kind=kind,
        instance_id=instance_id,
        context=kw.pop("context", {}),
        storage_dir=storage,
        base_url=BASE,
        key=KEY,
        **FAKES,
        **kw,
    )


def request(session: Session, instance: ProcessInstance, kind: str, **payload: Any) -> OutboxEvent:
    row = OutboxEvent(instance_id=instance.id, kind="document", name=kind, payload=payload)
    session.add(row)
    session.flush()
    return row


def test_repair_decision_issued_from_the_workflow_request(
    repair: Session, decided: ProcessInstance, storage: Path
) -> None:
    (row,) = repair.scalars(
        select(OutboxEvent).where(
            OutboxEvent.instance_id == decided.id,
            OutboxEvent.kind == "document",
            OutboxEvent.name != "commitment",  # the signed repair commitment has its own
        )
    ).all()
    assert row.name == "repair_decision" and row.state == "pending"
    assert [d["status"] for d in documents.for_instance(repair, decided.id)] == [
        "preparing",
        "preparing",
    ]

    assert process(repair, storage) == 2  # the 信用承诺书 and the decision
    assert row.state == "done" and row.done_at is not None
    doc = repair.scalar(
        select(Document).where(
            Document.instance_id == decided.id, Document.kind == "repair_decision"
        )
    )
    assert doc.serial == "信修决〔2026〕1号" and (doc.year, doc.seq) == (2026, 1)
    ctx = doc.context
    assert ctx["subject_name"] == "上海澄溪示例食品有限公司" and ctx["subject_uscc"] == CHENGXI
    assert ctx["department_name"] == "上海市嘉定区市场监督管理局"
    assert "市场监管总局令第107号" in ctx["legal_basis"]
    assert ctx["outcome"] == "approved" and ctx["records"][0]["result"] == "准予修复"
    assert ctx["issued_on"] == "2026-11-20" and ctx["title"] == "信用修复决定书"
    assert ctx["verify_url"] == BASE + "/verify/" + documents.serial_path(doc.serial)
    stored = documents.file_path(storage, doc.sha256).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == doc.sha256 and len(stored) == doc.size
    assert stored.endswith(b"% signed\n")  # exactly the signed bytes
    assert doc.serial in stored.decode()
    listed = [
        d for d in documents.for_instance(repair, decided.id) if d["kind"] == "repair_decision"
    ]
    assert listed == [
        {
            "kind": "repair_decision",
            "title": "信用修复决定书",
            "serial": doc.serial,
            "status": "valid",
            "status_label": "有效",
            "url": "/documents/" + documents.serial_path(doc.serial) + "/download",
            "verify_url": "/verify/" + documents.serial_path(doc.serial),
        }
    ]


BASES = {
    "rongque_notice": "国办发〔2019〕35号",
    "notify_commit_decision": "国办发〔2020〕42号",
    "objection_result": "上海市社会信用条例",
    "breach_notice": "国办发〔2020〕42号",
    "commitment": "国办发〔2019〕35号",
}


def request_other_kinds(session: Session, instance: ProcessInstance) -> None:
    """One request of every kind but repair_decision, shaped like the workflows' payloads."""
    subject = session.scalar(select(Subject).where(Subject.uscc == CHENGXI))
    signed = {
        kind: commitments.sign(
            session,
            kind=kind,
            subject=subject,
            text=f"本企业承诺（{kind}）……",
            signer_name="王某某",
            signed_by=user(session, "ent_chengxi"),
            instance_id=instance.id,
        )
        for kind in ("notify_commit", "rongque")
    }
    request(
        session,
        instance,
        "rongque_notice",
        matter_name="食品经营许可",
        authority="上海市嘉定区市场监督管理局",
        materials=[{"name": "卫生检测报告", "days": 20, "due_on": "2026-12-18"}],
        consequences="逾期未补齐的，终止办理。",
    )
    request(
        session,
        instance,
        "notify_commit_decision",
        matter_name="食品经营许可",
        department="samr",
        commitment_id=signed["notify_commit"].id,
        verification_due="2027-02-20",
    )
    request(
        session,
        instance,
        "objection_result",
        department="ndrc",
        outcome="correct",
        decision_no="嘉发改罚〔2026〕1号",
        violation="未按规定报送统计资料",
        reasons="经核查，原记录主体信息有误，予以更正。",
        received_at="2026-11-18T09:00:00+08:00",
    )
    request(
        session,
        instance,
        "breach_notice",
        commitment_id=signed["notify_commit"].id,
        matter_name="食品经营许可",
        facts="经现场核查，经营场所与承诺不符。",
        department_name="上海市嘉定区市场监督管理局",
    )
    documents.request_commitment_document(session, signed["rongque"])


def test_every_other_kind_issues_with_its_legal_basis(
    repair: Session, other_instance: ProcessInstance, storage: Path
) -> None:
    request_other_kinds(repair, other_instance)
    assert process(repair, storage) == 6  # 4 kinds + the two signed commitments
    issued = list(repair.scalars(select(Document)))
    assert {d.kind for d in issued} == set(BASES)
    for kind, basis in BASES.items():
        of_kind = [d for d in issued if d.kind == kind]
        assert any(basis in d.context["legal_basis"] for d in of_kind), kind
        assert all(d.context["subject_uscc"] == CHENGXI for d in of_kind)
        assert any(d.serial.endswith("〔2026〕1号") for d in of_kind)  # numbering starts at 1
    docs = {d.kind: d for d in issued if d.kind != "commitment"}
    docs["commitment"] = next(
        d
        for d in issued
        if d.kind == "commitment" and d.context.get("commitment_kind_code") == "rongque"
    )
    assert docs["rongque_notice"].serial == "容缺〔2026〕1号"
    assert docs["notify_commit_decision"].context["department_name"] == "上海市嘉定区市场监督管理局"
    assert docs["objection_result"].context["department_name"] == "上海市嘉定区发展和改革委员会"
    assert docs["commitment"].context["text"] == "本企业承诺（rongque）……"
    assert docs["commitment"].context["commitment_kind_label"] == "申请容缺受理承诺书"


def test_payload_legal_basis_wins(repair: Session, other_instance: ProcessInstance, storage: Path):
    doc = issue(
        repair,
        storage,
        other_instance.id,
        "objection_result",
        context={"legal_basis": "《深圳经济特区社会信用条例》第四十九条"},
    )
    assert doc.context["legal_basis"] == "《深圳经济特区社会信用条例》第四十九条"


def test_same_kind_and_year_get_consecutive_serials(
    repair: Session, decided: ProcessInstance, other_instance: ProcessInstance, storage: Path
) -> None:
    first = issue(repair, storage, decided.id, "repair_decision")
    second = issue(repair, storage, other_instance.id, "repair_decision")
    other_kind = issue(repair, storage, other_instance.id, "breach_notice")
    assert (first.serial, second.serial) == ("信修决〔2026〕1号", "信修决〔2026〕2号")
    assert other_kind.serial == "违诺告〔2026〕1号"
    counter = repair.get(DocumentCounter, ("repair_decision", 2026))
    assert counter.last == 2
    assert documents.next_seq(repair, "repair_decision", 2027) == 1  # a new year starts at 1


def test_issue_is_idempotent_per_instance_and_kind(
    repair: Session, other_instance: ProcessInstance, storage: Path
) -> None:
    request(repair, other_instance, "rongque_notice")
    request(repair, other_instance, "rongque_notice")  # e.g. a retried service task
    assert process(repair, storage) == 2
    first = issue(repair, storage, other_instance.id, "rongque_notice")
    docs = repair.scalars(select(Document)).all()
    assert docs == [first] and first.seq == 1


def test_reissue_supersedes_the_old_serial(
    repair: Session, other_instance: ProcessInstance, storage: Path
) -> None:
    old = issue(repair, storage, other_instance.id, "notify_commit_decision")
    new = issue(repair, storage, other_instance.id, "notify_commit_decision", reissue=True)
    assert new.serial == "告承决〔2026〕2号" and old.status == "superseded"
    assert old.superseded_by_id == new.id
    status = documents.verify(repair, old.serial)
    assert status["superseded"] and not status["valid"]
    assert status["superseded_by"] == new.serial
    assert documents.verify(repair, new.serial)["valid"]
    assert issue(repair, storage, other_instance.id, "notify_commit_decision") is new


def test_render_failure_leaves_the_request_pending(
    repair: Session, other_instance: ProcessInstance, storage: Path
) -> None:
    row = request(repair, other_instance, "breach_notice")

    def broken(kind: str, context: dict[str, Any]) -> bytes:
        raise RuntimeError("weasyprint exploded")

    assert process(repair, storage, renderer=broken) == 0
    assert row.state == "pending" and row.attempts == 1
    assert "weasyprint exploded" in row.last_error
    assert repair.scalars(select(Document)).all() == []
    assert other_instance.status == "completed"  # the workflow is untouched
    assert process(repair, storage) == 1  # retried by the next round
    assert row.state == "done" and row.last_error is None
    assert repair.scalar(select(Document)).serial == "违诺告〔2026〕1号"  # no gap


def test_unknown_kind_is_dead_not_retried(
    repair: Session, other_instance: ProcessInstance, storage: Path
) -> None:
    row = request(repair, other_instance, "no_such_document")
    assert process(repair, storage) == 0
    assert row.state == "dead" and "未知的文书类型" in row.last_error


def test_revoke_shows_on_verify(
    repair: Session, other_instance: ProcessInstance, storage: Path
) -> None:
    doc = issue(repair, storage, other_instance.id, "notify_commit_decision")
    status = documents.verify(repair, doc.serial)
    assert status["valid"] and not status["revoked"]
    assert status["subject_name_masked"] == "上海********公司"
    assert status["sha256"] == doc.sha256 and status["kind"] == "notify_commit_decision"
    revoked = documents.revoke_for_instance(
        repair, other_instance.id, "notify_commit_decision", "核查发现承诺不实，撤销审批"
    )
    assert revoked == [doc] and doc.status == "revoked" and doc.revoked_at is not None
    status = documents.verify(repair, doc.serial)
    assert status["revoked"] and not status["valid"]
    assert status["revoke_reason"] == "核查发现承诺不实，撤销审批"
    assert documents.revoke(repair, doc.serial, "again", None) is doc  # idempotent
    assert documents.verify(repair, "信修决〔2026〕999号") == {
        "valid": False,
        "found": False,
        "serial": "信修决〔2026〕999号",
    }


def test_revoking_before_the_worker_ran_revokes_on_issue(
    repair: Session, other_instance: ProcessInstance, storage: Path
) -> None:
    row = request(repair, other_instance, "notify_commit_decision", department="samr")
    assert documents.revoke_for_instance(repair, other_instance.id, row.name, "承诺不实") == []
    assert process(repair, storage) == 1
    doc = repair.scalar(select(Document))
    assert doc.status == "revoked" and doc.revoke_reason == "承诺不实"
    assert documents.verify(repair, doc.serial)["revoked"]


def test_matches_only_the_exact_bytes(
    repair: Session, other_instance: ProcessInstance, storage: Path
) -> None:
    doc = issue(repair, storage, other_instance.id, "rongque_notice")
    original = documents.file_path(storage, doc.sha256).read_bytes()
    assert documents.matches(repair, doc.serial, original)
    changed = bytearray(original)
    changed[20] ^= 0x01
    assert not documents.matches(repair, doc.serial, bytes(changed))
    assert not documents.matches(repair, doc.serial, original + b"\n")
    assert not documents.matches(repair, "容缺〔2026〕99号", original)


def test_commitment_request_carries_the_signed_text(repair: Session) -> None:
    subject = repair.scalar(select(Subject).where(Subject.uscc == CHENGXI))
    signed = commitments.sign(
        repair,
        kind="repair",
        subject=subject,
        text="承诺内容",
        signer_name="王某某",
        signed_by=None,
    )
    row = documents.request_commitment_document(repair, signed)
    assert (row.kind, row.name, row.instance_id) == ("document", "commitment", None)
    assert row.payload["commitment_id"] == signed.id
    assert row.payload["text_sha256"] == repair.get(Commitment, signed.id).text_sha256


# --- real renderer and signer ----------------------------------------------------------------


def test_real_documents_end_to_end(
    repair: Session, decided: ProcessInstance, storage: Path, tmp_path: Path
) -> None:
    """Every kind through the outbox with the real renderer and signer."""
    from pypdf import PdfReader

    from app.pdf.signing import ensure_signing_key, verify_pdf

    key = ensure_signing_key(tmp_path / "instance")
    request_other_kinds(repair, decided)
    issued = documents.process_document_outbox(repair, storage_dir=storage, base_url=BASE, key=key)
    failed = repair.scalars(select(OutboxEvent).where(OutboxEvent.last_error.is_not(None))).all()
    assert [r.last_error for r in failed] == []
    assert issued == 8  # 5 kinds + the repair, notify-commit and 容缺 commitments
    for doc in repair.scalars(select(Document).where(Document.instance_id == decided.id)):
        data = documents.file_path(storage, doc.sha256).read_bytes()
        assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == doc.sha256
        report = verify_pdf(data, key)
        assert report.valid and report.intact, doc.kind
        assert documents.matches(repair, doc.serial, data)
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
        squeezed = "".join(text.split())
        for needle in ("上海澄溪示例食品有限公司", CHENGXI, doc.serial, doc.context["title"]):
            assert needle in squeezed, (doc.kind, needle)
