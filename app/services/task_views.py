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
from app.services.model_texts import model_text, model_text_deep

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


def render_instructions(
    template: str | None, data: dict[str, Any], version: Any = None
) -> str | None:
    """Render `instructionsForEndUser` in Jinja's sandbox; a broken template shows as plain text.

    The template is the process model's own text, in the request's language when `version`
    translates it (`model_texts`); the texts stored in the data (the model's sentences, the
    application's reasons and labels) are shown in the request's language too.
    """
    if not template:
        return None
    shown_data = model_text_deep(version, data) if version is not None else data
    shown_data = translate_stored_deep(shown_data) if version is None else shown_data
    translated = model_text(version, template) if version is not None else template
    for text in dict.fromkeys((translated, template)):
        try:
            return _jinja.from_string(text).render(**shown_data)
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
        "instructions": render_instructions(view.instructions, data, instance.version),
        "data": _visible(data, actor),
    }
