"""The guided-script library in the shared database, on SQLite and on PostgreSQL: drafts checked as
files are, published versions that never change, retirement, moods an admin assigns, files in and
out, the insight report, and who may do what (on PostgreSQL the database itself refuses too).

The PostgreSQL demo database is shared by the whole test session, so these tests make scripts of
their own (``t_…``) and retire them afterwards; a shipped script is only changed on a private
database.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from desk.adapters.database import make_engine
from desk.adapters.pg_roles import login_role_name
from desk.domain.case import CaseDetails
from desk.domain.customer import CustomerDetails
from desk.domain.script_run import ScriptRun
from desk.domain.scripts import (
    Library,
    Mood,
    Outcome,
    StepKind,
    builtin_directory,
    load_builtin_library,
    new_script_source,
    parse_script_text,
)
from desk.services.admin import AdminInputError, NewStaff
from desk.services.dto import ScriptRunToSave
from desk.services.errors import ConflictError, NotFound, PermissionRefused
from desk.services.script_library import SHIPPED_BY, ScriptRefused
from tests.conftest import DEMO_PASSWORD, PostgresServer, _prepare_demo_database

Desk = Any
BUILTIN = load_builtin_library()
T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
IMMUTABLE = "cannot be changed or deleted"


def new_id() -> str:
    return "t_" + uuid.uuid4().hex[:8]


def script_text(script_id: str, title: str = "Test script", *, leads_to: str = "") -> str:
    """A small valid script; with ``leads_to``, its question has an answer going to that
    script."""
    source = new_script_source(script_id, title)
    if leads_to:
        source = source.replace(
            "answers = [\n",
            f'answers = [\n  {{ id = "onward", text.en = "Go on", script = "{leads_to}" }},\n',
            1,
        )
    return source


@pytest.fixture
def admin(desk_factory: Callable[..., Desk]) -> Iterator[Desk]:
    """The demo administrator; every ``t_`` script a test made is retired (its draft discarded)
    afterwards, so the shared library looks as it did."""
    desk = desk_factory("admin")
    yield desk
    ours = [e for e in desk.scripts.entries() if e.script_id.startswith("t_")]
    for entry in ours:
        if entry.has_draft:
            desk.scripts.discard_draft(entry.script_id)
        if entry.moods_assigned:
            desk.scripts.assign_moods(entry.script_id, None)
    pending = {e.script_id for e in ours if e.published_version is not None and not e.retired}
    progress = True
    while pending and progress:  # scripts that others lead to go once those are gone
        progress = False
        for script_id in sorted(pending):
            try:
                desk.scripts.retire(script_id)
            except ScriptRefused:
                continue
            pending.discard(script_id)
            progress = True
    assert not pending, f"scripts leading to each other were left in use: {pending}"


def publish_new(admin: Desk, title: str = "Test script", *, leads_to: str = "") -> str:
    script_id = new_id()
    admin.scripts.save_draft(script_text(script_id, title, leads_to=leads_to))
    assert admin.scripts.publish([script_id]) == [1]
    return script_id


def entry_of(desk: Desk, script_id: str) -> Any:
    return next(e for e in desk.scripts.entries() if e.script_id == script_id)


def script_audit(desk: Desk, script_id: str) -> list[tuple[str, str]]:
    with desk.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT action, actor_name FROM audit_events "
                "WHERE entity = 'script' AND entity_id = :e ORDER BY id"
            ),
            {"e": script_id},
        ).all()
    return [(r[0], r[1]) for r in rows]


# --- what every client runs ---------------------------------------------------------------------


def test_the_shipped_scripts_are_published_at_version_one(
    desk_factory: Callable[..., Desk],
) -> None:
    officer = desk_factory("officer")
    library = officer.scripts.published()
    for script in BUILTIN:
        published = library.at_version(script.id, 1)
        assert published is not None and published.steps == script.steps
        assert library[script.id].version == 1 and library[script.id].title == script.title
    admin = desk_factory("admin")
    entries = {e.script_id: e for e in admin.scripts.entries()}
    for script in BUILTIN:
        assert entries[script.id].published_by == SHIPPED_BY
        assert entries[script.id].live
    assert entries["cannot_grant"].linked_from == ("deescalate_angry", "last")
    # An officer walks a shipped script straight from the database's library.
    run = ScriptRun(library, "last", T0)
    assert run.step.id == "listen"


# --- drafts ---------------------------------------------------------------------------------------


def _unknown_kind(source: str) -> str:
    return source.replace('kind = "guidance"', 'kind = "lecture"', 1)


def _missing_field(source: str) -> str:
    return source.replace('outcome = "escalated"\n', "", 1)


def _unknown_placeholder(source: str) -> str:
    return source.replace("{customer_name}", "{customer_shoe_size}", 1)


def _missing_step(source: str) -> str:
    return source.replace('goto = "calmed"', 'goto = "celebrate"', 1)


def _huge(source: str) -> str:
    return source + "# " + "x" * (10 * 1024 * 1024) + "\n"


@pytest.mark.parametrize(
    ("damage", "where", "says"),
    [
        (lambda s: s.replace('kind = "say"', 'kind = "say', 1), (None, None), "not valid TOML"),
        (_unknown_kind, ("listen", "kind"), "'lecture' is not known"),
        (_missing_field, ("escalated", "outcome"), "is missing"),
        (_unknown_placeholder, ("say_sorry", "phrases[0].en"), "unknown placeholder"),
        (_missing_step, ("solved", "answers[0].goto"), "'celebrate' that does not exist"),
        (_huge, (None, None), "too large"),
    ],
    ids=[
        "bad_toml",
        "unknown_kind",
        "missing_field",
        "unknown_placeholder",
        "missing_step",
        "10MB",
    ],
)
def test_a_draft_with_a_mistake_is_refused_saying_where_and_nothing_is_saved(
    admin: Desk,
    damage: Callable[[str], str],
    where: tuple[str | None, str | None],
    says: str,
) -> None:
    script_id = new_id()
    with pytest.raises(ScriptRefused) as refused:
        admin.scripts.save_draft(damage(script_text(script_id)), source_name="my draft")
    problems = refused.value.problems
    assert problems, "the refusal says what is wrong"
    assert all(p.file == "my draft" for p in problems)
    assert any((p.step, p.field) == where and says in p.message for p in problems), problems
    assert script_id not in {e.script_id for e in admin.scripts.entries()}
    with pytest.raises(NotFound):
        admin.scripts.draft(script_id)


def test_a_new_script_is_saved_as_a_draft_and_published_as_version_one(admin: Desk) -> None:
    script_id = new_id()
    saved = admin.scripts.save_draft(script_text(script_id, "Refused refunds"))
    assert saved.stored and saved.revision == 1 and saved.based_on_version is None
    entry = entry_of(admin, script_id)
    assert entry.has_draft and entry.published_version is None and not entry.live
    assert entry.title == "Refused refunds" and entry.draft_updated_by == admin.session.full_name
    assert script_id not in admin.scripts.published()  # a draft is not offered to officers

    assert admin.scripts.publish([script_id]) == [1]
    library = admin.scripts.published()
    assert library[script_id].version == 1
    entry = entry_of(admin, script_id)
    assert entry.live and not entry.has_draft
    assert entry.published_by == admin.session.full_name


def test_publishing_an_edit_gives_the_next_version_and_the_old_one_stays_readable(
    admin: Desk, desk_factory: Callable[..., Desk]
) -> None:
    script_id = publish_new(admin)
    opened = admin.scripts.draft(script_id)
    assert not opened.stored and opened.revision == 0 and opened.based_on_version == 1
    edited = opened.source.replace("What the officer does first.", "Let them speak first.")
    saved = admin.scripts.save_draft(edited, script_id=script_id, expected_revision=0)
    assert saved.based_on_version == 1 and "\nversion = 2\n" in saved.source
    assert admin.scripts.publish([script_id]) == [2]

    officer = desk_factory("officer")
    library = officer.scripts.published()
    assert library[script_id].version == 2
    assert library[script_id].step("listen").text.in_language("en") == "Let them speak first."
    first = library.at_version(script_id, 1)
    assert first is not None
    assert first.step("listen").text.in_language("en") == "What the officer does first."
    assert "\nversion = 1\n" in admin.scripts.version_source(script_id, 1)
    assert "\nversion = 2\n" in admin.scripts.version_source(script_id, 2)
    assert [v.version for v in admin.scripts.history(script_id)] == [2, 1]
    with pytest.raises(NotFound):
        admin.scripts.version_source(script_id, 3)


def test_the_id_of_a_script_cannot_change_in_an_edit(admin: Desk) -> None:
    script_id = publish_new(admin)
    other = new_id()
    with pytest.raises(ScriptRefused, match="Keep the id") as refused:
        admin.scripts.save_draft(script_text(other), script_id=script_id)
    assert [p.field for p in refused.value.problems] == ["id"]
    assert not entry_of(admin, script_id).has_draft
    assert other not in {e.script_id for e in admin.scripts.entries()}


def test_a_new_script_needs_an_id_no_script_uses(admin: Desk) -> None:
    with pytest.raises(ScriptRefused, match="already has a script") as refused:
        admin.scripts.save_draft(script_text("last"))
    assert [p.field for p in refused.value.problems] == ["id"]
    assert not entry_of(admin, "last").has_draft
    # The text offered for a new script starts with a free id.
    start = parse_script_text(admin.scripts.new_script_source("A fresh one"))
    assert start.id not in {e.script_id for e in admin.scripts.entries()}
    assert start.title.in_language("en") == "A fresh one"


def test_two_admins_saving_the_same_draft_the_second_is_told_of_the_conflict(
    admin: Desk, desk_factory: Callable[..., Desk]
) -> None:
    other = desk_factory("admin")
    script_id = publish_new(admin)
    mine, theirs = admin.scripts.draft(script_id), other.scripts.draft(script_id)
    assert mine.revision == theirs.revision == 0
    first = admin.scripts.save_draft(
        mine.source.replace("Did that settle it?", "Is it settled?"),
        script_id=script_id,
        expected_revision=mine.revision,
    )
    with pytest.raises(ConflictError, match="saved this draft after you opened it"):
        other.scripts.save_draft(
            theirs.source.replace("Did that settle it?", "All sorted?"),
            script_id=script_id,
            expected_revision=theirs.revision,
        )
    # Reopened, the draft shows the first save to build on; an old revision is refused again.
    again = other.scripts.draft(script_id)
    assert again.revision == first.revision and "Is it settled?" in again.source
    second = other.scripts.save_draft(
        again.source.replace("Is it settled?", "All sorted?"),
        script_id=script_id,
        expected_revision=again.revision,
    )
    with pytest.raises(ConflictError):
        admin.scripts.save_draft(first.source, script_id=script_id, expected_revision=1)
    with pytest.raises(ConflictError):
        admin.scripts.discard_draft(script_id, expected_revision=first.revision)
    assert "All sorted?" in admin.scripts.draft(script_id).source
    admin.scripts.discard_draft(script_id, expected_revision=second.revision)
    assert not admin.scripts.draft(script_id).stored


def test_drafts_that_lead_to_each_other_are_published_together_not_one_alone(
    admin: Desk,
) -> None:
    first, second = new_id(), new_id()
    admin.scripts.save_draft(script_text(first, "First"))
    admin.scripts.save_draft(script_text(second, "Second", leads_to=first))
    admin.scripts.save_draft(
        script_text(first, "First", leads_to=second), script_id=first, expected_revision=1
    )
    with pytest.raises(ScriptRefused, match="Publish the scripts it leads to first") as refused:
        admin.scripts.publish([first])
    assert any(second in p.message for p in refused.value.problems)
    assert entry_of(admin, first).published_version is None
    assert entry_of(admin, first).has_draft

    assert admin.scripts.publish([first, second]) == [1, 1]
    library = admin.scripts.published()
    assert first in library and second in library
    assert entry_of(admin, first).linked_from == (second,)
    assert entry_of(admin, second).linked_from == (first,)
    # Neither can be retired while the other leads to it; an edit breaks the circle.
    with pytest.raises(ScriptRefused):
        admin.scripts.retire(first)
    admin.scripts.save_draft(script_text(first, "First"), script_id=first)
    assert admin.scripts.publish([first]) == [2]
    admin.scripts.retire(second)
    assert second not in admin.scripts.published()


def test_a_draft_leading_to_a_script_that_does_not_exist_is_refused(admin: Desk) -> None:
    script_id = new_id()
    with pytest.raises(ScriptRefused, match="not in the library") as refused:
        admin.scripts.save_draft(script_text(script_id, leads_to="t_nowhere"))
    assert [(p.step, p.field) for p in refused.value.problems] == [("solved", "answers[0].script")]


# --- published versions never change --------------------------------------------------------------


def _try_to_change(conn: Any, script_id: str) -> None:
    statements = [
        "UPDATE script_versions SET source = 'id = \"gone\"' WHERE script_id = :s",
        "DELETE FROM script_versions WHERE script_id = :s",
    ]
    for statement in statements:
        with pytest.raises(DBAPIError), conn.begin():
            conn.execute(text(statement), {"s": script_id})


def test_a_published_version_cannot_be_changed_or_deleted_even_with_sql(
    admin: Desk, database_url: str, backend: str
) -> None:
    script_id = publish_new(admin)
    before = admin.scripts.version_source(script_id, 1)
    # As the admin (on PostgreSQL their own login role, on SQLite the file itself) ...
    with admin.engine.connect() as conn:
        _try_to_change(conn, script_id)
    # ... and as the database's owner.
    owner = make_engine(database_url)
    try:
        with owner.connect() as conn:
            for statement in (
                "UPDATE script_versions SET title = 'Changed' WHERE script_id = :s",
                "DELETE FROM script_versions WHERE script_id = :s",
            ):
                with pytest.raises(DBAPIError, match=IMMUTABLE), conn.begin():
                    conn.execute(text(statement), {"s": script_id})
            if backend == "postgresql":
                with pytest.raises(DBAPIError, match=IMMUTABLE), conn.begin():
                    conn.execute(text("TRUNCATE script_versions"))
    finally:
        owner.dispose()
    assert admin.scripts.version_source(script_id, 1) == before
    assert admin.scripts.published()[script_id].version == 1


# --- retiring -------------------------------------------------------------------------------------


def test_a_script_others_lead_to_cannot_be_retired_until_they_are(admin: Desk) -> None:
    target = publish_new(admin, "Target")
    leading = publish_new(admin, "Leads there", leads_to=target)
    with pytest.raises(ScriptRefused, match="Leads there"):
        admin.scripts.retire(target)
    assert target in admin.scripts.published()
    with pytest.raises(ScriptRefused, match="Calming an angry customer"):
        admin.scripts.retire("cannot_grant")  # a shipped one: nothing changes
    assert "cannot_grant" in admin.scripts.published()

    admin.scripts.retire(leading)
    admin.scripts.retire(target)
    library = admin.scripts.published()
    assert target not in library and leading not in library


def test_a_retired_script_leaves_the_library_keeps_its_versions_and_can_come_back(
    admin: Desk, desk_factory: Callable[..., Desk]
) -> None:
    script_id = publish_new(admin, "Soon retired")
    admin.scripts.assign_moods(script_id, ["anxious"])
    admin.scripts.retire(script_id)
    officer = desk_factory("officer")
    library = officer.scripts.published()
    assert script_id not in library
    assert library.propose(Mood.ANXIOUS) is not None
    assert library.propose(Mood.ANXIOUS).id != script_id
    kept = library.at_version(script_id, 1)
    assert kept is not None and kept.title.in_language("en") == "Soon retired"
    assert (script_id, 1) in library.earlier
    entry = entry_of(admin, script_id)
    assert entry.retired and not entry.live and entry.published_version == 1

    admin.scripts.restore(script_id)
    library = officer.scripts.published()
    assert library[script_id].version == 1
    assert library.propose(Mood.ANXIOUS).id == script_id
    assert not entry_of(admin, script_id).retired


def test_discarding_the_draft_of_a_script_never_published_takes_the_script_away(
    admin: Desk,
) -> None:
    script_id = new_id()
    admin.scripts.save_draft(script_text(script_id))
    admin.scripts.discard_draft(script_id)
    assert script_id not in {e.script_id for e in admin.scripts.entries()}
    with pytest.raises(NotFound):
        admin.scripts.retire(script_id)


# --- moods ----------------------------------------------------------------------------------------


def test_assigned_moods_make_the_panel_propose_the_script_and_none_goes_back(
    admin: Desk, desk_factory: Callable[..., Desk]
) -> None:
    officer = desk_factory("officer")
    before = officer.scripts.published().propose(Mood.CALM)
    assert before is not None
    script_id = publish_new(admin, "Calm first")  # its file suits "frustrated" only

    admin.scripts.assign_moods(script_id, ["calm", "calm"])
    library = officer.scripts.published()
    assert library.propose(Mood.CALM).id == script_id
    assert library.propose("calm").id == script_id
    # The script whose file proposed "calm" no longer claims it.
    assert Mood.CALM not in library[before.id].proposed_for
    entry = entry_of(admin, script_id)
    assert entry.moods_assigned and entry.proposed_for == ("calm",)

    admin.scripts.assign_moods(script_id, None)
    library = officer.scripts.published()
    assert library.propose(Mood.CALM).id == before.id
    assert library[before.id].proposed_for == before.proposed_for
    assert not entry_of(admin, script_id).moods_assigned

    with pytest.raises(ScriptRefused, match="Unknown mood"):
        admin.scripts.assign_moods(script_id, ["grumpy"])


# --- files in and out -----------------------------------------------------------------------------


def test_importing_files_makes_drafts_skips_unchanged_ones_and_reports_broken_ones(
    admin: Desk, tmp_path: Path
) -> None:
    fresh, edited = new_id(), publish_new(admin, "To be edited")
    good = tmp_path / "good.toml"
    good.write_text(script_text(fresh, "Imported"), encoding="utf-8")
    change = tmp_path / "change.toml"
    change.write_text(
        script_text(edited, "To be edited").replace("Did that settle it?", "Settled?"),
        encoding="utf-8",
    )
    same = tmp_path / "last.toml"
    same.write_text((builtin_directory() / "last.toml").read_text(encoding="utf-8"), "utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(_unknown_kind(script_text(new_id())), encoding="utf-8")
    twin = tmp_path / "twin.toml"
    twin.write_text(script_text(fresh, "Imported twice"), encoding="utf-8")

    results = admin.scripts.import_files([good, change, same, broken, twin])

    by_file = {r.file: r for r in results}
    assert [r.file for r in results] == [
        "good.toml",
        "change.toml",
        "last.toml",
        "broken.toml",
        "twin.toml",
    ]
    assert by_file["good.toml"].imported and by_file["good.toml"].new_script
    assert by_file["change.toml"].imported and not by_file["change.toml"].new_script
    assert by_file["last.toml"].unchanged and by_file["last.toml"].imported
    assert not by_file["broken.toml"].imported
    assert {(p.file, p.step, p.field) for p in by_file["broken.toml"].problems} == {
        ("broken.toml", "listen", "kind")
    }
    assert [p.field for p in by_file["twin.toml"].problems] == ["id"]

    assert admin.scripts.draft(fresh).stored
    assert "Settled?" in admin.scripts.draft(edited).source
    assert "\nversion = 2\n" in admin.scripts.draft(edited).source
    assert not entry_of(admin, "last").has_draft
    assert fresh not in admin.scripts.published()  # a draft until it is published


def test_files_that_lead_to_each_other_are_imported_together(admin: Desk, tmp_path: Path) -> None:
    first, second = new_id(), new_id()
    (tmp_path / "first.toml").write_text(script_text(first, leads_to=second), encoding="utf-8")
    (tmp_path / "second.toml").write_text(script_text(second, leads_to=first), encoding="utf-8")
    alone = admin.scripts.import_files([tmp_path / "first.toml"])
    assert [p.field for p in alone[0].problems] == ["answers[0].script"]
    both = admin.scripts.import_files([tmp_path / "first.toml", tmp_path / "second.toml"])
    assert [(r.imported, r.new_script) for r in both] == [(True, True), (True, True)]
    again = admin.scripts.import_files([tmp_path / "first.toml"])
    assert again[0].imported and again[0].replaced_draft
    assert admin.scripts.publish([first, second]) == [1, 1]
    # Break the circle again, so both can be retired.
    admin.scripts.save_draft(script_text(first), script_id=first)
    assert admin.scripts.publish([first]) == [2]


def test_an_exported_script_imported_again_is_unchanged(admin: Desk, tmp_path: Path) -> None:
    script_id = publish_new(admin, "Round trip")
    draft = admin.scripts.draft(script_id)
    admin.scripts.save_draft(
        draft.source.replace("Round trip", "Round trip, the draft"), script_id=script_id
    )
    path = admin.scripts.export(script_id, tmp_path / "one.toml")
    assert path.read_text(encoding="utf-8") == admin.scripts.version_source(script_id, 1)
    draft_path = admin.scripts.export(script_id, tmp_path / "draft.toml", draft=True)
    assert "Round trip, the draft" in draft_path.read_text(encoding="utf-8")
    [again] = admin.scripts.import_files([path])
    assert again.unchanged and again.script_id == script_id
    assert "Round trip, the draft" in admin.scripts.draft(script_id).source  # left alone

    folder = tmp_path / "all"
    folder.mkdir()
    written = admin.scripts.export_all(folder)
    live = set(admin.scripts.published().scripts)
    assert {p.stem for p in written} == live
    assert {s.id for s in BUILTIN} | {script_id} <= live
    results = admin.scripts.import_files(sorted(written))
    assert all(r.unchanged for r in results), [r for r in results if not r.unchanged]
    with pytest.raises(NotFound):
        admin.scripts.export("t_never_made", tmp_path / "none.toml")


# --- who may do what ------------------------------------------------------------------------------


def test_a_counter_officer_may_not_change_or_list_the_library(
    admin: Desk, desk_factory: Callable[..., Desk], tmp_path: Path
) -> None:
    script_id = publish_new(admin, "Not theirs")
    admin.scripts.save_draft(admin.scripts.draft(script_id).source, script_id=script_id)
    officer = desk_factory("officer")
    file = tmp_path / "new.toml"
    file.write_text(script_text(new_id()), encoding="utf-8")
    attempts: dict[str, Callable[[], object]] = {
        "entries": officer.scripts.entries,
        "history": lambda: officer.scripts.history(script_id),
        "draft": lambda: officer.scripts.draft(script_id),
        "save new": lambda: officer.scripts.save_draft(script_text(new_id())),
        "save edit": lambda: officer.scripts.save_draft(
            script_text(script_id), script_id=script_id, expected_revision=1
        ),
        "discard": lambda: officer.scripts.discard_draft(script_id),
        "publish": lambda: officer.scripts.publish([script_id]),
        "retire": lambda: officer.scripts.retire(script_id),
        "retire linked": lambda: officer.scripts.retire("cannot_grant"),
        "restore": lambda: officer.scripts.restore(script_id),
        "moods": lambda: officer.scripts.assign_moods(script_id, ["calm"]),
        "import": lambda: officer.scripts.import_files([file]),
        "export": lambda: officer.scripts.export(script_id, tmp_path / "out.toml"),
        "export all": lambda: officer.scripts.export_all(tmp_path),
    }
    for name, attempt in attempts.items():
        with pytest.raises(PermissionRefused, match="manage_scripts"):
            attempt()
            pytest.fail(f"{name} was allowed")
    entry = entry_of(admin, script_id)
    assert entry.live and entry.has_draft and entry.draft_revision == 1
    assert not entry.moods_assigned and entry.published_version == 1
    assert not (tmp_path / "out.toml").exists()
    assert officer.scripts.published()[script_id].version == 1  # reading what runs is for all


def test_on_postgresql_an_officers_own_login_cannot_write_the_library(
    postgres: PostgresServer, pg_demo_database: str
) -> None:
    """A modified client (or psql) with the officer's login is refused by the database itself;
    the admin's login, holding manage_scripts, may."""
    url = postgres.admin_url

    def connect(username: str) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=url.host,
            port=url.port or 5432,
            user=login_role_name(pg_demo_database, username),
            dbname=pg_demo_database,
        )

    script_id = new_id()
    attempts = [
        ("INSERT INTO scripts (id, created_at) VALUES (%s, now())", (script_id,)),
        (
            "INSERT INTO script_versions (uuid, script_id, version, title, source, published_at) "
            "VALUES (%s, 'last', 99, 'Hijacked', 'id = \"last\"', now())",
            (uuid.uuid4(),),
        ),
        (
            "INSERT INTO script_drafts (script_id, source, updated_at) "
            "VALUES ('last', 'id = \"last\"', now())",
            (),
        ),
        ("UPDATE scripts SET retired_at = now() WHERE id = 'last'", ()),
        ("UPDATE scripts SET proposed_for = 'calm' WHERE id = 'cannot_grant'", ()),
        ("DELETE FROM script_drafts", ()),
    ]
    with connect("officer") as conn:
        for statement, args in attempts:
            with pytest.raises(
                (psycopg.errors.InsufficientPrivilege, psycopg.errors.RaiseException)
            ) as refused:
                conn.execute(statement, args)
            conn.rollback()
            assert "manage_scripts" in str(refused.value) or "permission denied" in str(
                refused.value
            )
        assert conn.execute("SELECT count(*) FROM script_versions").fetchone()[0] > 0
    with connect("admin") as conn:  # the same drafts are the admin's to write; undone
        conn.execute(attempts[0][0], attempts[0][1])
        conn.execute(
            "INSERT INTO script_drafts (script_id, source, updated_at) VALUES (%s, 'x', now())",
            (script_id,),
        )
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE script_versions SET title = 'x' WHERE script_id = 'last'")
        conn.rollback()


