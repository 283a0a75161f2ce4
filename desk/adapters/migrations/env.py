"""Alembic environment: runs inside Desk with the engine handed over in config.attributes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from desk.adapters.database import include_object, make_engine
from desk.adapters.orm import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine: Engine | None = config.attributes.get("engine")
    if engine is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("Desk migrations run online only: use `desk db upgrade`.")
run_migrations_online()
