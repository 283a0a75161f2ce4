"""Drafts keep unsaved forms across crashes; they must never stop the application from starting."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from desk.drafts import DraftStore


def test_saved_draft_is_loaded_back_with_its_time(tmp_path: Path) -> None:
    store = DraftStore(tmp_path / "drafts")
    before = dt.datetime.now(dt.UTC)
    store.save("abc-123", {"customer_words": "Mój rachunek 😀", "transactions": [["T1", "1.00"]]})
    drafts = store.load_all()
    assert len(drafts) == 1
    assert drafts[0].draft_id == "abc-123"
    assert drafts[0].data["customer_words"] == "Mój rachunek 😀"
    assert drafts[0].saved_at >= before


def test_saving_again_replaces_the_draft_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    store.save("a", {"v": 1})
    store.save("a", {"v": 2})
    assert [d.data for d in store.load_all()] == [{"v": 2}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_drafts_are_listed_newest_first(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    store.save("old", {})
    store.save("new", {})
    assert [d.draft_id for d in store.load_all()] == ["new", "old"]


def test_discard_forgets_the_draft_and_tolerates_a_missing_one(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    store.save("a", {"v": 1})
    store.discard("a")
    store.discard("a")
    assert store.load_all() == []


def test_corrupt_draft_is_moved_aside_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = DraftStore(tmp_path)
    store.save("good", {"v": 1})
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "wrong.json").write_text('["a list"]', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="desk.drafts"):
        drafts = store.load_all()
    assert [d.draft_id for d in drafts] == ["good"]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "bad.json" not in names and "wrong.json" not in names
    assert any(n.startswith("bad.json.corrupt-") for n in names)
    assert store.load_all()[0].draft_id == "good"


def test_missing_directory_means_no_drafts(tmp_path: Path) -> None:
    assert DraftStore(tmp_path / "nowhere").load_all() == []


def test_draft_id_cannot_escape_the_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        DraftStore(tmp_path).save("../evil", {})


def test_database_key_ignores_the_password_and_tells_databases_apart() -> None:
    from desk.drafts import database_key

    with_password = database_key("postgresql+psycopg://officer:s3cret@db.example/desk")
    assert with_password == database_key("postgresql+psycopg://officer@db.example/desk")
    assert "s3cret" not in with_password
    assert with_password != database_key("postgresql+psycopg://officer@db.example/other")
    assert database_key("sqlite:///a.db") != database_key("sqlite:///b.db")


def test_drafts_are_offered_only_to_their_database_and_user(tmp_path: Path) -> None:
    store = DraftStore(tmp_path)
    store.save("mine", {"database": "db1", "username": "ann", "v": 1})
    store.save("other-db", {"database": "db2", "username": "ann", "v": 2})
    store.save("other-user", {"database": "db1", "username": "bob", "v": 3})
    store.save("unowned", {"v": 4})
    assert [d.draft_id for d in store.load_for(database="db1", username="ann")] == ["mine"]
    assert len(store.load_all()) == 4, "the others are kept, only not offered here"