# --- insight --------------------------------------------------------------------------------------


def walk(
    library: Library,
    script_id: str,
    answers: Mapping[str, str] | None = None,
    *,
    stop_on: str | None = None,
) -> ScriptRun:
    """Follow a script as an officer would, answering as told; ten seconds a move."""
    answers = answers or {}
    clock = (T0 + dt.timedelta(seconds=10 * i) for i in itertools.count())
    run = ScriptRun(library, script_id, next(clock), language="en")
    while not run.finished and run.step.id != stop_on:
        step = run.step
        if step.kind is StepKind.ASK:
            run.choose(answers[step.id], next(clock))
        else:
            if step.kind is StepKind.CHECK:
                run.tick(True, next(clock))
            run.next(next(clock))
    return run


def new_case(desk: Desk) -> Any:
    customer = desk.customers.create(CustomerDetails(full_name=f"Insight {uuid.uuid4().hex[:8]}"))
    return desk.cases.create(
        CaseDetails(
            customer_id=customer.id,
            customer_words="The letter says my benefit stopped; nobody told me why.",
            officer_understanding="Benefit stopped without explanation",
        )
    )


def test_insight_counts_runs_by_outcome_and_version_and_tells_where_escalations_turned(
    admin: Desk, desk_factory: Callable[..., Desk]
) -> None:
    script_id = publish_new(admin, "Insightful")
    officer = desk_factory("officer")
    case = new_case(officer)

    def record(*runs: ScriptRun) -> None:
        for run in runs:
            officer.cases.script_runs.save(case.id, ScriptRunToSave(uuid.uuid4(), run.record()))

    first = officer.scripts.published()
    record(
        walk(first, script_id, {"solved": "yes"}),
        walk(first, script_id, {"solved": "no"}),
        walk(first, script_id, {"solved": "no"}),
        walk(first, script_id, stop_on="solved"),
    )
    draft = admin.scripts.draft(script_id)
    admin.scripts.save_draft(
        draft.source.replace("Did that settle it?", "Is it settled now?").replace(
            "No, a supervisor is needed", "No, they want a supervisor"
        ),
        script_id=script_id,
    )
    assert admin.scripts.publish([script_id]) == [2]
    second = officer.scripts.published()
    record(walk(second, script_id, {"solved": "no"}))

    report = {r.script_id: r for r in admin.scripts.insight()}
    insight = report[script_id]
    assert insight.title == "Insightful" and not insight.retired
    assert insight.runs == 5 and insight.escalated == 3
    assert dict(insight.outcomes) == {
        Outcome.CALMED_AND_RESOLVED.value: 1,
        Outcome.ESCALATED.value: 3,
        "unfinished": 1,
    }
    assert insight.by_version == ((2, 1), (1, 4))
    [turn] = insight.turns
    assert (turn.script_id, turn.step_id, turn.answer_id, turn.runs) == (
        script_id,
        "solved",
        "no",
        3,
    )
    # Told in the words of the newest version that has the question.
    assert (turn.question, turn.answer) == ("Is it settled now?", "No, they want a supervisor")
    assert [v.runs for v in admin.scripts.history(script_id)] == [1, 4]
    later = {r.script_id: r for r in admin.scripts.insight(since=T0 + dt.timedelta(days=1))}
    assert later[script_id].runs == 0 and later[script_id].turns == ()
    assert entry_of(admin, script_id).runs == 5

    # Runs of a script that was retired are still counted.
    admin.scripts.retire(script_id)
    retired = {r.script_id: r for r in admin.scripts.insight()}[script_id]
    assert retired.retired and retired.runs == 5 and retired.title == "Insightful"


