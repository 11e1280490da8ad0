"""inbox: index for the done tab (completed_by_id, state)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 12:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.create_index("ix_human_task_done", ["completed_by_id", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_index("ix_human_task_done")
