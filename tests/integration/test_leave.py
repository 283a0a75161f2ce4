"""Leave and deputies on SQLite and PostgreSQL: a supervisor away has their items decided by the
deputy they named; the rule refuses a deputy who is away too, and never hands a request to the
person who made it.

On PostgreSQL each person is their own login role (a decider sets their own leave through the
database's SECURITY DEFINER function ``desk_set_my_leave``). The PostgreSQL demo database is shared
by the test session: every test here clears all leave when it ends (the ``leave`` fixture), works
on new customers and cases, withdraws the requests it left waiting, and compares counts before and
after rather than absolute numbers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import DBAPIError

from desk.adapters import orm
from desk.adapters.database import make_engine
from desk.domain.validation import ValidationError
from desk.services.admin import AdminInputError
from desk.services.audit import AuditFilter
from desk.services.errors import ConflictError, PermissionRefused
from desk.services.grants import Outcome
from desk.services.inbox import InboxQuery, InboxService, SentQuery, inbox_of
from tests.integration.test_cases_service import new_customer, walk_in_case

Desk = Any
DAY = dt.timedelta(days=1)


def today() -> dt.date:
    from desk.services.leave import today as leave_today

    return leave_today()


def fresh_case(desk: Desk, words: str = "The late fee is not fair") -> Any:
    """A case of a new customer, so no earlier grant counts towards the rolling total."""
    return desk.cases.create(walk_in_case(desk, new_customer(desk).id, words))


def ids_in(inbox: InboxService) -> set[int]:
    found: set[int] = set()
    page = inbox.page()
    found |= {i.id for i in page.items}
    while page.next_cursor is not None:
        page = inbox.page(after=page.next_cursor)
        found |= {i.id for i in page.items}
    return found


def sent_by_id(desk: Desk) -> dict[int, Any]:
    return {i.id: i for i in inbox_of(desk).sent(SentQuery(page_size=500)).items}


class Leave:
    """Requests to withdraw and leave to clear when the test ends, whatever happened."""

    def __init__(self, owner: Engine) -> None:
        self.owner = owner
        self.requests: list[tuple[Desk, int]] = []

    def request(self, desk: Desk, amount: int, kind: str = "waiver", reason: str = "Fee") -> Any:
        made = desk.grants.request(fresh_case(desk).id, kind, amount, reason)
        self.requests.append((desk, made.id))
        return made

    def staff_id(self, username: str) -> int:
        with self.owner.connect() as conn:
            return int(
                conn.execute(
                    select(orm.Staff.id).where(orm.Staff.username == username)
                ).scalar_one()
            )

    def other_supervisor(self, *, same_centre: bool) -> str:
        """Another supervisor's user name, of the demo supervisor's centre or of another."""
        with self.owner.connect() as conn:
            centre = conn.execute(
                select(orm.Staff.centre_id).where(orm.Staff.username == "supervisor")
            ).scalar_one()
            here = orm.Staff.centre_id == centre
            return str(
                conn.execute(
                    select(orm.Staff.username)
                    .join(orm.Role, orm.Role.id == orm.Staff.role_id)
                    .where(
                        orm.Role.name == "Supervisor",
                        orm.Staff.username != "supervisor",
                        orm.Staff.active,
                        here if same_centre else ~here,
                    )
                    .order_by(orm.Staff.id)
                    .limit(1)
                ).scalar_one()
            )

    def clear_all(self) -> None:
        with self.owner.begin() as conn:  # the owner's rights: whatever state the test left
            conn.execute(
                update(orm.Staff)
                .where(orm.Staff.away_from.is_not(None) | orm.Staff.deputy_id.is_not(None))
                .values(away_from=None, away_until=None, deputy_id=None)
            )

    def tidy(self) -> None:
        self.clear_all()
        for desk, request_id in self.requests:
            if sent_by_id(desk)[request_id].is_open:
                desk.grants.withdraw(request_id)


@pytest.fixture
def owner(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def leave(owner: Engine) -> Iterator[Leave]:
    tracker = Leave(owner)
    tracker.clear_all()
    try:
        yield tracker
    finally:
        tracker.tidy()


# --- a supervisor away, a deputy deciding ---------------------------------------------------------


def test_while_a_supervisor_is_away_the_named_deputy_receives_and_decides_their_items(
    desk_factory: Any, leave: Leave
) -> None:
    officer, supervisor, manager = (desk_factory(u) for u in ("officer", "supervisor", "manager"))
    sam, mia = supervisor.session.full_name, manager.session.full_name
    deputy_inbox = inbox_of(manager)
    counted = deputy_inbox.counts()
    # What already waits for the supervisor by name (other tests share the database) joins too;
    # the centre's pool the manager sees already.
    theirs = [
        i
        for i in inbox_of(supervisor).page(InboxQuery(page_size=500)).items
        if i.assigned_to_id == supervisor.session.staff_id
    ]
    waiting = leave.request(officer, 80_000, reason="Penalty on a payment our bank lost")
    assert waiting.assigned_to == sam, "the supervisor is at work"
    assert waiting.id not in ids_in(deputy_inbox)

    mine = supervisor.leave.mine()
    assert (mine.away_from, mine.away_until, mine.deputy) == (None, None, None)
    choices = {d.username for d in supervisor.leave.deputies()}
    assert "manager" in choices and not {"supervisor", "officer", "admin"} & choices
    first, last = today(), today() + 6 * DAY
    set_ = supervisor.leave.set_mine(first, last, "manager", expected_version=mine.version)
    assert (set_.away_from, set_.away_until, set_.deputy, set_.deputy_name) == (
        first,
        last,
        "manager",
        mia,
    )
    assert set_.version > mine.version and set_.away_on(today())
    assert supervisor.leave.mine() == set_

    # A new request goes straight to the deputy; the one already waiting shows who decides it.
    new = leave.request(officer, 70_000, reason="Second penalty on the lost payment")
    assert new.status == "pending" and new.assigned_to == mia
    sent = sent_by_id(officer)
    assert sent[new.id].assigned_to == mia and sent[new.id].stand_in == ""
    assert sent[waiting.id].assigned_to == sam and sent[waiting.id].stand_in == mia

    assert {waiting.id, new.id} <= ids_in(deputy_inbox)
    counts = deputy_inbox.counts()
    their_waivers = sum(1 for i in theirs if i.kind == "waiver")
    assert counts.of("waiver") == counted.of("waiver") + their_waivers + 2
    assert counts.total == counted.total + len(theirs) + 2
    item = next(i for i in deputy_inbox.page().items if i.id == waiting.id)
    assert item.assigned_to == sam, "the deputy sees whose item it is"
    assert deputy_inbox.detail(waiting.id).may_approve

    approved = manager.grants.decide(new.id, Outcome.APPROVE, expected_version=sent[new.id].version)
    rejected = manager.grants.decide(
        waiting.id, Outcome.REJECT, reason="the penalty was correct", expected_version=item.version
    )
    assert (approved.status, rejected.status) == ("approved", "rejected")
    sent = sent_by_id(officer)
    assert sent[new.id].decided_by == mia and sent[waiting.id].decided_by == mia
    assert sent[waiting.id].stand_in == "", "decided: nobody stands in any more"
    assert not {waiting.id, new.id} & ids_in(deputy_inbox)
    assert deputy_inbox.counts().total == counted.total + len(theirs), "the rest still covered"


def test_when_the_leave_is_cleared_the_items_return_to_the_supervisor(
    desk_factory: Any, leave: Leave
) -> None:
    officer, supervisor, manager = (desk_factory(u) for u in ("officer", "supervisor", "manager"))
    waiting = leave.request(officer, 60_000)
    mine = supervisor.leave.mine()
    away = supervisor.leave.set_mine(
        today() - DAY, today() + DAY, "manager", expected_version=mine.version
    )
    assert waiting.id in ids_in(inbox_of(manager))
    back = supervisor.leave.set_mine(None, None, None, expected_version=away.version)
    assert (back.away_from, back.away_until, back.deputy) == (None, None, None)
    assert waiting.id not in ids_in(inbox_of(manager))
    assert waiting.id in ids_in(inbox_of(supervisor))
    item = sent_by_id(officer)[waiting.id]
    assert item.assigned_to == supervisor.session.full_name and item.stand_in == ""
    assert leave.request(officer, 60_000).assigned_to == supervisor.session.full_name


def test_the_deputy_passes_an_item_of_the_person_away_up_the_chain(
    desk_factory: Any, leave: Leave
) -> None:
    officer, supervisor, manager = (desk_factory(u) for u in ("officer", "supervisor", "manager"))
    colleague = desk_factory(leave.other_supervisor(same_centre=True))
    waiting = leave.request(officer, 90_000)
    mine = supervisor.leave.mine()
    supervisor.leave.set_mine(
        today(), today() + DAY, colleague.session.username, expected_version=mine.version
    )
    inbox = inbox_of(colleague)
    item = next(i for i in inbox.page().items if i.id == waiting.id)
    moved = inbox.escalate(waiting.id, "A large amount for me", expected_version=item.version)
    assert moved.assigned_to_id == manager.session.staff_id
    assert waiting.id not in ids_in(inbox) and waiting.id in ids_in(inbox_of(manager))
    assert sent_by_id(officer)[waiting.id].assigned_to == manager.session.full_name


def test_a_deputy_from_another_centre_opens_and_decides_the_items_they_cover(
    desk_factory: Any, leave: Leave
) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    deputy = desk_factory(leave.other_supervisor(same_centre=False))
    waiting = leave.request(officer, 60_000)
    mine = supervisor.leave.mine()
    supervisor.leave.set_mine(
        today(), today() + DAY, deputy.session.username, expected_version=mine.version
    )
    assert waiting.id in ids_in(inbox_of(deputy))
    assert inbox_of(deputy).detail(waiting.id).case.id == waiting.case_id
    assert deputy.grants.decide(waiting.id, Outcome.APPROVE).status == "approved"


def test_leave_that_has_not_begun_changes_nothing_yet(desk_factory: Any, leave: Leave) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    mine = supervisor.leave.mine()
    supervisor.leave.set_mine(
        today() + 3 * DAY, today() + 5 * DAY, "manager", expected_version=mine.version
    )
    later = leave.request(officer, 60_000)
    assert later.assigned_to == supervisor.session.full_name
    assert sent_by_id(officer)[later.id].stand_in == ""
    assert later.id not in ids_in(inbox_of(desk_factory("manager")))


# --- bad input ---------------------------------------------------------------------------------


def test_a_deputy_on_leave_in_an_overlapping_period_is_refused(
    desk_factory: Any, leave: Leave
) -> None:
    supervisor, manager, admin = (desk_factory(u) for u in ("supervisor", "manager", "admin"))
    boss = manager.leave.mine()
    manager.leave.set_mine(
        today() + 2 * DAY, today() + 4 * DAY, "supervisor", expected_version=boss.version
    )
    mine = supervisor.leave.mine()
    with pytest.raises(ValidationError) as refused:
        supervisor.leave.set_mine(
            today(), today() + 2 * DAY, "manager", expected_version=mine.version
        )
    assert set(refused.value.errors) == {"deputy"}
    assert "on leave themselves" in refused.value.errors["deputy"]
    assert supervisor.leave.mine() == mine, "nothing was written"

    staff = {s.username: s for s in admin.admin.staff()}
    with pytest.raises(AdminInputError, match="on leave themselves") as by_admin:
        admin.admin.set_leave(
            "supervisor",
            today() + 4 * DAY,
            today() + 9 * DAY,
            "manager",
            expected_version=staff["supervisor"].version,
        )
    assert by_admin.value.field == "deputy"

    after = supervisor.leave.set_mine(
        today(), today() + DAY, "manager", expected_version=mine.version
    )
    assert after.deputy == "manager", "the manager's leave begins after this one ends"


def test_bad_dates_and_deputies_are_refused_field_by_field(desk_factory: Any, leave: Leave) -> None:
    supervisor = desk_factory("supervisor")
    mine = supervisor.leave.mine()
    cases = [
        ((today() + 2 * DAY, today(), "manager"), "away_until"),
        ((today() - 9 * DAY, today() - DAY, "manager"), "away_until"),
        ((today(), None, "manager"), "away_until"),
        ((today(), today(), None), "deputy"),
        ((today(), today(), "supervisor"), "deputy"),
        ((today(), today(), "officer"), "deputy"),
        ((today(), today(), "nobody-of-that-name"), "deputy"),
    ]
    for (first, last, deputy), field in cases:
        with pytest.raises(ValidationError) as refused:
            supervisor.leave.set_mine(first, last, deputy, expected_version=mine.version)
        assert field in refused.value.errors, (first, last, deputy)
    assert supervisor.leave.mine() == mine, "nothing was written"


def test_the_requester_never_receives_their_own_request_as_a_deputy(
    desk_factory: Any, leave: Leave
) -> None:
    """The supervisor stands in for the manager; their own request above their limit, which the
    manager would decide, must not come back to them."""
    supervisor, manager = desk_factory("supervisor"), desk_factory("manager")
    before = leave.request(supervisor, 150_000, reason="Before the manager left")
    assert before.assigned_to == manager.session.full_name
    boss = manager.leave.mine()
    manager.leave.set_mine(today(), today() + 3 * DAY, "supervisor", expected_version=boss.version)

    inbox = inbox_of(supervisor)
    counted = inbox.counts()
    during = leave.request(supervisor, 150_000, reason="While the manager is away")
    assert during.assigned_to not in (None, supervisor.session.full_name)
    assert not {before.id, during.id} & ids_in(inbox), "never one's own request"
    assert inbox.counts().total == counted.total
    sent = sent_by_id(supervisor)
    assert sent[before.id].stand_in == "", "nobody may stand in: it waits for the manager"


def test_an_officer_does_not_set_leave_with_a_deputy(desk_factory: Any, leave: Leave) -> None:
    officer = desk_factory("officer")
    mine = officer.leave.mine()
    with pytest.raises(PermissionRefused):
        officer.leave.set_mine(today(), today() + DAY, "supervisor", expected_version=mine.version)
    assert officer.leave.mine() == mine


def test_a_stale_version_is_a_conflict(desk_factory: Any, leave: Leave) -> None:
    supervisor, admin = desk_factory("supervisor"), desk_factory("admin")
    mine = supervisor.leave.mine()
    staff = {s.username: s for s in admin.admin.staff()}
    admin.admin.set_leave(
        "supervisor",
        today(),
        today() + DAY,
        "manager",
        expected_version=staff["supervisor"].version,
    )
    with pytest.raises(ConflictError):
        supervisor.leave.set_mine(None, None, None, expected_version=mine.version)
    with pytest.raises(ConflictError):
        admin.admin.set_leave(
            "supervisor", None, None, None, expected_version=staff["supervisor"].version
        )
    assert supervisor.leave.mine().deputy == "manager", "neither stale change was written"


# --- the admin console ---------------------------------------------------------------------------


def test_an_admin_sets_and_clears_someones_leave_and_both_are_audited(
    desk_factory: Any, leave: Leave
) -> None:
    admin, supervisor = desk_factory("admin"), desk_factory("supervisor")
    staff = {s.username: s for s in admin.admin.staff()}
    first, last = today() + DAY, today() + 10 * DAY
    info = admin.admin.set_leave(
        "supervisor", first, last, "manager", expected_version=staff["supervisor"].version
    )
    assert (info.away_from, info.away_until, info.deputy) == (first, last, "manager")
    assert info.version > staff["supervisor"].version
    mine = supervisor.leave.mine()
    assert (mine.away_from, mine.away_until, mine.deputy) == (first, last, "manager")

    cleared = admin.admin.set_leave("supervisor", None, None, None, expected_version=info.version)
    assert (cleared.away_from, cleared.away_until, cleared.deputy) == (None, None, None)

    def entries(action: str) -> list[Any]:
        return admin.admin.audit_entries(
            AuditFilter(action=action, entity="staff", entity_id=str(info.id))
        ).rows

    set_entry, cleared_entry = entries("staff_leave_set")[0], entries("staff_leave_cleared")[0]
    assert set_entry.actor_name == admin.session.full_name
    assert json.loads(set_entry.details) == {
        "away_from": first.isoformat(),
        "away_until": last.isoformat(),
        "deputy": "manager",
    }
    assert json.loads(cleared_entry.details) == {
        "away_from": None,
        "away_until": None,
        "deputy": None,
    }
    assert cleared_entry.id > set_entry.id
    checked, broken = admin.verify_audit_trail()
    assert broken is None and checked > 0


def test_a_supervisors_own_leave_is_audited_in_their_name(desk_factory: Any, leave: Leave) -> None:
    supervisor, admin = desk_factory("supervisor"), desk_factory("admin")
    mine = supervisor.leave.mine()
    supervisor.leave.set_mine(today(), today() + DAY, "manager", expected_version=mine.version)
    rows = admin.admin.audit_entries(
        AuditFilter(
            action="staff_leave_set",
            entity="staff",
            entity_id=str(supervisor.session.staff_id),
        )
    ).rows
    assert rows[0].actor_name == supervisor.session.full_name
    assert json.loads(rows[0].details)["deputy"] == "manager"


def test_an_officer_may_not_set_anyones_leave_in_the_admin_console(
    desk_factory: Any, leave: Leave
) -> None:
    officer, admin = desk_factory("officer"), desk_factory("admin")
    staff = {s.username: s for s in admin.admin.staff()}
    with pytest.raises(PermissionRefused):
        officer.admin.set_leave(
            "supervisor",
            today(),
            today() + DAY,
            "officer",
            expected_version=staff["supervisor"].version,
        )
    assert {s.username: s for s in admin.admin.staff()}["supervisor"] == staff["supervisor"]


# --- PostgreSQL: the database refuses what the rule forbids --------------------------------------


# The database's own guard exists on PostgreSQL only.
ON_POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def _staff_rows(owner: Engine) -> dict[str, tuple[Any, ...]]:
    with owner.connect() as conn:
        return {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                text(
                    "SELECT username, away_from, away_until, deputy_id, version, active, "
                    "role_id, supervisor_id, full_name FROM staff"
                )
            )
        }


@ON_POSTGRESQL
def test_postgresql_refuses_an_officers_own_call_to_set_leave(
    desk_factory: Any, leave: Leave, owner: Engine
) -> None:
    officer = desk_factory("officer")
    manager_id = leave.staff_id("manager")
    before = _staff_rows(owner)
    with officer.engine.connect() as conn, pytest.raises(DBAPIError, match="decide_approvals"):
        conn.execute(
            text("SELECT desk_set_my_leave(CAST(:f AS date), CAST(:l AS date), :d)"),
            {"f": today(), "l": today() + DAY, "d": manager_id},
        )
    assert _staff_rows(owner) == before


@ON_POSTGRESQL
def test_postgresql_lets_a_supervisors_login_change_only_their_own_leave(
    desk_factory: Any, leave: Leave, owner: Engine
) -> None:
    supervisor = desk_factory("supervisor")
    manager_id, supervisor_id = leave.staff_id("manager"), leave.staff_id("supervisor")
    before = _staff_rows(owner)
    call = text("SELECT desk_set_my_leave(CAST(:f AS date), CAST(:l AS date), :d)")
    with supervisor.engine.connect() as conn:
        for refused in (
            {"f": today(), "l": today() + DAY, "d": supervisor_id},  # their own deputy
            {"f": today(), "l": today() + DAY, "d": None},  # nobody
            {"f": today() + DAY, "l": today(), "d": manager_id},  # backwards
            {"f": today(), "l": None, "d": manager_id},  # half a leave
        ):
            with pytest.raises(DBAPIError):
                conn.execute(call, refused)
            conn.rollback()
        with pytest.raises(DBAPIError, match="manage_staff"):  # the table itself: not theirs
            conn.execute(
                text("UPDATE staff SET away_from = CURRENT_DATE, deputy_id = :me WHERE id = :m"),
                {"me": supervisor_id, "m": manager_id},
            )
        conn.rollback()
        assert _staff_rows(owner) == before

        conn.execute(call, {"f": today(), "l": today() + 2 * DAY, "d": manager_id})
        conn.commit()
    after = _staff_rows(owner)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"supervisor"}
    away_from, away_until, deputy_id, version, *rest = after["supervisor"]
    assert (away_from, away_until, deputy_id) == (today(), today() + 2 * DAY, manager_id)
    assert version == before["supervisor"][3] + 1 and rest == list(before["supervisor"][4:])
    assert supervisor.leave.mine().deputy == "manager"