def test_a_supervisor_may_read_the_insight_report_and_an_officer_may_not(
    desk_factory: Callable[..., Desk],
) -> None:
    supervisor = desk_factory("supervisor")
    assert {s.id for s in BUILTIN} <= {r.script_id for r in supervisor.scripts.insight()}
    officer = desk_factory("officer")
    with pytest.raises(PermissionRefused, match="view_reports"):
        officer.scripts.insight()


# --- the audit trail ------------------------------------------------------------------------------


def test_every_change_to_the_library_is_in_the_audit_trail(admin: Desk) -> None:
    script_id = new_id()
    admin.scripts.save_draft(script_text(script_id))
    admin.scripts.publish([script_id])
    admin.scripts.assign_moods(script_id, ["calm"])
    admin.scripts.assign_moods(script_id, [])
    admin.scripts.assign_moods(script_id, None)
    admin.scripts.retire(script_id)
    admin.scripts.restore(script_id)
    admin.scripts.save_draft(admin.scripts.draft(script_id).source, script_id=script_id)
    admin.scripts.discard_draft(script_id)

    trail = script_audit(admin, script_id)
    assert [action for action, _ in trail] == [
        "script.draft_saved",
        "script.published",
        "script.moods_assigned",
        "script.moods_assigned",
        "script.moods_assigned",
        "script.retired",
        "script.restored",
        "script.draft_saved",
        "script.draft_discarded",
    ]
    assert {name for _, name in trail} == {admin.session.full_name}
    with admin.engine.connect() as conn:
        details = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT details FROM audit_events WHERE entity = 'script' AND entity_id = :e "
                    "AND action = 'script.moods_assigned' ORDER BY id"
                ),
                {"e": script_id},
            )
        ]
    # "(file)": what the script's own text proposes; "": proposed for no mood at all.
    assert [(d["before"], d["after"]) for d in map(json.loads, details)] == [
        ("(file)", "calm"),
        ("calm", ""),
        ("", "(file)"),
    ]
    checked, broken = admin.verify_audit_trail()
    assert broken is None and checked >= len(trail)


