"""/api/v1/tasks: inbox, details with form, claim, unclaim, complete."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from app.api import bp
from app.api.common import api_user, json_body, token_required
from app.api.pagination import Filters, paginate
from app.extensions import db
from app.models import HumanTask, ProcessInstance
from app.services import instances, model_texts, task_views, tasks
from app.services.uow import transaction


@bp.route("/tasks")
@token_required()
def list_tasks() -> Response:
    """`?scope=mine|candidate|all&state=ready|completed&process_key=&due_before=`.

    Soonest due first (tasks without a deadline last); `due_before` keeps the tasks due
    strictly before that date (midnight, local time) or time.
    """
    filters = Filters()
    scope = filters.choice("scope", ("mine", "candidate", "all"), "candidate") or "candidate"
    state = filters.choice("state", ("ready", "completed"), "ready") or "ready"
    process_key = filters.text("process_key")
    due_before = filters.moment("due_before")
    filters.done()
    query = tasks.scoped_tasks(api_user(), scope, state)
    if process_key:
        query = query.where(HumanTask.process_key == process_key)
    if due_before is not None:
        query = query.where(HumanTask.due_at < due_before)
    query = query.order_by(
        HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id
    )
    return jsonify(paginate(db.session, query, tasks.task_dict))


@bp.route("/tasks/<task_id>")
@token_required()
def get_task(task_id: str) -> Response:
    """The task, its JSON Schema form and the data it may see."""
    task = tasks.get_task(db.session, task_id, api_user())
    instance = db.session.get(ProcessInstance, task.instance_id)
    body = tasks.task_dict(task)
    form = instance.version.forms.get(task.form_file or "") if instance else None
    # labels in the request's language (?lang=en); field names and enum values never change
    body["form"] = model_texts.schema_text(instance.version, form) if instance else None
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
