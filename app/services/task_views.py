"""What a person sees of an open task: its instructions and the data it may see."""

from __future__ import annotations

import logging
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape
from sqlalchemy.orm import Session

from app.engine import runner
from app.i18n import translate_stored_deep
from app.models import HumanTask, ProcessInstance, Role, User
from app.services import host

logger = logging.getLogger(__name__)
_jinja = SandboxedEnvironment(autoescape=True)  # process owners write these templates
_INTERNAL_PREFIXES = ("spiff__",)


def _visible(data: dict[str, Any], actor: User) -> dict[str, Any]:
    """Task data minus engine internals; enterprises never see internal review opinions."""
    shown = {
        k: v
        for k, v in data.items()
        if not k.startswith(_INTERNAL_PREFIXES) and not k.startswith("_")
    }
    if actor.role == Role.ENTERPRISE:
        shown = {k: v for k, v in shown.items() if not k.startswith("internal_")}
    return shown


def render_instructions(template: str | None, data: dict[str, Any]) -> str | None:
    """Render `instructionsForEndUser` in Jinja's sandbox; a broken template shows as plain text.

    The template is the process model's own text; the texts the application stored in the data
    (reasons, labels) are shown in the request's language (`translate_stored`).
    """
    if not template:
        return None
    try:
        return _jinja.from_string(template).render(**translate_stored_deep(data))
    except (TemplateError, TypeError, ValueError) as exc:
        logger.warning("instructions template failed: %s", exc)
        return str(escape(template))  # shown as text, never as markup


def task_view(session: Session, task: HumanTask, actor: User) -> dict[str, Any]:
    """Instructions and data of a READY task (read-only: nothing is saved)."""
    if task.state != "ready":
        return {"instructions": None, "data": task.form_data or {}}
    instance = session.get(ProcessInstance, task.instance_id)
    if instance is None:
        return {"instructions": None, "data": {}}
    from app.services.definitions import load_specs

    load_specs(instance.version)
    workflow = runner.load(instance.state, host.script_engine_for(session, instance, actor))
    try:
        view = next(v for v in runner.snapshot(workflow).ready_tasks if v.id == task.id)
    except StopIteration:
        return {"instructions": None, "data": {}}
    data = runner.jsonable(view.data)
    return {
        "instructions": render_instructions(view.instructions, data),
        "data": _visible(data, actor),
    }
