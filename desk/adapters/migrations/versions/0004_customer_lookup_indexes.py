"""customer look-up indexes: trigram indexes so type-ahead stays fast on a large shared database

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 07:06:00

Type-ahead matches the start of any word of a name and any part of a phone number, which a
b-tree cannot serve: at 500,000 customers a keystroke took 150-470 ms. PostgreSQL's pg_trgm
serves LIKE '%…%' from a GIN index. SQLite scans, which is fast enough on one PC.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("name_key", "customer_number", "national_id", "account_number", "phone_digits")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        op.execute(
            f"CREATE INDEX ix_customers_{column}_trgm ON customers "
            f"USING gin ({column} gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_customers_{column}_trgm")