# --- each officer's language ----------------------------------------------------------------------


def test_the_language_an_admin_saves_is_in_the_persons_session_at_the_next_login(
    desk_factory: Callable[..., Desk],
) -> None:
    admin = desk_factory("admin")
    username = "u" + uuid.uuid4().hex[:8]
    password = "a long enough password 1"
    info = admin.admin.add_staff(
        NewStaff(username, "Lucía Idioma", "Counter Officer", "CEN"), password
    )
    assert info.language == ""
    assert desk_factory(username, password).session.language == ""

    with pytest.raises(AdminInputError) as refused:
        admin.admin.update_staff(username, expected_version=info.version, language="Spanish!")
    assert refused.value.field == "language"
    changed = admin.admin.update_staff(username, expected_version=info.version, language=" pt-BR ")
    assert changed.language == "pt-BR"
    assert {s.username: s.language for s in admin.admin.staff()}[username] == "pt-BR"
    assert desk_factory(username, password).session.language == "pt-BR"

    cleared = admin.admin.update_staff(username, expected_version=changed.version, language="")
    assert cleared.language == ""
    assert desk_factory(username, password).session.language == ""


# --- a shipped script changed (a private database: the shared one keeps its scripts) -------------


@pytest.fixture
def private_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    if backend == "sqlite":
        yield str(request.getfixturevalue("sqlite_demo_url"))
        return
    postgres: PostgresServer = request.getfixturevalue("postgres")
    name = postgres.create_database("desk_test_library")
    _prepare_demo_database(postgres.url(name), login_roles=True)
    yield postgres.url(name)
    postgres.drop_database(name)


