"""PAdES signing with the deployment key: sign, verify, tampering, trust and key generation."""

from __future__ import annotations

import re
import stat
import time
from io import BytesIO

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfWriter

from app.pdf.signing import (
    SigningKeyError,
    ensure_signing_key,
    sign_pdf,
    verify_pdf,
)

TITLE = b"CreditFlow signing test"


@pytest.fixture(autouse=True)
def _no_configured_key(monkeypatch):
    monkeypatch.delenv("SIGNING_KEY_PATH", raising=False)
    monkeypatch.delenv("SIGNING_CERT_PATH", raising=False)


@pytest.fixture(scope="module")
def instance_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="module")
def key(instance_dir):
    return ensure_signing_key(instance_dir)


@pytest.fixture(scope="module")
def other_key(tmp_path_factory):
    return ensure_signing_key(tmp_path_factory.mktemp("other-instance"))


@pytest.fixture(scope="module")
def tiny_pdf():
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": TITLE.decode()})
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def signed(tiny_pdf, key):
    return sign_pdf(tiny_pdf, key)


def _signed_ranges(pdf: bytes) -> list[tuple[int, int]]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    a, b, c, d = (int(n) for n in match.groups())
    return [(a, a + b), (c, c + d)]


def _flip(pdf: bytes, offset: int) -> bytes:
    changed = bytearray(pdf)
    changed[offset] = changed[offset] ^ 0x01
    return bytes(changed)


def test_signed_pdf_verifies_as_valid_and_intact(signed, key):
    report = verify_pdf(signed, key)

    assert report.valid, report.reason
    assert report.intact
    assert "CreditFlow" in report.signer
    assert report.signed_at is not None and report.signed_at.tzinfo is not None


def test_signature_dictionary_is_pades_with_reason_location_and_time(signed):
    (signature,) = PdfFileReader(BytesIO(signed)).embedded_regular_signatures
    sig = signature.sig_object

    assert signature.field_name == "CreditFlow"
    assert sig["/SubFilter"] == "/ETSI.CAdES.detached"
    assert sig["/Reason"] == "签发"
    assert sig["/Location"] == "CreditFlow"
    assert "/M" in sig


def test_weasyprint_output_can_be_signed_and_verified(key):
    from weasyprint import HTML

    report = verify_pdf(sign_pdf(HTML(string="<p>x</p>").write_pdf(), key), key)

    assert report.valid, report.reason


def test_changing_one_byte_of_signed_content_fails(signed, key):
    offset = signed.index(TITLE) + 3
    assert any(start <= offset < end for start, end in _signed_ranges(signed))

    report = verify_pdf(_flip(signed, offset), key)

    assert not report.valid
    assert not report.intact


@pytest.mark.parametrize("position", [0.25, 0.5, 0.75, 0.99])
def test_changing_any_signed_byte_fails(signed, key, position):
    (_, first_end), (second_start, second_end) = _signed_ranges(signed)
    offsets = [*range(first_end), *range(second_start, second_end)]

    report = verify_pdf(_flip(signed, offsets[int(len(offsets) * position)]), key)

    assert not report.valid


def test_appended_garbage_fails(signed, key):
    report = verify_pdf(signed + b"\n% appended garbage\n", key)

    assert not report.valid
    assert report.reason


def test_incremental_update_after_signing_fails(signed, key):
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    writer.update_root()
    out = BytesIO()
    writer.write(out)

    report = verify_pdf(out.getvalue(), key)

    assert report.intact
    assert not report.valid


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_pdf_fails(signed, key, keep):
    report = verify_pdf(signed[: int(len(signed) * keep)], key)

    assert not report.valid
    assert report.reason


@pytest.mark.parametrize("garbage", [b"", b"not a pdf", b"%PDF-1.7\n%%EOF\n", bytes(range(256))])
def test_garbage_input_never_raises(key, garbage):
    report = verify_pdf(garbage, key)

    assert not report.valid
    assert report.reason


def test_unsigned_pdf_is_not_valid(tiny_pdf, key):
    report = verify_pdf(tiny_pdf, key)

    assert not report.valid
    assert "no CreditFlow signature" in report.reason


def test_pdf_signed_by_another_key_is_not_trusted(tiny_pdf, key, other_key):
    report = verify_pdf(sign_pdf(tiny_pdf, other_key), key)

    assert report.intact
    assert not report.valid
    assert "not trusted" in report.reason


def test_ensure_signing_key_is_idempotent_and_private(instance_dir, key):
    again = ensure_signing_key(instance_dir)

    assert again.certificate.dump() == key.certificate.dump()
    assert again.key_path.read_bytes() == key.key_path.read_bytes()
    for path in (key.key_path, key.cert_path):
        assert path.parent == instance_dir / "signing"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_demo_certificate_names_creditflow(key):
    subject = key.certificate.subject.native

    assert subject["common_name"] == "CreditFlow 示例签章 (demo)"
    assert subject["organization_name"] == "CreditFlow"
    validity = key.certificate["tbs_certificate"]["validity"]
    lifetime = validity["not_after"].native - validity["not_before"].native
    assert lifetime.days >= 3650
    assert key.certificate.public_key.bit_size == 3072


def test_configured_key_paths_are_used(monkeypatch, tmp_path, key, signed):
    monkeypatch.setenv("SIGNING_KEY_PATH", str(key.key_path))
    monkeypatch.setenv("SIGNING_CERT_PATH", str(key.cert_path))

    configured = ensure_signing_key(tmp_path)

    assert configured.cert_path == key.cert_path
    assert not (tmp_path / "signing").exists()
    assert verify_pdf(signed, configured).valid


def test_configured_key_must_be_complete_and_present(monkeypatch, tmp_path, key, other_key):
    monkeypatch.setenv("SIGNING_KEY_PATH", str(key.key_path))
    with pytest.raises(SigningKeyError):
        ensure_signing_key(tmp_path)

    monkeypatch.setenv("SIGNING_CERT_PATH", str(tmp_path / "missing.pem"))
    with pytest.raises(SigningKeyError):
        ensure_signing_key(tmp_path)

    monkeypatch.setenv("SIGNING_CERT_PATH", str(other_key.cert_path))
    with pytest.raises(SigningKeyError, match="does not match"):
        ensure_signing_key(tmp_path)


def test_signing_speed_is_measured(tiny_pdf, key, record_property):
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        sign_pdf(tiny_pdf, key)
        timings.append(time.perf_counter() - started)
    median_ms = sorted(timings)[len(timings) // 2] * 1000

    record_property("sign_pdf_median_ms", round(median_ms, 1))
    print(f"sign_pdf median: {median_ms:.1f} ms")
