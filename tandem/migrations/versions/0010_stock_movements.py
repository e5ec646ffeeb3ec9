"""stock_movements: who changed a variant's stock by hand, and when

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 12:20:00
"""

import sqlalchemy as sa
from alembic import op

import tandem.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stock_movements",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("store_id", BIG_ID, nullable=False),
        sa.Column("variant_id", BIG_ID, nullable=False),
        sa.Column("on_hand_before", sa.BigInteger(), nullable=False),
        sa.Column("on_hand_after", sa.BigInteger(), nullable=False),
        sa.Column("available", sa.BigInteger(), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", tandem.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_stock_movements_store_id_stores")),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_stock_movements_variant_id_variants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_movements_store_id"), ["store_id"], unique=False)
        batch_op.create_index("ix_stock_movements_variant", ["variant_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_movements_variant")
        batch_op.drop_index(batch_op.f("ix_stock_movements_store_id"))
    op.drop_table("stock_movements")
