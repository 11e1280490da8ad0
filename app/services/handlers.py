"""Service-task handlers: the only place BPMN may cause side effects.

A BPMN service task names a handler (`spiffworkflow:serviceTaskOperator id="records.flag"`);
the handler runs inside the instance's unit of work with the session, the instance and the
evaluated parameters, and returns a JSON-serialisable result stored in task data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.models import ProcessInstance, User


@dataclass(frozen=True)
class HandlerContext:
    session: Session
    instance: ProcessInstance
    task_data: dict[str, Any]
    actor: User | None = None  # who completed the task that led here (None: system, timers)


Handler = Callable[[HandlerContext, dict[str, Any]], Any]
HANDLERS: dict[str, Handler] = {}
# What each handler does, in a sentence for process owners (a lazy string: Chinese by default,
# English in an English request); the studio shows it next to the handler's name.
HANDLER_LABELS: dict[str, Any] = {}


def handler(name: str, label: Any = None) -> Callable[[Handler], Handler]:
    """Register a service-task handler under `name`, described by `label` (`_l("…")`)."""

    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        if label is not None:
            HANDLER_LABELS[name] = label
        return fn

    return register


@handler("system.echo", label=_l("原样返回参数（供测试和试用服务任务）"))
def _echo(ctx: HandlerContext, params: dict[str, Any]) -> Any:
    """Return the parameters (used by tests and by process owners to try service tasks)."""
    return params
