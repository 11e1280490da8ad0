"""The public verify page and API, the upload check, and download permissions."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.engine import clock
from app.models import Document, ProcessInstance
from app.services import documents
from tests.conftest import api_token, login
from tests.scenarios.test_credit_repair import NOW, _files, accept, decide, start, submit
from tests.services.test_documents import BASE, FAKES, KEY


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture()
def decided(seeded: Session, app: Flask) -> ProcessInstance:
    """credit_repair driven to its decision: SAMR (rev_samr) decided ent_chengxi's record."""
    from app.services.definitions import deploy_bundle

    deploy_bundle(seeded, _files())
    seeded.commit()
    instance = start(seeded, "samr-general")
    submit(seeded, app, instance, "samr-general")
    accept(seeded, instance)
    decide(seeded, instance, "samr", {"decision": "approve", "opinion": "已履行"})
    return instance


def issue(session: Session, app: Flask, instance: ProcessInstance, **kw: Any) -> Document:
    doc = documents.issue_document(
        session,
        kind="repair_decision",
        instance_id=instance.id,
        context={},
        storage_dir=app.config["STORAGE_DIR"],
        base_url=BASE,
        key=KEY,
        **FAKES,
        **kw,
    )
    session.commit()
    return doc


@pytest.fixture()
def doc(seeded: Session, app: Flask, decided: ProcessInstance) -> Document:
    return issue(seeded, app, decided)


def stored(app: Flask, doc: Document) -> bytes:
    return documents.file_path(Path(app.config["STORAGE_DIR"]), doc.sha256).read_bytes()


def page(serial: str) -> str:
    return "/verify/" + documents.serial_path(serial)


# --- verify page -----------------------------------------------------------------------------


def test_verify_page_shows_a_valid_document(client: FlaskClient, doc: Document) -> None:
    response = client.get(page(doc.serial))
    assert response.status_code == 200
    text = response.text
    assert "有效" in text and doc.serial in text and "信用修复决定书" in text
    assert "2026-11-20" in text and doc.sha256 in text
    assert "上海********公司" in text and "上海澄溪示例食品有限公司" not in text
    assert 'name="csrf_token"' in text and 'type="file"' in text


def test_verify_page_shows_revoked_and_superseded(
    client: FlaskClient, seeded: Session, app: Flask, decided: ProcessInstance, doc: Document
) -> None:
    new = issue(seeded, app, decided, reissue=True)
    text = client.get(page(doc.serial)).text
    assert "已被新文书替代" in text and new.serial in text
    documents.revoke(seeded, new.serial, "修复决定已撤销", None)
    seeded.commit()
    text = client.get(page(new.serial)).text
    assert "已撤销" in text and "修复决定已撤销" in text


def test_verify_page_unknown_serial_is_404(client: FlaskClient, seeded: Session) -> None:
    response = client.get(page("信修决〔2026〕404号"))
    assert response.status_code == 404 and "不存在" in response.text


def _csrf(text: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert match
    return match.group(1)


def upload(client: FlaskClient, serial: str, data: bytes) -> Any:
    token = _csrf(client.get(page(serial)).text)
    return client.post(
        page(serial),
        data={"csrf_token": token, "file": (io.BytesIO(data), "doc.pdf")},
        content_type="multipart/form-data",
    )


def test_upload_check_matches_exact_bytes_only(
    client: FlaskClient, app: Flask, doc: Document
) -> None:
    original = stored(app, doc)
    same = upload(client, doc.serial, original)
    assert same.status_code == 200 and "一致：" in same.text
    changed = bytearray(original)
    changed[-5] ^= 0x20
    differ = upload(client, doc.serial, bytes(changed))
    assert differ.status_code == 200 and "不一致" in differ.text


def test_upload_check_requires_csrf(client: FlaskClient, app: Flask, doc: Document) -> None:
    response = client.post(
        page(doc.serial),
        data={"file": (io.BytesIO(stored(app, doc)), "doc.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400


# --- verify API ------------------------------------------------------------------------------


def test_verify_api_needs_no_token(client: FlaskClient, seeded: Session, doc: Document) -> None:
    url = "/api/v1/verify/" + documents.serial_path(doc.serial)
    body = client.get(url).json
    assert body["valid"] is True and body["kind"] == "repair_decision"
    assert body["sha256"] == doc.sha256 and body["revoked"] is False
    assert body["superseded"] is False and body["subject_name_masked"] == "上海********公司"
    assert body["issued_at"].startswith("2026-11-20")
    documents.revoke(seeded, doc.serial, "撤销", None)
    seeded.commit()
    body = client.get(url).json
    assert body["valid"] is False and body["revoked"] is True
    unknown = client.get("/api/v1/verify/" + documents.serial_path("信修决〔2026〕404号"))
    assert unknown.status_code == 404 and unknown.json["valid"] is False


# --- downloads -------------------------------------------------------------------------------


def download(client: FlaskClient, doc: Document) -> Any:
    return client.get(f"/documents/{documents.serial_path(doc.serial)}/download")


def test_own_enterprise_downloads_with_chinese_filename(
    client: FlaskClient, app: Flask, doc: Document
) -> None:
    login(client, "ent_chengxi")
    response = download(client, doc)
    assert response.status_code == 200 and response.data == stored(app, doc)
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"信用修复决定书（{doc.serial}）.pdf" in unquote(disposition)
    response.close()


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("ent_hongqiao", 404),  # another enterprise
        ("rev_samr", 200),  # approver of the deciding department
        ("clerk_window", 200),  # the window that accepted it
        ("rev_tax", 404),  # a department that took no part
        ("owner", 200),
    ],
)
def test_download_permissions(
    client: FlaskClient, doc: Document, username: str, status: int
) -> None:
    login(client, username)
    response = download(client, doc)
    response.close()
    assert response.status_code == status


def test_download_needs_sign_in(client: FlaskClient, doc: Document) -> None:
    assert download(client, doc).status_code == 302


def test_api_download_permissions(client: FlaskClient, app: Flask, doc: Document) -> None:
    url = "/api/v1/documents/" + documents.serial_path(doc.serial)
    assert client.get(url).status_code == 401
    own = client.get(url, headers=api_token(client, "ent_chengxi"))
    assert own.status_code == 200 and own.data == stored(app, doc)
    own.close()
    other = client.get(url, headers=api_token(client, "ent_hongqiao"))
    assert other.status_code == 404 and other.json["error"]["code"] == "not_found"
    approver = client.get(url, headers=api_token(client, "rev_samr"))
    approver.close()
    assert approver.status_code == 200
