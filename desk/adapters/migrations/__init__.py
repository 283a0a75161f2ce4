"""Alembic migrations of the Desk schema, shipped inside the package."""

# The newest revision, so start-up can check a database's schema without loading Alembic.
# tests/integration/test_migrations.py keeps it equal to the newest file in versions/.
HEAD_REVISION = "0011"
