"""/api/v1/tasks: inbox, details with form, claim, unclaim, complete."""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.wrappers import Response

from app.api import bp
from app.api.common import api_user, json_body, token_required
from app.api.pagination import paginate
from app.extensions import db
from app.models import HumanTask, ProcessInstance
from app.services import instances, task_views, tasks
from app.services.errors import InvalidInputError
from app.services.uow import transaction


@bp.route("/tasks")
@token_required()
def list_tasks() -> Response:
    """`?scope=mine|candidate|all&state=ready|completed`."""
    scope = request.args.get("scope", "candidate")
    state = request.args.get("state", "ready")
    if scope not in ("mine", "candidate", "all") or state not in ("ready", "completed"):
        raise InvalidInputError(
            "scope 或 state 取值无效。",
            {"scope": ["mine / candidate / all"], "state": ["ready / completed"]},
        )
    query = tasks.scoped_tasks(api_user(), scope, state).order_by(
        HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at
    )
    return jsonify(paginate(db.session, query, tasks.task_dict))


@bp.route("/tasks/<task_id>")
@token_required()
def get_task(task_id: str) -> Response:
    """The task, its JSON Schema form and the data it may see."""
    task = tasks.get_task(db.session, task_id, api_user())
    instance = db.session.get(ProcessInstance, task.instance_id)
    body = tasks.task_dict(task)
    body["form"] = instance.version.forms.get(task.form_file or "") if instance else None
    body.update(task_views.task_view(db.session, task, api_user()))
    body["instance"] = (
        instances.instance_dict(db.session, instance, api_user())
        if (instance and instances.can_view_instance(db.session, api_user(), instance))
        else None
    )
    return jsonify(body)


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@token_required()
def claim_task(task_id: str) -> Response:
    with transaction() as session:
        task = tasks.claim(session, task_id, api_user())
        result = tasks.task_dict(task)
    return jsonify(result)


@bp.route("/tasks/<task_id>/unclaim", methods=["POST"])
@token_required()
def unclaim_task(task_id: str) -> Response:
    with transaction() as session:
        task = tasks.unclaim(session, task_id, api_user())
        result = tasks.task_dict(task)
    return jsonify(result)


@bp.route("/tasks/<task_id>/complete", methods=["POST"])
@token_required()
def complete_task(task_id: str) -> Response:
    """Complete with {"data": {...}}: 409 if not ready, 422 if the form rejects the data."""
    body = json_body()
    actor = api_user()
    with transaction() as session:
        instance, next_tasks = tasks.complete(session, task_id, body.get("data", {}), actor)
        result = {
            "instance": instances.instance_dict(session, instance, actor),
            "next_tasks": [tasks.task_dict(t) for t in next_tasks],
        }
    return jsonify(result)
