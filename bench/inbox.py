"""`flask bench inbox`: the approver inbox on 100,000 instances and 1,000,000 task rows.

A scratch PostgreSQL database is migrated, seeded with the demo data and the shipped bpmn/
bundle, then grown in SQL (INSERT … SELECT generate_series) to a city-sized history:

- 40 departments (the 4 demo ones + 36), 6 approvers each (4 reviewers, an inspector, a
  leader), 8 window clerks; 5,000 subjects;
- `instances` process instances over the deployed processes: 85 % completed, 13 % running,
  2 % terminated; running ones carry the real state of a fresh credit_repair instance;
- `tasks` human_task rows (tasks / instances per instance) with the lanes of the shipped
  processes (enterprise 20 %, window 20 %, reviewer 40 %, inspector 10 %, leader 10 %),
  departments skewed (SAMR about 11 % of department work), 3 % without a department; running
  instances hold one or two ready tasks, 30 % of them claimed; 4 % cancelled; due dates from
  three days overdue to two weeks ahead, 10 % without one.

Measured as `rev_samr` (reviewer of SAMR), each run in a fresh transaction:
- `candidate`: what GET /api/v1/tasks?scope=candidate runs — `tasks.scoped_tasks` ordered by
  due date, count + first page of 20;
- `inbox_page`: what the web inbox runs — `inbox.inbox_page(…, "candidate")`, i.e. the counts
  of every tab, the first page and its rows.
EXPLAIN (ANALYZE, BUFFERS) of each statement is written to the output directory. Optional
index candidates are created afterwards in the scratch database and everything is re-measured.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.dialects import postgresql

from app import migrate
from app.db import scratch_postgres
from app.engine import clock
from app.extensions import db
from app.models import (
    Department,
    HumanTask,
    ProcessInstance,
    ProcessVersion,
    Subject,
    User,
)
from app.services import inbox, instances, tasks
from app.services.definitions import deploy_bundle, read_bundle_dir
from app.services.seed import seed_demo
from app.services.uow import transaction
from bench.engine_bench import bound_to

ROOT = Path(__file__).resolve().parents[1]
PER_PAGE = 20
LANES = [  # lane of the k-th task of an instance (k = 1 … 10)
    "enterprise",
    "window",
    "reviewer",
    "reviewer",
    "inspector",
    "reviewer",
    "leader",
    "enterprise",
    "reviewer",
    "window",
]
BPMN_IDS = [
    "submit_application",
    "accept_application",
    "review_records",
    "review_supplement",
    "verify",
    "decide",
    "expedite_review",
    "supplement_material",
    "platform_check",
    "accept_application",
]
# Index candidates tried by --try-indexes (name, DDL); kept here so the numbers are reproducible.
INDEX_CANDIDATES = [
    # The "done" tab's count (completed_by_id = me) is a sequential scan without it.
    (
        "ix_human_task_done",
        "CREATE INDEX IF NOT EXISTS ix_human_task_done ON human_task (completed_by_id, state)",
    ),
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _clone_columns(table: Any, overrides: dict[str, str]) -> tuple[str, str]:
    """(column list, select list) copying a template row `t` except the overridden columns."""
    names = [c.name for c in table.columns if c.name != "id" or "id" in overrides]
    exprs = [overrides.get(n, f"t.{n}") for n in names]
    return ", ".join(names), ", ".join(exprs)


def seed(session: Any, n_instances: int, n_tasks: int, log: Callable[[str], None]) -> None:
    """Grow the demo database to the bench size (PostgreSQL only)."""
    started = time.perf_counter()
    # 36 more departments, each with 4 reviewers, an inspector and a leader; 8 window clerks.
    for i in range(36):
        session.add(
            Department(code=f"bench_d{i:02d}", name=f"示例部门{i:02d}", authority_name="示例")
        )
    session.flush()
    rev_samr = session.scalar(select(User).where(User.username == "rev_samr"))
    departments = [
        d
        for d in session.scalars(select(Department).order_by(Department.id))
        if d.code != "service_center"
    ]
    center = session.scalar(select(Department).where(Department.code == "service_center"))
    reviewers: list[int] = []
    for pos, dept in enumerate(departments):
        existing = list(
            session.scalars(
                select(User.id).where(
                    User.department_id == dept.id, User.approver_role == "reviewer"
                )
            )
        )
        for j in range(4 - len(existing)):
            user = _approver(rev_samr, f"bench_rev_{pos:02d}_{j}", dept.id, "reviewer")
            session.add(user)
            session.flush()
            existing.append(user.id)
        reviewers.extend(existing[:4])
        for role in ("inspector", "leader"):
            session.add(_approver(rev_samr, f"bench_{role}_{pos:02d}", dept.id, role))
    clerks = [
        session.scalar(select(User.id).where(User.username == "clerk_window")),
    ]
    for j in range(7):
        user = _approver(rev_samr, f"bench_clerk_{j}", center.id, "window")
        session.add(user)
        session.flush()
        clerks.append(user.id)
    # SAMR, NDRC and tax carry more work than the others.
    weights = {"samr": 5, "ndrc": 3, "tax": 3}
    weighted = [pos for pos, d in enumerate(departments) for _ in range(weights.get(d.code, 1))]

    template = session.scalar(select(Subject).where(Subject.uscc == "91310114MA1GT8QX92"))
    cols, exprs = _clone_columns(
        Subject.__table__,
        {"uscc": "'BX' || lpad(g::text, 16, '0')", "name": "'示例主体' || g"},
    )
    session.execute(
        text(
            f"INSERT INTO subject ({cols}) SELECT {exprs} FROM subject t, "
            "generate_series(1, 5000) g WHERE t.id = :t"
        ),
        {"t": template.id},
    )
    subjects = list(session.scalars(select(Subject.id)))

    # A real, fresh credit_repair instance is the template of every instance row.
    chengxi = session.scalar(select(User).where(User.username == "ent_chengxi"))
    real = instances.start_instance(session, "credit_repair", {"record_ids": []}, chengxi)
    session.flush()
    versions = session.execute(select(ProcessVersion.id, ProcessVersion.key)).all()
    first_id = real.id + 1
    cols, exprs = _clone_columns(
        ProcessInstance.__table__,
        {
            "version_id": "(CAST(:version_ids AS integer[]))[1 + g % :nv]",
            "process_key": "(CAST(:keys AS text[]))[1 + g % :nv]",
            "subject_id": "(CAST(:subjects AS integer[]))[1 + (g * 7919) % :ns]",
            "department_id": "CASE WHEN g % 5 = 0 THEN :samr ELSE NULL END",
            "status": "CASE WHEN h < 85 THEN 'completed' WHEN h < 98 THEN 'running' "
            "ELSE 'terminated' END",
            "state": "CASE WHEN h BETWEEN 85 AND 97 THEN t.state ELSE '{}' END",
            "next_timer_due": "NULL",
            "started_by_id": "NULL",
            "created_at": "now() - (g % 730) * interval '1 day' - (g % 24) * interval '1 hour'",
            "updated_at": "now() - (g % 730) * interval '1 day'",
            "completed_at": "CASE WHEN h < 85 THEN now() - (g % 730) * interval '1 day' END",
        },
    )
    samr_id = next(d.id for d in departments if d.code == "samr")
    session.execute(
        text(
            f"INSERT INTO process_instance ({cols}) SELECT {exprs} FROM process_instance t, "
            "(SELECT g, abs(hashtext(g::text)) % 100 AS h FROM generate_series(1, :n) g) s "
            "WHERE t.id = :t"
        ),
        {
            "t": real.id,
            "n": n_instances,
            "version_ids": [v[0] for v in versions],
            "keys": [v[1] for v in versions],
            "nv": len(versions),
            "subjects": subjects,
            "ns": len(subjects),
            "samr": samr_id,
        },
    )
    log(f"  {n_instances} instances in {time.perf_counter() - started:.0f} s")

    per_instance = max(1, round(n_tasks / n_instances))
    session.execute(
        text(
            """
            INSERT INTO human_task (id, instance_id, process_key, bpmn_id, name, lane,
                department_id, subject_id, assignee_id, state, form_file, due_at, created_at,
                completed_at, completed_by_id, form_data)
            SELECT md5(x.id::text || '-' || x.k)::uuid::text, x.id, x.process_key,
                x.bpmn_id, '示例任务 ' || x.bpmn_id, x.lane, x.department_id, x.subject_id,
                CASE WHEN x.state = 'ready' AND x.hk % 10 < 3 THEN x.completer END,
                x.state, NULL,
                CASE WHEN x.hk % 10 = 0 THEN NULL
                     WHEN x.state = 'ready'
                     THEN now() + ((x.hk % 408) - 72) * interval '1 hour'
                     ELSE x.created_at + x.k * interval '1 day' END,
                x.created_at + x.k * interval '1 hour',
                CASE WHEN x.state = 'completed' THEN x.created_at + x.k * interval '2 hour' END,
                CASE WHEN x.state = 'completed' THEN x.completer END,
                CASE WHEN x.state = 'completed'
                     THEN CAST('{"decision": "approve", "opinion": "同意"}' AS json) END
            FROM (
                SELECT y.*,
                    CASE WHEN y.lane = 'enterprise' THEN NULL
                         WHEN y.lane = 'window' THEN :center
                         WHEN y.hk % 100 < 3 THEN NULL
                         ELSE (CAST(:dept_ids AS integer[]))[1 + y.pos] END AS department_id,
                    CASE WHEN y.lane = 'enterprise' THEN NULL
                         WHEN y.lane = 'window'
                         THEN (CAST(:clerks AS integer[]))[1 + (y.hk / 7) % :nc]
                         ELSE (CAST(:reviewers AS integer[]))[1 + y.pos * 4 + (y.hk / 7) % 4]
                         END AS completer,
                    CASE WHEN y.status = 'running'
                              AND (y.k = 1 + y.r % :per
                                   OR (y.r % 3 = 0 AND y.k = 1 + (y.r + 1) % :per))
                         THEN 'ready'
                         WHEN y.hk % 100 < 4 THEN 'cancelled'
                         ELSE 'completed' END AS state
                FROM (
                    SELECT i.id, i.process_key, i.subject_id, i.status, i.created_at, k,
                        (CAST(:lanes AS text[]))[1 + (k - 1) % 10] AS lane,
                        (CAST(:bpmn_ids AS text[]))[1 + (k - 1) % 10] AS bpmn_id,
                        abs(hashtext(i.id::text)) AS r,
                        abs(hashtext(i.id::text || '-' || k)) AS hk,
                        (CAST(:weighted AS integer[]))[
                            1 + abs(hashtext(i.id::text || '/' || k)) % :nw] AS pos
                    FROM process_instance i, generate_series(1, :per) k
                    WHERE i.id >= :first
                ) y
            ) x
            """
        ),
        {
            "center": center.id,
            "dept_ids": [d.id for d in departments],
            "clerks": clerks,
            "nc": len(clerks),
            "reviewers": reviewers,
            "per": per_instance,
            "lanes": LANES,
            "bpmn_ids": BPMN_IDS,
            "weighted": weighted,
            "nw": len(weighted),
            "first": first_id,
        },
    )
    log(f"  {per_instance * n_instances} tasks in {time.perf_counter() - started:.0f} s")


def _vacuum() -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _approver(template: User, username: str, department_id: int, role: str) -> User:
    return User(
        username=username,
        password_hash=template.password_hash,
        display_name=username,
        role="approver",
        approver_role=role,
        department_id=department_id,
    )


def _candidate_statements(actor: User) -> tuple[Select[Any], Select[Any]]:
    """Count and first page of the candidate inbox, as GET /api/v1/tasks runs them."""
    query = tasks.scoped_tasks(actor, "candidate", "ready").order_by(
        HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id
    )
    count = select(func.count()).select_from(query.order_by(None).subquery())
    return count, query.limit(PER_PAGE)


def _inbox_statements(actor: User) -> dict[str, Select[Any]]:
    """Every list statement of `inbox.inbox_page` (counts per tab and the candidate page)."""
    now = clock.now()
    result: dict[str, Select[Any]] = {}
    for tab in inbox.tabs_for(actor):
        query = inbox.apply_filters(inbox.tab_query(actor, tab), inbox.InboxFilters(), now)
        result[f"count {tab}"] = select(func.count()).select_from(query.subquery())
    page = inbox.apply_filters(inbox.tab_query(actor, "candidate"), inbox.InboxFilters(), now)
    result["page candidate"] = page.order_by(
        HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id
    ).limit(PER_PAGE)
    return result


def _sql(statement: Select[Any]) -> str:
    return str(
        statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )


def measure(actor_id: int, runs: int) -> dict[str, Any]:
    """p50/p95/max of the candidate query (API) and of the whole inbox page (web)."""
    timings: dict[str, list[float]] = {"candidate": [], "inbox_page": []}
    total = 0
    for _ in range(runs):
        with transaction() as session:
            actor = session.get(User, actor_id)
            count, page = _candidate_statements(actor)
            started = time.perf_counter()
            total = session.scalar(count) or 0
            session.scalars(page).all()
            timings["candidate"].append((time.perf_counter() - started) * 1000)
        with transaction() as session:
            actor = session.get(User, actor_id)
            started = time.perf_counter()
            inbox.inbox_page(session, actor, "candidate")
            timings["inbox_page"].append((time.perf_counter() - started) * 1000)
    return {
        "candidate_total": total,
        **{
            name: {
                "p50_ms": round(statistics.median(values), 1),
                "p95_ms": round(_percentile(values, 0.95), 1),
                "max_ms": round(max(values), 1),
            }
            for name, values in timings.items()
        },
    }


def explain(actor_id: int) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement the two measured paths run."""
    out = []
    with transaction() as session:
        actor = session.get(User, actor_id)
        count, page = _candidate_statements(actor)
        statements = {"api count candidate": count, "api page candidate": page}
        statements |= {f"web {k}": v for k, v in _inbox_statements(actor).items()}
        for name, statement in statements.items():
            sql = _sql(statement)
            plan = session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
            out.append(f"-- {name}\n{sql};\n\n" + "\n".join(plan) + "\n")
    return "\n".join(out)


