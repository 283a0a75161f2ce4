"""A wrong or dead database address is a clear message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.bootstrap import Desk
from desk.services.errors import DatabaseUnavailable


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database address"),
        ("mysql://somewhere/desk", "not a database address"),
        ("sqlite:////proc/no-such-dir/desk.sqlite3", "cannot be created or opened"),
    ],
)
def test_unusable_addresses_are_explained(url: str, message: str) -> None:
    with pytest.raises(DatabaseUnavailable, match=message):
        Desk.open(url)


def test_a_file_that_is_not_a_database_is_explained_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_text("my shopping list")
    with pytest.raises(DatabaseUnavailable, match="could not be opened"):
        Desk.open(f"sqlite:///{path}")
    assert path.read_text() == "my shopping list"


def test_another_programs_sqlite_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    import sqlite3
    from contextlib import closing

    path = tmp_path / "invoices.sqlite3"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total TEXT)")
        conn.execute("INSERT INTO invoices (total) VALUES ('12.50')")
        conn.commit()
    with pytest.raises(DatabaseUnavailable, match="another program's data"):
        Desk.open(f"sqlite:///{path}")
    with closing(sqlite3.connect(path)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["invoices"]
