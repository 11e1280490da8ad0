"""Gunicorn settings for production: `gunicorn -c gunicorn.conf.py` (see scripts/run-prod.sh).

Sync workers: the engine (SpiffWorkflow, lxml validation) is CPU-bound and keeps per-process
caches, so concurrency comes from processes. Each worker builds its own app and connection pool
after the fork (no preload), so no database connection is shared between processes.
"""

from __future__ import annotations

import multiprocessing
import os

MAX_DEFAULT_WORKERS = 12


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def default_workers(cores: int) -> int:
    """2 × cores + 1, capped: more processes than that only add memory and connections."""
    return max(1, min(2 * cores + 1, MAX_DEFAULT_WORKERS))


wsgi_app = "wsgi:app"
bind = f"{os.environ.get('HOST') or '127.0.0.1'}:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", default_workers(multiprocessing.cpu_count()))
worker_class = "sync"
# A request that takes longer than this is killed and its worker replaced (its transaction is
# rolled back by PostgreSQL); documents are rendered by Celery, not in requests.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# Recycle workers now and then (bounded memory growth of long-lived caches).
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
preload_app = False
# Trust X-Forwarded-* only from the reverse proxy that terminates TLS.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
proc_name = "creditflow-web"
# gunicornc's control socket only when asked for (a fixed default path would clash between
# two instances on one host); SIGHUP/SIGTERM manage the server either way.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