def test_a_shipped_script_edited_gets_version_two_and_runs_of_version_one_keep_their_words(
    private_url: str,
) -> None:
    from desk.bootstrap import Desk as RealDesk

    admin, officer = RealDesk.open(private_url), RealDesk.open(private_url)
    try:
        admin.login("admin", DEMO_PASSWORD)
        officer.login("officer", DEMO_PASSWORD)
        case = new_case(officer)
        old_run = walk(officer.scripts.published(), "last", stop_on="can_solve")
        officer.cases.script_runs.save(case.id, ScriptRunToSave(uuid.uuid4(), old_run.record()))
        question = BUILTIN["last"].step("can_solve").text.in_language("en")

        draft = admin.scripts.draft("last")
        assert draft.source == (builtin_directory() / "last.toml").read_text(encoding="utf-8")
        admin.scripts.save_draft(
            draft.source.replace(question, "Can you put it right here and now?"),
            script_id="last",
        )
        assert admin.scripts.publish(["last"]) == [2]

        library = officer.scripts.published()
        assert library["last"].version == 2
        assert library["last"].step("can_solve").text.in_language("en") == (
            "Can you put it right here and now?"
        )
        [stored] = officer.cases.script_runs.list_for_case(case.id)
        followed = library.at_version(stored.script_id, stored.record.script_version)
        assert followed is not None and followed.version == 1
        assert followed.step("can_solve").text.in_language("en") == question
        # A file of the shipped version is no longer "unchanged": it would be a new draft.
        [result] = admin.scripts.import_files([builtin_directory() / "last.toml"])
        assert result.imported and not result.unchanged
        assert admin.scripts.draft("last").based_on_version == 2
    finally:
        admin.close()
        officer.close()
