"""Comments on a case: approvers see all of them, the applicant only those marked visible."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Comment, ProcessInstance, Role, User
from app.services import audit
from app.services.errors import InvalidInputError, NotFoundError
from app.services.instances import can_view_instance

MAX_LENGTH = 2000


def _require_view(session: Session, instance: ProcessInstance, actor: User) -> None:
    if not can_view_instance(session, actor, instance):
        raise NotFoundError(_("流程实例不存在或您无权查看。"))


def add_comment(
    session: Session,
    instance: ProcessInstance,
    actor: User,
    body: str,
    visible_to_applicant: bool = False,
) -> Comment:
    """Add a remark to a case the actor may see; the applicant's own remarks are always visible."""
    _require_view(session, instance, actor)
    body = (body or "").strip()
    if not body:
        message = _("请填写意见内容。")
        raise InvalidInputError(message, {"body": [message]})
    if len(body) > MAX_LENGTH:
        raise InvalidInputError(
            _("意见内容过长。"), {"body": [_("意见内容请控制在 %(n)s 字以内。", n=MAX_LENGTH)]}
        )
    visible = True if actor.role == Role.ENTERPRISE else bool(visible_to_applicant)
    comment = Comment(
        instance_id=instance.id, author_id=actor.id, body=body, visible_to_applicant=visible
    )
    session.add(comment)
    session.flush()
    audit.record(
        session,
        "comment.added",
        actor=actor,
        object_type="process_instance",
        object_id=str(instance.id),
        details={"comment": comment.id, "visible_to_applicant": visible},
    )
    return comment


def list_comments(session: Session, instance: ProcessInstance, actor: User) -> list[Comment]:
    """The case's comments, oldest first, as far as the actor may read them."""
    _require_view(session, instance, actor)
    query = select(Comment).where(Comment.instance_id == instance.id)
    if actor.role == Role.ENTERPRISE:
        query = query.where(Comment.visible_to_applicant.is_(True))
    return list(session.scalars(query.order_by(Comment.created_at, Comment.id)))


def author_names(session: Session, comments: Iterable[Comment]) -> dict[int, str]:
    """Display names of the comments' authors."""
    ids = {c.author_id for c in comments}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
