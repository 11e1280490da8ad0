"""`flask bench http`: task completions through the REST API against gunicorn + PostgreSQL.

A scratch database is created on the given server, migrated, seeded with the demo data, the
shipped bpmn/ bundle deployed, and one bench enterprise per client added with enough repairable
records (clones of the demo record "samr-general") for every application it will file. Gunicorn
serves `wsgi:app` on it with no background worker. For each N, N client threads each loop over
one `credit_repair` application, as the real users:

  enterprise: POST /process-instances, upload a proof (multipart), complete submit_application
  window clerk: complete accept_application          (clerk_window)
  reviewer of SAMR: complete review_records           (rev_samr) → the instance completes

Every client holds its own tokens (taken once before the runs, not timed), finds the next task
in the response of the previous call, and records the latency of each request. Results count
only requests that ended inside the measured window (after `warmup` seconds). Throughput is task
completions (3 per application) per second of that window.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from app import migrate
from app.db import scratch_postgres
from app.models import CreditRecord, Subject
from app.rules.uscc import org_code_check_char, uscc_check_char
from app.services.accounts import create_user
from app.services.definitions import deploy_bundle, read_bundle_dir
from app.services.seed import seed_demo
from app.services.uow import transaction
from bench.engine_bench import bound_to

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Bench-password-2026"
DEMO_PASSWORD = "demo12345"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
TEMPLATE_RECORD = "samr-general"  # SAMR general penalty, repairable on the seed day
MAX_INSTANCES_PER_CLIENT_S = 20  # record pool sizing: one application takes ≥ 5 requests
MAX_INSTANCES_TOTAL_S = 200


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --- seeding (scratch database only) ----------------------------------------------------------


def bench_uscc(i: int) -> str:
    """A valid USCC for bench enterprise `i` (organisation code BN000001… with its check)."""
    org8 = f"BN{i:06d}"
    first17 = "9131011" + "4" + org8 + org_code_check_char(org8)
    return first17 + uscc_check_char(first17)


def seed_clients(session: Any, count: int) -> None:
    """One enterprise subject + account per client (bench_ent_000 …), cloned from ent_chengxi."""
    template = session.scalar(select(Subject).where(Subject.uscc == "91310114MA1GT8QX92"))
    known = set(session.scalars(select(Subject.uscc)))
    for i in range(count):
        uscc = bench_uscc(i)
        if uscc in known:
            continue
        session.add(
            Subject(
                uscc=uscc,
                name=f"基准测试示例企业{i:03d}有限公司",
                entity_type=template.entity_type,
                legal_representative="测试某某",
                registration_authority=template.registration_authority,
                region_code=template.region_code,
                established_on=template.established_on,
                grade_scheme=template.grade_scheme,
                grade=template.grade,
                grade_as_of=template.grade_as_of,
            )
        )
        session.flush()
        create_user(
            session,
            username=f"bench_ent_{i:03d}",
            role="enterprise",
            password=PASSWORD,
            display_name=f"基准测试示例企业{i:03d}",
            uscc=uscc,
        )


def add_records(session: Any, client: int, count: int) -> list[int]:
    """`count` fresh repairable records for client `client` (INSERT … SELECT generate_series)."""
    template = next(
        r
        for r in session.scalars(select(CreditRecord))
        if (r.extra or {}).get("seed_key") == TEMPLATE_RECORD
    )
    subject_id = session.scalar(select(Subject.id).where(Subject.uscc == bench_uscc(client)))
    columns = [c.name for c in CreditRecord.__table__.columns if c.name not in ("id", "subject_id")]
    copied = ", ".join(
        "t.decision_no || '-' || :tag || '-' || g" if c == "decision_no" else f"t.{c}"
        for c in columns
    )
    rows = session.execute(
        text(
            f"INSERT INTO credit_record (subject_id, {', '.join(columns)}) "
            f"SELECT :subject_id, {copied} FROM credit_record t, generate_series(1, :n) g "
            "WHERE t.id = :template ORDER BY g RETURNING id"
        ),
        {
            "subject_id": subject_id,
            "n": count,
            "template": template.id,
            "tag": uuid.uuid4().hex[:8],
        },
    )
    return [r[0] for r in rows]


# --- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(db_url: str, workers: int, threads: int, log_dir: Path) -> Iterator[tuple[str, int]]:
    """gunicorn wsgi:app on a free loopback port, no background worker; stopped after."""
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("BROKER_URL", "FLASK_APP", "FLASK_DEBUG")
    }
    env.update(
        DATABASE_URL=db_url,
        INSTANCE_DIR=str(log_dir / "instance"),
        STORAGE_DIR=str(log_dir / "files"),
        SECRET_KEY="bench-secret-key",
        WEBHOOK_SECRET="bench-webhook-secret",
        LOGIN_RATE_LIMIT="100000 per minute",
        EMBEDDED_WORKER="0",
    )
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "wsgi:app",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--backlog",
        "2048",
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    log = (log_dir / "gunicorn.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({proc.returncode}); see {log_dir}")
            try:
                status, _ = _request("127.0.0.1", port, "GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# --- the clients ------------------------------------------------------------------------------


def _request(
    host: str,
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    conn = http.client.HTTPConnection(host, port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = raw[:200]
    return response.status, payload


def _json(token: str | None, data: Any) -> tuple[bytes, dict[str, str]]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return json.dumps(data).encode(), headers


def _multipart(token: str, fields: dict[str, str], filename: str, content: bytes) -> Any:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Authorization": f"Bearer {token}",
    }
    return b"".join(parts), headers


def token(host: str, port: int, username: str, password: str) -> str:
    body, headers = _json(None, {"username": username, "password": password})
    status, payload = _request(host, port, "POST", "/api/v1/auth/token", body, headers)
    if status != 200:
        raise RuntimeError(f"token for {username}: {status} {payload}")
    return payload["token"]


@dataclass
class Client:
    host: str
    port: int
    tokens: dict[str, str]  # enterprise, window, reviewer
    records: list[int]
    samples: list[tuple[str, float, float]] = field(default_factory=list)  # kind, end, ms
    errors: list[str] = field(default_factory=list)
    exhausted: bool = False

    def call(self, kind: str, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
        started = time.perf_counter()
        status, payload = _request(self.host, self.port, method, path, body, headers)
        ended = time.perf_counter()
        if status >= 300:
            self.errors.append(f"{kind} {status} {str(payload)[:200]}")
            return None
        self.samples.append((kind, ended, (ended - started) * 1000))
        return payload

    def complete(self, who: str, instance: dict[str, Any], bpmn_id: str, data: Any) -> Any:
        task = next(
            (t for t in instance["tasks"] if t["bpmn_id"] == bpmn_id and t["state"] == "ready"),
            None,
        )
        if task is None:
            self.errors.append(f"no ready {bpmn_id} in instance {instance.get('id')}")
            return None
        body, headers = _json(self.tokens[who], {"data": data})
        done = self.call("complete", "POST", f"/api/v1/tasks/{task['id']}/complete", body, headers)
        return done["instance"] if done else None

    def one_application(self) -> bool:
        if not self.records:
            self.exhausted = True
            return False
        record_id = self.records.pop()
        body, headers = _json(
            self.tokens["enterprise"],
            {"process_key": "credit_repair", "data": {"record_ids": [record_id]}},
        )
        instance = self.call("start", "POST", "/api/v1/process-instances", body, headers)
        if instance is None:
            return True
        body, headers = _multipart(
            self.tokens["enterprise"], {"kind": "履行义务证明"}, "凭证.pdf", PDF
        )
        path = f"/api/v1/process-instances/{instance['id']}/attachments"
        attachment = self.call("upload", "POST", path, body, headers)
        if attachment is None:
            return True
        proofs = [{"record_id": record_id, "discharged": True, "proof": str(attachment["id"])}]
        form = {"proofs": proofs, "agree": True, "signer_name": "测试某某"}
        instance = self.complete("enterprise", instance, "submit_application", form)
        if instance is None:
            return True
        instance = self.complete("window", instance, "accept_application", {"decision": "accept"})
        if instance is None:
            return True
        instance = self.complete(
            "reviewer", instance, "review_records", {"decision": "approve", "opinion": "同意修复"}
        )
        if instance is not None and instance["status"] != "completed":
            self.errors.append(f"instance {instance['id']} ended {instance['status']}")
        return True

    def loop(self, stop_at: float) -> None:
        while time.perf_counter() < stop_at:
            try:
                if not self.one_application():
                    return
            except Exception as exc:  # a bench client reports, it does not die
                self.errors.append(f"{type(exc).__name__}: {exc}")


def _summary(
    clients: list[Client], window: tuple[float, float], load_before: tuple[float, ...]
) -> dict[str, Any]:
    begin, end = window
    samples = [s for c in clients for s in c.samples if begin <= s[1] <= end]
    by_kind: dict[str, list[float]] = {}
    for kind, _, ms in samples:
        by_kind.setdefault(kind, []).append(ms)
    seconds = end - begin
    completions = by_kind.get("complete", [])
    row: dict[str, Any] = {
        "clients": len(clients),
        "seconds": round(seconds, 1),
        "completions": len(completions),
        "completions_per_s": round(len(completions) / seconds, 1) if seconds else 0.0,
        "applications_started": len(by_kind.get("start", [])),
        "errors": sum(len(c.errors) for c in clients),
        "error_examples": sorted({e for c in clients for e in c.errors})[:5],
        "exhausted_clients": sum(c.exhausted for c in clients),
        # before: what else ran on the machine; after: including this run
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    for kind in ("complete", "start", "upload"):
        values = by_kind.get(kind, [])
        row[kind] = {
            "count": len(values),
            "p50_ms": round(statistics.median(values), 1) if values else None,
            "p95_ms": round(_percentile(values, 0.95), 1) if values else None,
            "p99_ms": round(_percentile(values, 0.99), 1) if values else None,
        }
    return row


def run(
    pg_url: str,
    clients: tuple[int, ...] = (1, 10, 50),
    duration: float = 30.0,
    warmup: float = 3.0,
    workers: int | None = None,
    threads: int = 1,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """{"config": …, "rows": [one summary per N]}; everything runs on a scratch database."""
    workers = workers or (2 * (os.cpu_count() or 1) + 1)
    most = max(clients)
    rows = []
    with tempfile.TemporaryDirectory(prefix="cf-bench-http-") as tmp:
        with scratch_postgres(pg_url, "cf_bench_http") as db_url:
            log(f"scratch database {db_url.rsplit('/', 1)[1]}: migrate, seed, deploy")
            migrate.upgrade(db_url)
            with bound_to(db_url):
                with transaction() as session:
                    seed_demo(session, password=DEMO_PASSWORD, today=date.today())
                    deploy_bundle(session, read_bundle_dir(ROOT / "bpmn"))
                    seed_clients(session, most)
                with gunicorn(db_url, workers, threads, Path(tmp)) as (host, port):
                    log(f"gunicorn on {host}:{port}, {workers} workers × {threads} threads")
                    shared = _tokens(host, port, most)
                    for n in clients:
                        per_client = (
                            math.ceil(
                                (duration + warmup)
                                * min(MAX_INSTANCES_PER_CLIENT_S, MAX_INSTANCES_TOTAL_S / n)
                            )
                            + 10
                        )
                        with transaction() as session:
                            pools = [add_records(session, i, per_client) for i in range(n)]
                        group = [Client(host, port, shared[i], pools[i]) for i in range(n)]
                        load_before = os.getloadavg()
                        start = time.perf_counter()
                        stop_at = start + warmup + duration
                        workers_ = [
                            threading.Thread(target=c.loop, args=(stop_at,), daemon=True)
                            for c in group
                        ]
                        for thread in workers_:
                            thread.start()
                        for thread in workers_:
                            thread.join()
                        row = _summary(group, (start + warmup, stop_at), load_before)
                        log(
                            f"N={n}: {row['completions_per_s']} completions/s, "
                            f"p95 {row['complete']['p95_ms']} ms, errors {row['errors']}"
                        )
                        rows.append(row)
    return {
        "config": {
            "workers": workers,
            "threads": threads,
            "duration_s": duration,
            "warmup_s": warmup,
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "rows": rows,
    }


def _tokens(host: str, port: int, count: int) -> list[dict[str, str]]:
    """Each client's own tokens (enterprise, window clerk, SAMR reviewer), taken in parallel."""
    result: list[dict[str, str]] = [{} for _ in range(count)]

    def take(i: int) -> None:
        result[i] = {
            "enterprise": token(host, port, f"bench_ent_{i:03d}", PASSWORD),
            "window": token(host, port, "clerk_window", DEMO_PASSWORD),
            "reviewer": token(host, port, "rev_samr", DEMO_PASSWORD),
        }

    threads = [threading.Thread(target=take, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    missing = [i for i, t in enumerate(result) if len(t) != 3]
    if missing:
        raise RuntimeError(f"tokens missing for clients {missing}")
    return result


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| clients | completions/s | complete p50 | p95 | p99 ms | start p50 | p95 | p99 ms "
        "| errors | load before | load after |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        c, s = row["complete"], row["start"]
        lines.append(
            f"| {row['clients']} | {row['completions_per_s']} | {c['p50_ms']} | {c['p95_ms']} "
            f"| {c['p99_ms']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} "
            f"| {row['errors']} | {row['loadavg_before'][0]} | {row['loadavg_after'][0]} |"
        )
    return "\n".join(lines)
