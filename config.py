"""Configuration: every environment variable is read once, here, with its default beside it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))


def _env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = _env_str(name)
    return int(value) if value is not None else default


def _persistent_secret(name: str) -> str:
    """Return a secret generated once into instance/<name> (kept across restarts)."""
    path = INSTANCE_DIR / name
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value)
    return value


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'creditflow.db'}"


class Config:
    """Production-ready defaults; `make run` needs no variable at all."""

    TESTING = False
    DATABASE_URL = _env_str("DATABASE_URL") or _default_database_url()
    STORAGE_DIR = _env_str("STORAGE_DIR", str(INSTANCE_DIR / "files"))
    BROKER_URL = _env_str("BROKER_URL")
    APP_TIMEZONE = _env_str("APP_TIMEZONE", "Asia/Shanghai")
    DEMO_PASSWORD = _env_str("DEMO_PASSWORD", "demo12345")
    RATELIMIT_STORAGE_URI = _env_str("RATELIMIT_STORAGE_URI", "memory://")
    PASSWORD_HASH_PROFILE = "default"
    LOGIN_RATE_LIMIT = _env_str("LOGIN_RATE_LIMIT", "5 per minute")
    API_TOKEN_TTL_HOURS = _env_int("API_TOKEN_TTL_HOURS", 12)
    MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_MB", 20) * 1024 * 1024
    ATTACHMENT_MAX_BYTES = _env_int("ATTACHMENT_MAX_MB", 10) * 1024 * 1024
    # PAdES signing key and certificate (PEM); unset → a demo key is generated into instance/.
    SIGNING_KEY_PATH = _env_str("SIGNING_KEY_PATH")
    SIGNING_CERT_PATH = _env_str("SIGNING_CERT_PATH")
    PUBLIC_BASE_URL = _env_str("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    WORKER_MEMORY_LIMIT_MB = _env_int("WORKER_MEMORY_LIMIT_MB", 2048)
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_SUPPORTED_LOCALES = ("zh_CN", "en")
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")
    WTF_CSRF_TIME_LIMIT = None  # token valid for the session; stale pages still post
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_str("SESSION_COOKIE_SECURE", "0") == "1"

    def __init__(self) -> None:
        # Secrets are resolved lazily so importing config never touches the disk.
        self.SECRET_KEY = _env_str("SECRET_KEY") or _persistent_secret("secret_key")
        self.WEBHOOK_SECRET = _env_str("WEBHOOK_SECRET") or _persistent_secret("webhook_secret")


class DevelopmentConfig(Config):
    """Used by `make run`."""


class TestingConfig(Config):
    """Used by the test suite; the database URL is set by tests/conftest.py."""

    TESTING = True
    DATABASE_URL = "sqlite://"
    RATELIMIT_STORAGE_URI = "memory://"
    PASSWORD_HASH_PROFILE = "fast"  # hashing cost is not what the tests measure

    def __init__(self) -> None:
        self.SECRET_KEY = "test-secret-key"
        self.WEBHOOK_SECRET = "test-webhook-secret"
