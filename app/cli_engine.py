"""Engine commands: `bpmn deploy|validate`, `timers fire`, `worker`."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.services.uow import transaction

bpmn_cli = AppGroup("bpmn", help="流程定义：校验与发布。")
timers_cli = AppGroup("timers", help="定时器。")
bench_cli = AppGroup("bench", help="基准测试（测量，不断言）。")
logger = logging.getLogger(__name__)


def _bundle(path: str | None) -> dict[str, bytes]:
    """A directory's bundle, or one file; a .bpmn file brings the .dmn/.json files beside it
    (of the translation files, only those of the processes it defines)."""
    from app.services.definitions import read_bundle_dir

    target = Path(path) if path else Path(current_app.root_path).parent / "bpmn"
    if not target.exists():
        raise click.ClickException(f"路径不存在：{target}（path not found）")
    if target.is_dir():
        return read_bundle_dir(target)
    files = {target.name: target.read_bytes()}
    if target.suffix.lower() == ".bpmn":
        siblings = read_bundle_dir(target.parent)
        files |= {n: b for n, b in siblings.items() if n.lower().endswith((".dmn", ".json"))}
        text = files[target.name].decode("utf-8", "replace")
        for name in [n for n in files if n.lower().endswith(".i18n.json")]:
            if f'id="{name[: -len(".i18n.json")]}"' not in text:
                del files[name]
    return files


def _print_problem(problem: dict[str, object]) -> None:
    where = f"{problem['file'] or '-'}:{problem['line'] or '-'}"
    element = f" [{problem['element_id']}]" if problem.get("element_id") else ""
    text = f"{problem['message']} | {problem['message_en']}"
    click.echo(f"{problem['severity']}: {where}{element} {' '.join(text.split())}")


@bpmn_cli.command("validate")
@click.argument("path")
def bpmn_validate(path: str) -> None:
    """Check a bundle (directory or file) exactly as deploy would; exit 1 on errors."""
    from app.services.definitions import check_bundle

    files = _bundle(path)
    target = Path(path)
    if target.is_dir():
        click.echo(f"校验目录 {target} 中的 {len(files)} 个文件。")
    elif len(files) > 1:
        click.echo(f"校验 {target.name}，连同同目录的 {len(files) - 1} 个 .dmn/.json 文件。")
    check = check_bundle(files)
    for problem in check.problems:
        _print_problem(problem.as_dict())
    errors = sum(p.severity == "error" for p in check.problems)
    warnings = len(check.problems) - errors
    if not check.ok:
        click.echo(f"校验未通过：{errors} 个错误，{warnings} 个警告。")
        raise SystemExit(1)
    if warnings:
        click.echo(f"{warnings} 个警告。")
    click.echo(f"校验通过：{', '.join(check.process_ids) or '（无可执行流程）'}")


@bpmn_cli.command("deploy")
@click.argument("path", required=False)
def bpmn_deploy(path: str | None) -> None:
    """Deploy the bundle in bpmn/ (or PATH); unchanged processes keep their version."""
    from app.services.definitions import BundleInvalidError, deploy_bundle

    files = _bundle(path)
    if not files:
        click.echo("没有可发布的流程文件。")
        return
    try:
        with transaction() as session:
            results = deploy_bundle(session, files)
    except BundleInvalidError as exc:
        for problem in exc.problems:
            _print_problem(problem)
        raise SystemExit(1) from exc
    for item in results:
        state = "新版本" if item.created else "未变化"
        click.echo(f"{item.key}: v{item.version}（{state}）")


@timers_cli.command("fire")
@click.option("--at", "at", default=None, help="ISO 8601 instant with offset (default: now).")
def timers_fire(at: str | None) -> None:
    """Fire every timer due at that instant."""
    from app.services.timers import fire_due_timers

    instant = None
    if at:
        try:
            instant = datetime.fromisoformat(at)
        except ValueError as exc:
            raise click.BadParameter("请使用 ISO 8601 格式，如 2026-12-01T09:00:00+08:00") from exc
        if instant.tzinfo is None:
            raise click.BadParameter("时间必须带时区偏移，如 +08:00")
    total = fire_due_timers(instant)
    click.echo(f"已触发 {total} 个实例的定时器。")


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one round and exit.")
@click.option("--interval", default=2.0, help="Seconds between rounds.")
def worker(once: bool, interval: float) -> None:
    """Embedded worker: the jobs of app/jobs.py in a loop (Celery runs them with BROKER_URL)."""
    from app.engine.sandbox import limit_memory
    from app.worker import run_round

    if current_app.config.get("BROKER_URL") and not once:
        click.echo(
            "BROKER_URL 已设置：后台任务由 Celery 执行（celery -A app.celery_app:celery worker / "
            "beat），内嵌 worker 不启动。"
        )
        return

    limit_memory(current_app.config.get("WORKER_MEMORY_LIMIT_MB", 0))
    click.echo("CreditFlow worker started.")
    while True:
        try:
            run_round()
        except Exception:  # the loop must survive a bad round; details are logged
            logger.exception("worker round failed")
        if once:
            return
        time.sleep(interval)


@bench_cli.command("engine")
@click.option(
    "--postgres",
    "pg_url",
    default=None,
    help="PostgreSQL server URL; a scratch database is created and dropped there.",
)
@click.option("--sqlite/--no-sqlite", default=True)
@click.option("--samples", default=30, show_default=True)
def bench_engine(pg_url: str | None, sqlite: bool, samples: int) -> None:
    """p50/p95 of load+complete+save at 10, 100 and 500 completed tasks."""
    from bench.engine_bench import run

    targets = ([None] if sqlite else []) + ([pg_url] if pg_url else [])
    click.echo("backend     completed  p50 ms  p95 ms  state KB")
    for url in targets:
        for row in run(url, samples=samples):
            click.echo(
                f"{row['backend']:<11} {row['completed']:>9} {row['p50_ms']:>7.1f} "
                f"{row['p95_ms']:>7.1f} {row['state_kb']:>9.1f}"
            )


@bench_cli.command("documents")
@click.option("--samples", default=20, show_default=True)
def bench_documents(samples: int) -> None:
    """p50/p95 of rendering each document kind (WeasyPrint, CJK fonts, QR)."""
    from bench.documents_bench import run

    click.echo("kind                     p50 ms  p95 ms  first ms     KB")
    for kind, row in run(samples=samples).items():
        click.echo(
            f"{kind:<24} {row['p50_ms']:>7.1f} {row['p95_ms']:>7.1f} "
            f"{row['first_ms']:>9.1f} {row['kb']:>6.1f}"
        )


def _int_list(value: str) -> tuple[int, ...]:
    try:
        numbers = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError as exc:
        raise click.BadParameter("请用逗号分隔的正整数，如 1,10,50") from exc
    if not numbers or min(numbers) < 1:
        raise click.BadParameter("请用逗号分隔的正整数，如 1,10,50")
    return numbers


def _write_json(path: str | None, result: object) -> None:
    import json

    if path:
        Path(path).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        click.echo(f"JSON: {path}")


@bench_cli.command("http")
@click.option("--postgres", "pg_url", required=True, help="PostgreSQL server URL (scratch db).")
@click.option("--clients", default="1,10,50", show_default=True, help="Comma-separated N.")
@click.option("--duration", default=30.0, show_default=True, help="Measured seconds per N.")
@click.option("--warmup", default=3.0, show_default=True, help="Unmeasured seconds per N.")
@click.option("--workers", default=None, type=int, help="gunicorn workers [2×CPUs+1].")
@click.option("--threads", default=1, show_default=True, help="gunicorn threads per worker.")
@click.option("--json", "json_path", default=None, help="Also write the result as JSON here.")
def bench_http(
    pg_url: str,
    clients: str,
    duration: float,
    warmup: float,
    workers: int | None,
    threads: int,
    json_path: str | None,
) -> None:
    """credit_repair through the REST API on gunicorn + PostgreSQL: completions/s, p50/p95/p99."""
    from bench.http_load import markdown, run

    result = run(
        pg_url,
        _int_list(clients),
        duration=duration,
        warmup=warmup,
        workers=workers,
        threads=threads,
        log=click.echo,
    )
    click.echo(markdown(result))
    _write_json(json_path, result)


@bench_cli.command("inbox")
@click.option("--postgres", "pg_url", required=True, help="PostgreSQL server URL (scratch db).")
@click.option("--instances", "n_instances", default=100_000, show_default=True)
@click.option("--tasks", "n_tasks", default=1_000_000, show_default=True)
@click.option("--runs", default=50, show_default=True)
@click.option("--try-indexes", is_flag=True, help="Also measure with the index candidates.")
@click.option("--out", "out_dir", default=None, help="EXPLAIN files go here [instance/bench].")
@click.option("--json", "json_path", default=None, help="Also write the result as JSON here.")
def bench_inbox(
    pg_url: str,
    n_instances: int,
    n_tasks: int,
    runs: int,
    try_indexes: bool,
    out_dir: str | None,
    json_path: str | None,
) -> None:
    """Approver inbox (candidate tab) p50/p95 on a bulk-seeded database, with EXPLAIN ANALYZE."""
    from bench.inbox import markdown, run

    result = run(
        pg_url,
        n_instances,
        n_tasks,
        runs=runs,
        out_dir=Path(out_dir) if out_dir else None,
        try_indexes=try_indexes,
        log=click.echo,
    )
    click.echo(markdown(result))
    _write_json(json_path, result)


@bench_cli.command("growth")
@click.option("--postgres", "pg_url", default=None, help="PostgreSQL server URL [SQLite file].")
@click.option("--sizes", default="10,500", show_default=True, help="Completed tasks measured.")
@click.option("--samples", default=30, show_default=True)
@click.option("--profile-at", default=500, show_default=True, help="cProfile at this size.")
@click.option("--json", "json_path", default=None, help="Also write the result as JSON here.")
def bench_growth(
    pg_url: str | None, sizes: str, samples: int, profile_at: int, json_path: str | None
) -> None:
    """Completion latency at each size of one instance, growth ratio, cProfile at one size."""
    from bench.growth import run

    result = run(pg_url, _int_list(sizes), samples=samples, profile_at=profile_at)
    click.echo(f"backend {result['backend']}, load {result['loadavg_before'][0]}")
    click.echo("| completed tasks | p50 ms | p95 ms | state KB |\n|---|---|---|---|")
    for row in result["rows"]:
        click.echo(
            f"| {row['completed']} | {row['p50_ms']} | {row['p95_ms']} | {row['state_kb']} |"
        )
    click.echo(f"growth of p50: {result['growth_p50']}×")
    for order, text in result["profile"].items():
        click.echo(f"\n--- cProfile at {profile_at}, by {order} ---\n{text}")
    _write_json(json_path, result)
