"""PAdES signatures for issued documents: the deployment's key, signing and verification.

The deployment signs every document with one key. When none is configured
(SIGNING_KEY_PATH / SIGNING_CERT_PATH), a demo RSA key and a self-signed certificate are
generated once into `<instance>/signing/`. Verification trusts exactly that certificate.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_cert_from_pemder
from pyhanko.keys.internal import translate_pyca_cryptography_key_to_asn1
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

FIELD_NAME = "CreditFlow"
REASON = "签发"
LOCATION = "CreditFlow"
DEMO_COMMON_NAME = "CreditFlow 示例签章 (demo)"
DEMO_ORGANISATION = "CreditFlow"
DEMO_VALIDITY = dt.timedelta(days=3653)  # ten years
KEY_FILE = "signing_key.pem"
CERT_FILE = "signing_cert.pem"


class SigningKeyError(RuntimeError):
    """The configured signing key or certificate is missing or unusable."""


class _ParsedKeySigner(signers.SimpleSigner):
    """SimpleSigner holding the parsed RSA key: pyHanko re-parses (and re-validates) the key
    on every raw signature, about 0.3 s each for RSA-3072, twice per document."""

    def __init__(self, private_key: rsa.RSAPrivateKey, certificate: asn1_x509.Certificate):
        super().__init__(
            signing_cert=certificate,
            signing_key=translate_pyca_cryptography_key_to_asn1(private_key),
            cert_registry=SimpleCertificateStore(),
        )
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo != "rsassa_pkcs1v15":
            return super().sign_raw(data, digest_algorithm)
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        return self._private_key.sign(data, padding.PKCS1v15(), hash_algo)


@dataclass(frozen=True)
class SigningKey:
    """The deployment's key material, loaded once and shared by signing and verification."""

    key_path: Path
    cert_path: Path
    signer: signers.SimpleSigner

    @property
    def certificate(self) -> asn1_x509.Certificate:
        return self.signer.signing_cert


@dataclass(frozen=True)
class SignatureReport:
    valid: bool
    intact: bool
    signer: str
    signed_at: dt.datetime | None
    reason: str


def ensure_signing_key(
    instance_dir: Path, *, key_path: str | None = None, cert_path: str | None = None
) -> SigningKey:
    """Load the configured key, or generate the demo key into `<instance>/signing/` once.

    `key_path`/`cert_path` default to the SIGNING_KEY_PATH / SIGNING_CERT_PATH environment
    variables; both or neither must be given. A configured key is never generated.
    """
    key_path = key_path or os.environ.get("SIGNING_KEY_PATH") or None
    cert_path = cert_path or os.environ.get("SIGNING_CERT_PATH") or None
    if key_path or cert_path:
        if not (key_path and cert_path):
            raise SigningKeyError("set both SIGNING_KEY_PATH and SIGNING_CERT_PATH, or neither")
        return _load(Path(key_path), Path(cert_path))
    directory = Path(instance_dir) / "signing"
    key_file, cert_file = directory / KEY_FILE, directory / CERT_FILE
    with _locked(directory):
        if not (key_file.exists() and cert_file.exists()):
            _generate_demo_key(key_file, cert_file)
    return _load(key_file, cert_file)


def _outside_event_loop(fn: Any, *args: Any) -> Any:
    """pyHanko's synchronous API calls asyncio.run(); in a thread with a running loop (e.g. an
    async server or a test harness) run it on a short-lived worker thread instead."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


def sign_pdf(pdf: bytes, key: SigningKey) -> bytes:
    """Return `pdf` with an incremental PAdES B-B signature (signing time in /M)."""
    return _outside_event_loop(_sign_pdf, pdf, key)  # type: ignore[no-any-return]


def _sign_pdf(pdf: bytes, key: SigningKey) -> bytes:
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=REASON,
        location=LOCATION,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    return signers.PdfSigner(meta, signer=key.signer).sign_pdf(writer).getvalue()


def verify_pdf(pdf: bytes, key: SigningKey) -> SignatureReport:
    """Check the "CreditFlow" signature against the deployment's certificate; never raises."""
    try:
        signature = _find_signature(pdf)
        if signature is None:
            return SignatureReport(False, False, "", None, "no CreditFlow signature")
        context = ValidationContext(trust_roots=[key.certificate], allow_fetching=False)
        status = _outside_event_loop(validate_pdf_signature, signature, context)
    except Exception as exc:  # garbage input: any parser or crypto failure means "invalid"
        return SignatureReport(False, False, "", None, f"unreadable PDF or signature: {exc}")
    problems = _problems(status)
    return SignatureReport(
        valid=not problems,
        intact=bool(status.intact),
        signer=_common_name(status.signing_cert),
        signed_at=status.signer_reported_dt,
        reason="; ".join(problems) or "valid",
    )


def _find_signature(pdf: bytes):
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    matches = [s for s in reader.embedded_regular_signatures if s.field_name == FIELD_NAME]
    return matches[-1] if matches else None


def _problems(status) -> list[str]:
    problems = []
    if not status.intact:
        problems.append("document changed after signing")
    if not status.valid:
        problems.append("signature value invalid")
    if status.intact and status.valid and not status.trusted:
        problems.append("signer not trusted by this deployment")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problems.append("content added after the signature")
    if not status.bottom_line and not problems:
        problems.append("signature policy not satisfied")
    return problems


def _common_name(cert: asn1_x509.Certificate | None) -> str:
    if cert is None:
        return ""
    return cert.subject.native.get("common_name") or cert.subject.human_friendly


def _load(key_file: Path, cert_file: Path) -> SigningKey:
    """Load an unencrypted RSA key (PEM or DER) and its certificate."""
    try:
        data = key_file.read_bytes()
        loader = serialization.load_pem_private_key
        if not data.lstrip().startswith(b"-----"):
            loader = serialization.load_der_private_key
        private_key = loader(data, password=None)
        certificate = load_cert_from_pemder(str(cert_file))
    except (OSError, ValueError, TypeError) as exc:
        raise SigningKeyError(f"cannot load signing key {key_file} / {cert_file}: {exc}") from exc
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise SigningKeyError(f"signing key {key_file} is not an RSA key")
    if certificate.public_key.dump() != _public_key_info(private_key):
        raise SigningKeyError(f"certificate {cert_file} does not match key {key_file}")
    signer = _ParsedKeySigner(private_key, certificate)
    return SigningKey(key_path=key_file, cert_path=cert_file, signer=signer)


def _public_key_info(private_key: rsa.RSAPrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialise generation between processes (web and worker may start together)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _generate_demo_key(key_file: Path, cert_file: Path) -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    certificate = _self_signed_certificate(private_key)
    key_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_private(key_file, key_pem)
    _write_private(cert_file, certificate.public_bytes(serialization.Encoding.PEM))


def _self_signed_certificate(private_key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, DEMO_COMMON_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEMO_ORGANISATION),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    public_key = private_key.public_key()
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + DEMO_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(private_key, hashes.SHA256())
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` with mode 0600 through a temporary file, replacing `path` atomically."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