def run(
    pg_url: str,
    n_instances: int = 100_000,
    n_tasks: int = 1_000_000,
    runs: int = 50,
    out_dir: Path | None = None,
    try_indexes: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    out_dir = out_dir or ROOT / "instance" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "instances": n_instances,
        "tasks": n_tasks,
        "runs": runs,
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "measurements": [],
    }
    with scratch_postgres(pg_url, "cf_bench_inbox") as db_url:
        log(f"scratch database {db_url.rsplit('/', 1)[1]}: migrate, seed, deploy")
        migrate.upgrade(db_url)
        with bound_to(db_url):
            with transaction() as session:
                seed_demo(session, password="bench-password-1", today=date.today())
                deploy_bundle(session, read_bundle_dir(ROOT / "bpmn"))
            with transaction() as session:
                seed(session, n_instances, n_tasks, log)
            _vacuum()  # what autovacuum does after a bulk load: statistics, visibility map
            with transaction() as session:
                actor_id = session.scalar(select(User.id).where(User.username == "rev_samr"))
                counts = dict(
                    session.execute(
                        select(HumanTask.state, func.count()).group_by(HumanTask.state)
                    ).all()
                )
                size = session.scalar(
                    text("SELECT pg_size_pretty(pg_total_relation_size('human_task'))")
                )
            result["task_states"] = counts
            result["human_task_size"] = size
            variants = [("as migrated", None)]
            if try_indexes:
                variants += list(INDEX_CANDIDATES)
            created: list[str] = []
            for label, ddl in variants:
                if ddl:
                    with transaction() as session:
                        session.execute(text(ddl))
                    _vacuum()
                    created.append(label)
                measure(actor_id, 3)  # warm the caches
                row = {"indexes_added": list(created), **measure(actor_id, runs)}
                plan_file = out_dir / f"inbox_explain_{len(created)}.txt"
                plan_file.write_text(
                    f"-- extra indexes: {created or 'none'}\n\n{explain(actor_id)}",
                    encoding="utf-8",
                )
                row["explain_file"] = str(plan_file)
                log(
                    f"{label}: candidate p95 {row['candidate']['p95_ms']} ms, "
                    f"inbox_page p95 {row['inbox_page']['p95_ms']} ms ({plan_file.name})"
                )
                result["measurements"].append(row)
    result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"{result['instances']} instances, {result['tasks']} tasks "
        f"({result.get('human_task_size')}), {result['runs']} runs, "
        f"load {result['loadavg_before'][0]} → {result['loadavg_after'][0]}",
        "",
        "| extra indexes | candidate p50 | p95 ms | inbox page p50 | p95 ms | candidates |",
        "|---|---|---|---|---|---|",
    ]
    for row in result["measurements"]:
        c, w = row["candidate"], row["inbox_page"]
        added = ", ".join(row["indexes_added"]) or "none (as migrated)"
        lines.append(
            f"| {added} | {c['p50_ms']} | {c['p95_ms']} | {w['p50_ms']} | {w['p95_ms']} "
            f"| {row['candidate_total']} |"
        )
    return "\n".join(lines)
