"""Command line: `flask --app wsgi <group> <command>` (CONTRACT §6)."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.extensions import db
from app.services.errors import ServiceError
from app.services.uow import transaction

db_cli = AppGroup("db", help="数据库迁移 (Alembic)。")
seed_cli = AppGroup("seed", help="参考数据与演示数据。")
audit_cli = AppGroup("audit", help="审计日志。")
users_cli = AppGroup("users", help="账号。")
calendar_cli = AppGroup("calendar", help="工作日日历。")


def init_app(app: Flask) -> None:
    from app.cli_engine import bench_cli, bpmn_cli, timers_cli, worker

    groups = (db_cli, seed_cli, audit_cli, users_cli, calendar_cli, bpmn_cli, timers_cli, bench_cli)
    for group in groups:
        app.cli.add_command(group)
    app.cli.add_command(worker)


def _fail(message: str) -> None:
    click.secho(message, fg="red", err=True)
    raise SystemExit(1)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from app import migrate

    migrate.upgrade(current_app.config["DATABASE_URL"], revision)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. -1 or base)."""
    from app import migrate

    migrate.downgrade(current_app.config["DATABASE_URL"], revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (for developers)."""
    from alembic import command

    from app.migrate import alembic_config

    command.revision(
        alembic_config(current_app.config["DATABASE_URL"]), message=message, autogenerate=True
    )


@seed_cli.command("demo")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Seed as if today were this date (records are dated relative to it).",
)
def seed_demo_cmd(today: object) -> None:
    """Demo accounts, subjects, records and matters (idempotent)."""
    from app.services.seed import seed_demo

    day = today.date() if today is not None else _today()  # type: ignore[attr-defined]
    with transaction() as session:
        counts = seed_demo(session, password=current_app.config["DEMO_PASSWORD"], today=day)
    added = sum(counts.values())
    click.echo(f"演示数据：新增 {added} 条 {counts}" if added else "演示数据已存在，未作改动。")


@seed_cli.command("rules")
def seed_rules_cmd() -> None:
    """Insert the shipped publication-period rule rows that are missing."""
    from app.services.records import ensure_reference_rules

    with transaction() as session:
        added = ensure_reference_rules(session)
    click.echo(f"公示期限规则：新增 {added} 条。")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the audit hash chain; name the first broken entry."""
    from app.services.audit import verify_chain

    report = verify_chain(db.session())
    db.session.rollback()
    if report.ok:
        click.echo(f"审计链完整：共 {report.checked} 条。")
        return
    _fail(
        f"审计链损坏：第 {report.broken_seq} 条 — {report.reason}（此前 {report.checked} 条完好）"
    )


@users_cli.command("create")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice(["enterprise", "approver", "process_owner", "admin"])
)
@click.option("--department", "department_code", help="Department code (approvers).")
@click.option("--approver-role", type=click.Choice(["window", "reviewer", "inspector", "leader"]))
@click.option("--uscc", help="USCC of the enterprise's subject (enterprises).")
@click.option("--name", "display_name", help="Display name.")
@click.password_option(help="Password (prompted when omitted).")
def users_create(
    username: str,
    role: str,
    department_code: str | None,
    approver_role: str | None,
    uscc: str | None,
    display_name: str | None,
    password: str,
) -> None:
    """Create an account."""
    from app.services.accounts import create_user

    if role == "approver" and approver_role is None:
        approver_role = "reviewer"
    try:
        with transaction() as session:
            create_user(
                session,
                username=username,
                role=role,
                password=password,
                display_name=display_name,
                department_code=department_code,
                approver_role=approver_role,
                uscc=uscc,
            )
    except ServiceError as exc:
        fields = getattr(exc, "fields", {})
        _fail(exc.message + "".join(f"\n  {k}: {'; '.join(v)}" for k, v in fields.items()))
    click.echo(f"已创建账号 {username}（{role}）。")


@calendar_cli.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--workday/--holiday", required=True)
@click.option("--note", default="")
def calendar_set(day: object, workday: bool, note: str) -> None:
    """Record an official working day or holiday (e.g. from next year's State Council notice)."""
    from app.services.calendar import set_override

    with transaction() as session:
        set_override(session, day.date(), workday, note, actor=None)  # type: ignore[attr-defined]
    click.echo("已保存。")


def _today() -> date:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(current_app.config["APP_TIMEZONE"])).date()
