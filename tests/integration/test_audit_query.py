"""Reading the audit trail a page at a time with filters, exporting it (the export is audited
too), and the organisation settings the admin console changes; on both databases."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from desk.adapters.unit_of_work import UnitOfWork
from desk.services import audit
from desk.services.admin import AdminInputError
from desk.services.audit import AuditFilter
from desk.services.errors import ConflictError, DeskError, PermissionRefused

T0 = dt.datetime(2031, 3, 1, 9, 0, tzinfo=dt.UTC)


def _write_entries(desk: Any, entity_id: str, count: int, *, actor_name: str) -> None:
    """``count`` entries about one made-up entity, one day apart from T0 (oldest first)."""
    with UnitOfWork(desk.engine) as uow:
        for day in range(count):
            audit.record(
                uow,
                actor=desk.session,
                actor_name=actor_name,
                action="query_test" if day % 2 == 0 else "query_test.other",
                entity="query_test",
                entity_id=entity_id,
                details={"day": day},
                at=T0 + dt.timedelta(days=day),
            )
        uow.commit()


def test_pages_are_newest_first_and_never_overlap(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    entity_id = uuid.uuid4().hex
    _write_entries(admin, entity_id, 7, actor_name="Quentin Query")
    wanted = AuditFilter(entity="query_test", entity_id=entity_id)
    seen: list[int] = []
    page = admin.admin.audit_entries(wanted, limit=3)
    pages = 1
    while True:
        seen += [row.id for row in page.rows]
        assert all(row.entity_id == entity_id for row in page.rows)
        if page.next_before_id is None:
            break
        page = admin.admin.audit_entries(wanted, before_id=page.next_before_id, limit=3)
        pages += 1
    assert pages == 3 and len(seen) == 7 == len(set(seen))
    assert seen == sorted(seen, reverse=True), "newest first"
    first = admin.admin.audit_entries(wanted, limit=7)
    assert first.next_before_id is None, "an exactly full last page says there is no more"
    assert first.rows[0].details == '{"day":6}'


def test_filters_by_action_who_and_date_range(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    entity_id = uuid.uuid4().hex
    marker = uuid.uuid4().hex[:6]
    _write_entries(admin, entity_id, 6, actor_name=f"Ophelia {marker} O'Neil")
    base = AuditFilter(entity="query_test", entity_id=entity_id)

    def days(wanted: AuditFilter) -> list[str]:
        return [row.details for row in admin.admin.audit_entries(wanted).rows]

    only_action = AuditFilter(entity="query_test", entity_id=entity_id, action="query_test")
    assert days(only_action) == ['{"day":4}', '{"day":2}', '{"day":0}']
    by_name = AuditFilter(actor=f"ophelia {marker.upper()}")  # any case, any part of the name
    assert len(days(by_name)) == 6
    assert days(AuditFilter(actor=f"{marker}%")) == [], "% is a character, not a wildcard"
    in_range = AuditFilter(
        entity=base.entity,
        entity_id=base.entity_id,
        since=T0 + dt.timedelta(days=1),
        until=T0 + dt.timedelta(days=3),
    )
    assert days(in_range) == ['{"day":2}', '{"day":1}'], "since inclusive, until exclusive"
    rows = admin.admin.audit_entries(in_range).rows
    assert all(r.at.tzinfo is not None for r in rows)
    assert days(AuditFilter(entity="query_test", entity_id="no such thing")) == []
    facets = admin.admin.audit_facets()
    assert {"query_test", "query_test.other", "login"} <= set(facets.actions)
    assert "query_test" in facets.entities


def test_the_trail_is_read_only_with_the_permission(desk: Any) -> None:
    with pytest.raises(PermissionRefused, match="view_audit"):
        desk.admin.audit_entries(AuditFilter())
    with pytest.raises(PermissionRefused, match="view_audit"):
        desk.admin.export_audit(Path("never-written.csv"))


def test_an_export_writes_the_file_and_is_itself_audited(desk_factory: Any, tmp_path: Path) -> None:
    admin = desk_factory("admin")
    target = tmp_path / "trail.csv"
    written = admin.admin.export_audit(target)
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert written == len(rows) > 0
    assert not target.with_suffix(".csv.part").exists()
    newest = admin.admin.audit_entries(AuditFilter(action="audit_export"), limit=1).rows[0]
    assert newest.actor_name == admin.session.full_name
    assert f'"entries":{written}' in newest.details and '"file":"trail.csv"' in newest.details
    assert int(newest.entity_id) == int(rows[-1]["id"]), "it names the last entry exported"
    assert newest.id > int(rows[-1]["id"]), "the export's own entry comes after the copy"
    _, broken = admin.verify_audit_trail()
    assert broken is None


def test_an_export_that_cannot_be_written_leaves_no_file_and_no_entry(
    desk_factory: Any, tmp_path: Path
) -> None:
    admin = desk_factory("admin")
    before = admin.admin.audit_entries(AuditFilter(action="audit_export"), limit=1).rows
    target = tmp_path / "missing-folder" / "trail.csv"
    with pytest.raises(DeskError, match="cannot be written"):
        admin.admin.export_audit(target)
    assert not target.parent.exists()
    after = admin.admin.audit_entries(AuditFilter(action="audit_export"), limit=1).rows
    assert [r.id for r in after] == [r.id for r in before]


def test_the_command_line_export_is_audited_as_the_operator(
    sqlite_demo_url: str, tmp_path: Path
) -> None:
    from desk.adapters.database import make_engine

    engine = make_engine(sqlite_demo_url)
    try:
        count = audit.export_csv(lambda: UnitOfWork(engine), tmp_path / "cli.csv")
        with engine.connect() as conn:
            action, name, details = conn.execute(
                text("SELECT action, actor_name, details FROM audit_events ORDER BY id DESC")
            ).first() or ("", "", "")
    finally:
        engine.dispose()
    assert (action, name) == ("audit_export", audit.OPERATOR_NAME)
    assert f'"entries":{count}' in details


def test_the_rolling_window_for_limits_is_validated_and_audited(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    before = admin.admin.settings().grant_window_days
    for bad in ("0", "3651", "a year", "1.5", "-3", ""):
        with pytest.raises(AdminInputError) as refused:
            admin.admin.set_grant_window_days(bad)
        assert refused.value.field == "grant_window_days"
        assert "whole number of days from 1 to 3650" in str(refused.value)
    new_value = 181 if before != 181 else 182
    try:
        assert admin.admin.set_grant_window_days(str(new_value)) == new_value
        assert admin.admin.settings().grant_window_days == new_value
        entry = admin.admin.audit_entries(AuditFilter(entity_id="grant_window_days"), limit=1)
        assert entry.rows[0].details == f'{{"from":"{before}","to":"{new_value}"}}'
        assert entry.rows[0].actor_name == admin.session.full_name
    finally:
        admin.admin.set_grant_window_days(before)


def test_an_officer_cannot_change_the_settings(desk: Any) -> None:
    with pytest.raises(PermissionRefused, match="manage_limits"):
        desk.admin.set_grant_window_days(100)
    with pytest.raises(PermissionRefused, match="manage_organisation"):
        desk.admin.set_idle_lock_minutes(10)


def test_the_idle_lock_is_set_through_the_admin_service(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    before = admin.admin.settings().idle_lock_minutes
    with pytest.raises(AdminInputError) as refused:
        admin.admin.set_idle_lock_minutes(241)
    assert refused.value.field == "idle_lock_minutes"
    try:
        assert admin.admin.set_idle_lock_minutes(17 if before != 17 else 18) in (17, 18)
        assert admin.admin.settings().idle_lock_minutes in (17, 18)
    finally:
        admin.admin.set_idle_lock_minutes(before)
    assert admin.admin.settings().idle_lock_minutes == before


def test_a_conflict_says_who_changed_the_record(desk_factory: Any) -> None:
    first, second = desk_factory("admin"), desk_factory("admin")
    name = f"Conflict {uuid.uuid4().hex[:6]}"
    role = first.admin.create_role(name, rank=0, permissions=["create_cases"])
    try:
        first.admin.set_permissions(name, ["view_centre_cases"], expected_version=role.version)
        with pytest.raises(ConflictError) as told:
            second.admin.set_permissions(name, [], expected_version=role.version)
        assert told.value.changed_by == first.session.full_name
        assert told.value.changed_at is not None
        officer = next(s for s in first.admin.staff() if s.username == "officer")
        first.admin.update_staff("officer", expected_version=officer.version, full_name="Olly")
        with pytest.raises(ConflictError) as told_staff:
            second.admin.update_staff(
                "officer", expected_version=officer.version, full_name="Olive"
            )
        assert told_staff.value.changed_by == first.session.full_name
    finally:
        first.admin.delete_role(name)
        fresh = next(s for s in first.admin.staff() if s.username == "officer")
        first.admin.update_staff(
            "officer", expected_version=fresh.version, full_name=officer.full_name
        )


def test_the_centres_are_offered_with_their_codes(desk_factory: Any) -> None:
    centres = desk_factory("admin").admin.centres()
    assert centres and all(c.code and c.name for c in centres)
    assert [c.name for c in centres] == sorted(c.name for c in centres)
