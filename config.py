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
    # Background jobs (app/jobs.py): seconds between sweeps (embedded worker: WORKER_INTERVAL).
    # With BROKER_URL set they run only as Celery tasks (app/celery_app.py), limited in time.
    JOB_INTERVAL_S = _env_int("JOB_INTERVAL_S", 2)
    CELERY_SOFT_TIME_LIMIT_S = _env_int("CELERY_SOFT_TIME_LIMIT_S", 120)
    CELERY_TIME_LIMIT_S = _env_int("CELERY_TIME_LIMIT_S", 180)
    # Redis redelivers a task a worker took but never acknowledged (killed) after this long.
    CELERY_VISIBILITY_TIMEOUT_S = _env_int("CELERY_VISIBILITY_TIMEOUT_S", 600)
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
    # Outbound webhooks: attempts before a delivery is dead, HTTP timeout, first retry delay
    # (doubled per attempt, with jitter, capped at 6 h).
    WEBHOOK_MAX_ATTEMPTS = _env_int("WEBHOOK_MAX_ATTEMPTS", 8)
    WEBHOOK_TIMEOUT_S = _env_int("WEBHOOK_TIMEOUT_S", 5)
    WEBHOOK_BACKOFF_S = _env_int("WEBHOOK_BACKOFF_S", 30)
    # Mail notifications: unset SMTP_HOST → no mail is queued or sent (in-app notices only).
    # SMTP_PORT defaults to 465 with SMTP_SSL=1, 587 with SMTP_STARTTLS=1, else 25.
    SMTP_HOST = _env_str("SMTP_HOST")
    SMTP_PORT = _env_str("SMTP_PORT")
    SMTP_USERNAME = _env_str("SMTP_USERNAME")
    SMTP_PASSWORD = _env_str("SMTP_PASSWORD")
    SMTP_STARTTLS = _env_str("SMTP_STARTTLS", "0") == "1"
    SMTP_SSL = _env_str("SMTP_SSL", "0") == "1"
    SMTP_TIMEOUT_S = _env_int("SMTP_TIMEOUT_S", 10)
    MAIL_FROM = _env_str("MAIL_FROM", "CreditFlow <no-reply@creditflow.local>")
    MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 8)
    MAIL_BACKOFF_S = _env_int("MAIL_BACKOFF_S", 60)
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_SUPPORTED_LOCALES = ("zh_CN", "en")
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")
    WTF_CSRF_TIME_LIMIT = None  # token valid for the session; stale pages still post
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_str("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Signed-in sessions end after this many idle minutes, and this many hours after sign-in
    # (app/security.py derives PERMANENT_SESSION_LIFETIME and REMEMBER_COOKIE_DURATION).
    SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 30)
    SESSION_ABSOLUTE_HOURS = _env_int("SESSION_ABSOLUTE_HOURS", 12)
    # Reverse proxies in front of the app whose X-Forwarded-* headers are believed (0: none).
    TRUSTED_PROXY_COUNT = _env_int("TRUSTED_PROXY_COUNT", 0)

    def __init__(self) -> None:
        # Secrets are resolved lazily so importing config never touches the disk.
        self.SECRET_KEY = _env_str("SECRET_KEY") or _persistent_secret("secret_key")
        self.WEBHOOK_SECRET = _env_str("WEBHOOK_SECRET") or _persistent_secret("webhook_secret")


class DevelopmentConfig(Config):
    """Used by `make run`."""


class ProductionConfig(Config):
    """Selected by APP_ENV=production (or FLASK_ENV=production): cookies only over HTTPS."""

    SESSION_COOKIE_SECURE = _env_str("SESSION_COOKIE_SECURE", "1") == "1"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


def default_config() -> Config:
    """ProductionConfig when APP_ENV (or FLASK_ENV) is `production`, else DevelopmentConfig."""
    env = (_env_str("APP_ENV") or _env_str("FLASK_ENV") or "").strip().lower()
    return ProductionConfig() if env == "production" else DevelopmentConfig()


class TestingConfig(Config):
    """Used by the test suite; the database URL is set by tests/conftest.py."""

    TESTING = True
    DATABASE_URL = "sqlite://"
    RATELIMIT_STORAGE_URI = "memory://"
    PASSWORD_HASH_PROFILE = "fast"  # hashing cost is not what the tests measure
    SMTP_HOST = None  # mail tests point this at their own loopback server

    def __init__(self) -> None:
        self.SECRET_KEY = "test-secret-key"
        self.WEBHOOK_SECRET = "test-webhook-secret"
