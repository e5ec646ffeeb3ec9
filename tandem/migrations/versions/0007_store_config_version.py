"""stores.config_version (per-process caches see changes); process beats and the owner of a
payment in flight (a dead process's payments are taken over at once)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import tandem.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.add_column(sa.Column("config_version", sa.BigInteger(), server_default="0", nullable=False))
    op.create_table(
        "process_beats",
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("started_at", tandem.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", tandem.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_process_beats")),
    )
    with op.batch_alter_table("payment_transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_by", sa.String(length=100), nullable=True))
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.alter_column("owner", type_=sa.String(length=100), existing_type=sa.String(length=40))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.alter_column("owner", type_=sa.String(length=40), existing_type=sa.String(length=100))
    with op.batch_alter_table("payment_transactions", schema=None) as batch_op:
        batch_op.drop_column("locked_by")
    op.drop_table("process_beats")
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_column("config_version")
