"""api_tokens.last_used_at (the admin page shows when each token was last used)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 11:30:00
"""

import sqlalchemy as sa
from alembic import op

import tandem.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", tandem.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
