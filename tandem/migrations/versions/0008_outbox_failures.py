"""Partial indexes on failed emails and webhook deliveries (the admin Outbox and /metrics
count them)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

FAILED = sa.text("status = 'failed'")


def upgrade() -> None:
    for table in ("emails", "webhook_deliveries"):
        op.create_index(
            f"ix_{table}_failed", table, ["store_id"], postgresql_where=FAILED, sqlite_where=FAILED
        )


def downgrade() -> None:
    for table in ("emails", "webhook_deliveries"):
        op.drop_index(f"ix_{table}_failed", table_name=table)
