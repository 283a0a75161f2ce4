"""The supervisor's inbox and the officer's "sent for decision" view, on SQLite and PostgreSQL.

On PostgreSQL every person is their own login role, so what the inbox shows is also what the
database's row-level policies let them read. The PostgreSQL demo database is shared by the test
session, so other tests' requests may wait in the same inboxes: these tests look for their own
items and compare counts before and after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from desk.adapters import orm
from desk.adapters.database import make_engine
from desk.domain.validation import ValidationError
from desk.services.errors import ConflictError, DeskError, PermissionRefused
from desk.services.grants import AuthorityRefused, Outcome
from desk.services.inbox import (
    Aging,
    InboxQuery,
    InboxService,
    InboxSort,
    SentQuery,
    aging_of,
    inbox_of,
)
from tests.integration.test_cases_service import new_customer, walk_in_case
from tests.integration.test_script_runs import calmed, to_save

Desk = Any


def fresh_case(desk: Desk, words: str = "The late fee is not fair") -> Any:
    customer = new_customer(desk)
    return desk.cases.create(walk_in_case(desk, customer.id, words))


def every_item(inbox: InboxService, query: InboxQuery | None = None) -> list[Any]:
    """Page through the whole inbox; no item may come twice."""
    query = query or InboxQuery()
    items: list[Any] = []
    page = inbox.page(query)
    items += page.items
    while page.next_cursor is not None:
        page = inbox.page(query, after=page.next_cursor)
        items += page.items
    ids = [i.id for i in items]
    assert len(ids) == len(set(ids)), "an item came on two pages"
    return items


def ids_in(inbox: InboxService, query: InboxQuery | None = None) -> set[int]:
    return {i.id for i in every_item(inbox, query)}


def backdate(owner: Engine, request_id: int, **moments: dt.datetime) -> None:
    """Move a request's times back, as the owner (the database sets them to "now" for staff)."""
    with owner.begin() as conn:
        conn.execute(
            update(orm.ApprovalRequest)
            .where(orm.ApprovalRequest.id == request_id)
            .values(**moments)
        )


@pytest.fixture
def owner(database_url: str) -> Iterator[Engine]:
    """The database owner (migrations' rights): sets up what no staff member may write."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


# --- aging against the target: a pure rule --------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (0, Aging.WITHIN),
        (17.9, Aging.WITHIN),
        (18, Aging.NEAR),
        (23.99, Aging.NEAR),
        (24, Aging.OVERDUE),
        (500, Aging.OVERDUE),
    ],
)
def test_an_item_is_within_near_or_past_its_target(hours: float, expected: Aging) -> None:
    assert aging_of(dt.timedelta(hours=hours), 24) is expected


# --- routing seen from the inbox ----------------------------------------------------------------


def test_a_request_reaches_the_inbox_of_the_person_it_was_routed_to(desk_factory: Any) -> None:
    officer = desk_factory("officer")
    supervisor, manager = desk_factory("supervisor"), desk_factory("manager")
    case = fresh_case(officer)
    waiver = officer.grants.request(
        case.id,
        "waiver",
        80_000,
        "Penalty on a payment our bank lost",
        recommendation="Waive it in full",
        alternatives_offered="A payment plan over six months",
        evidence="Bank letter of 3 March",
    )
    claim = officer.grants.request(case.id, "claim", 300_000, "Flooded basement after our works")

    in_supervisors = {i.id: i for i in every_item(inbox_of(supervisor))}
    in_managers = ids_in(inbox_of(manager))
    assert waiver.id in in_supervisors and waiver.id not in in_managers
    assert claim.id in in_managers and claim.id not in in_supervisors, "above the supervisor"
    assert not {waiver.id, claim.id} & ids_in(inbox_of(officer)), "an officer decides nothing"

    item = in_supervisors[waiver.id]
    assert item.case_reference == case.reference and item.case_id == case.id
    assert item.customer_name == case.customer.full_name
    assert (item.kind, item.kind_label, item.amount_minor) == ("waiver", "Fee waiver", 80_000)
    assert item.requested_by == officer.session.full_name
    assert item.reason == "Penalty on a payment our bank lost"
    assert item.recommendation == "Waive it in full"
    assert item.alternatives_offered == "A payment plan over six months"
    assert item.evidence == "Bank letter of 3 March"
    assert item.assigned_to == supervisor.session.full_name and not item.in_pool
    assert item.status == "pending" and item.version >= 1
    assert dt.timedelta(0) <= item.age < dt.timedelta(hours=1)
    assert item.target_hours == 24 and item.aging is Aging.WITHIN


def test_counts_per_kind_follow_new_requests(desk_factory: Any) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    inbox = inbox_of(supervisor)
    before = inbox.counts()
    assert {k.code for k in before.kinds} >= {"waiver", "claim", "refund"}
    case = fresh_case(officer)
    for kind, amount in (("waiver", 9_000), ("waiver", 9_500), ("refund", 15_000)):
        officer.grants.request(case.id, kind, amount, "Charged twice for March")
    after = inbox.counts()
    assert after.of("waiver") == before.of("waiver") + 2
    assert after.of("refund") == before.of("refund") + 1
    assert after.of("claim") == before.of("claim")
    assert after.total == before.total + 3
    assert after.total == len(every_item(inbox)), "the counts are the inbox's own items"
    waivers = next(k for k in after.kinds if k.code == "waiver")
    assert waivers.label == "Fee waiver" and waivers.oldest_at is not None
    assert waivers.oldest_at.tzinfo is not None


def test_filters_by_kind_centre_officer_and_amount(desk_factory: Any) -> None:
    officer, senior = desk_factory("officer"), desk_factory("senior")
    supervisor = desk_factory("supervisor")
    inbox = inbox_of(supervisor)
    waiver = officer.grants.request(fresh_case(officer).id, "waiver", 12_345, "Late fee")
    claim = senior.grants.request(fresh_case(senior).id, "claim", 43_210, "Broken meter")

    claims = every_item(inbox, InboxQuery(kind="claim"))
    assert claim.id in {i.id for i in claims} and waiver.id not in {i.id for i in claims}
    assert {i.kind for i in claims} == {"claim"}

    by_senior = every_item(inbox, InboxQuery(officer_id=senior.session.staff_id))
    assert claim.id in {i.id for i in by_senior}
    assert {i.requested_by_id for i in by_senior} == {senior.session.staff_id}

    exact = every_item(inbox, InboxQuery(min_amount_minor=12_345, max_amount_minor=12_345))
    assert waiver.id in {i.id for i in exact} and {i.amount_minor for i in exact} == {12_345}
    assert every_item(inbox, InboxQuery(min_amount_minor=2, max_amount_minor=1)) == []

    centre = supervisor.session.centre_id
    here = ids_in(inbox, InboxQuery(centre_id=centre))
    assert {waiver.id, claim.id} <= here
    assert not {waiver.id, claim.id} & ids_in(inbox, InboxQuery(centre_id=centre + 1_000))

    options = inbox.filters()
    assert {k.code for k in options.kinds} >= {"waiver", "claim", "refund"}
    assert centre in {c.id for c in options.centres}
    assert {officer.session.staff_id, senior.session.staff_id} <= {o.id for o in options.officers}

    # The counts keep every filter but the kind (they say what each kind would show).
    counted = inbox.counts(
        InboxQuery(kind="claim", min_amount_minor=12_345, max_amount_minor=12_345)
    )
    assert counted.of("waiver") >= 1 and counted.of("claim") == 0


def test_pages_follow_the_sort_without_overlap_or_gaps(desk_factory: Any) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    inbox = inbox_of(supervisor)
    case = fresh_case(officer)
    mine = [
        officer.grants.request(case.id, "refund", amount, "Overcharged on the meter reading").id
        for amount in (11_000, 17_000, 13_000, 19_000, 15_000)
    ]
    for sort in InboxSort:
        query = InboxQuery(sort=sort, page_size=2)
        items = every_item(inbox, query)  # also checks that no item came twice
        assert set(mine) <= {i.id for i in items}
        assert {i.id for i in items} == ids_in(inbox, InboxQuery(sort=sort, page_size=500))
        if sort is InboxSort.OLDEST:
            keys = [(i.requested_at, i.id) for i in items]
            assert keys == sorted(keys), "oldest first"
            assert [i.id for i in items if i.id in mine] == mine
        elif sort is InboxSort.NEWEST:
            keys = [(i.requested_at, i.id) for i in items]
            assert keys == sorted(keys, reverse=True)
        else:
            keys2 = [(i.amount_minor, i.id) for i in items]
            assert keys2 == sorted(keys2, reverse=True), "largest first"
    first = inbox.page(InboxQuery(page_size=1))
    assert len(first.items) == 1 and first.next_cursor is not None


# --- what a decider reads before deciding -------------------------------------------------------


def test_the_detail_shows_the_case_and_the_customers_history_within_the_window(
    desk_factory: Any, owner: Engine
) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    case = fresh_case(officer)
    officer.cases.script_runs.save(case.id, to_save(calmed()))
    old = officer.grants.grant(case.id, "waiver", 4_000, "Long ago")
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)  # outside the 365-day window
    backdate(owner, old.id, requested_at=long_ago, decided_at=long_ago)
    granted = officer.grants.grant(case.id, "waiver", 3_000, "Outage fee")
    earlier = officer.grants.request(case.id, "waiver", 40_000, "Penalty after the outage")
    supervisor.grants.decide(earlier.id, Outcome.APPROVE)
    claim = officer.grants.request(case.id, "claim", 20_000, "Damaged fence")  # another kind
    pending = officer.grants.request(case.id, "waiver", 50_000, "Second penalty", evidence="Letter")

    detail = inbox_of(supervisor).detail(pending.id)
    assert detail.item.id == pending.id and detail.item.evidence == "Letter"
    assert detail.case.id == case.id and detail.case.reference == case.reference
    assert len(detail.case.script_runs) == 1, "the guided-script run comes with the case"
    assert [h.id for h in detail.history] == [earlier.id, granted.id], "newest first, one kind"
    assert claim.id not in {h.id for h in detail.history} and old.id not in {
        h.id for h in detail.history
    }
    assert all(h.counts_toward_total for h in detail.history)
    assert detail.history[0].decided_by == supervisor.session.full_name
    assert detail.history_total_minor == 43_000 and detail.hidden_total_minor == 0
    assert detail.window_days == 365
    assert detail.limit_minor == 100_000
    assert detail.may_approve, detail.verdict
    assert detail.max_approvable_minor == 50_000
    assert detail.decided_by == "" and detail.decided_at is None

    bigger = officer.grants.request(case.id, "waiver", 70_000, "Third penalty")
    manager = desk_factory("manager")
    assert bigger.assigned_to == manager.session.full_name, "43,000 + 70,000 is above a supervisor"
    seen_by_supervisor = inbox_of(supervisor).detail(bigger.id)  # their centre's case
    assert not seen_by_supervisor.may_approve
    assert "already received $430.00" in seen_by_supervisor.verdict
    assert seen_by_supervisor.max_approvable_minor == 57_000, "what is left of their limit"
    assert inbox_of(officer).detail(bigger.id).max_approvable_minor == 0, "officers do not decide"


# --- passing an item up, and items decided elsewhere -------------------------------------------


def test_escalating_passes_an_item_to_the_next_person_up(desk_factory: Any) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    manager = desk_factory("manager")
    case = fresh_case(officer)
    request = officer.grants.request(case.id, "waiver", 80_000, "Penalty on a lost payment")
    inbox = inbox_of(supervisor)
    item = next(i for i in every_item(inbox) if i.id == request.id)

    with pytest.raises(DeskError, match="Give a reason"):
        inbox.escalate(request.id, "   ", expected_version=item.version)
    with pytest.raises(AuthorityRefused, match="only they can pass it on"):
        inbox_of(officer).escalate(request.id, "Not mine")
    with pytest.raises(ConflictError, match="changed since you opened it"):
        inbox.escalate(request.id, "Too large for me", expected_version=item.version + 1)

    moved = inbox.escalate(
        request.id, "Same customer had a waiver last month", expected_version=item.version
    )
    assert moved.assigned_to == manager.session.full_name
    assert request.id not in ids_in(inbox)
    assert request.id in ids_in(inbox_of(manager))
    assert [r.assigned_to for r in officer.grants.for_case(case.id)] == [manager.session.full_name]
    timeline = officer.cases.get(case.id).timeline
    assert any(
        f"passed up to {manager.session.full_name}: Same customer had" in e.summary
        for e in timeline
    )
    with pytest.raises(AuthorityRefused, match="nobody above you"):
        inbox_of(manager).escalate(
            request.id, "Board should decide", expected_version=moved.version
        )
    decided = manager.grants.decide(request.id, Outcome.APPROVE, expected_version=moved.version)
    assert decided.status == "approved"
    checked, broken = officer.verify_audit_trail()
    assert broken is None and checked > 0


def test_an_item_decided_elsewhere_leaves_the_inbox_and_says_who_decided(
    desk_factory: Any,
) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    manager = desk_factory("manager")
    request = officer.grants.request(fresh_case(officer).id, "claim", 25_000, "Bin lorry dented it")
    inbox = inbox_of(supervisor)
    item = next(i for i in every_item(inbox) if i.id == request.id)
    manager.grants.decide(request.id, Outcome.REJECT, reason="Not our lorry")

    assert request.id not in ids_in(inbox)
    with pytest.raises(ConflictError, match="already decided") as lost:
        supervisor.grants.decide(request.id, Outcome.APPROVE, expected_version=item.version)
    assert lost.value.changed_by == manager.session.full_name
    with pytest.raises(ConflictError, match="already decided"):
        inbox.escalate(request.id, "Too big", expected_version=item.version)
    detail = inbox.detail(request.id)
    assert detail.item.status == "rejected"
    assert detail.decided_by == manager.session.full_name
    assert detail.decision_reason == "Not our lorry"


def test_the_centres_pool_reaches_those_who_may_decide(desk_factory: Any, owner: Engine) -> None:
    officer, senior = desk_factory("officer"), desk_factory("senior")
    supervisor, manager = desk_factory("supervisor"), desk_factory("manager")
    request = officer.grants.request(fresh_case(officer).id, "refund", 12_000, "Double debit")
    with owner.begin() as conn:  # as when the officer's centre had nobody to route it to
        conn.execute(
            update(orm.ApprovalRequest)
            .where(orm.ApprovalRequest.id == request.id)
            .values(assigned_to_id=None)
        )
    items = {i.id: i for i in every_item(inbox_of(supervisor))}
    assert request.id in items and items[request.id].in_pool
    assert items[request.id].assigned_to == ""
    assert request.id not in ids_in(inbox_of(senior)), "a senior officer may not decide"
    moved = inbox_of(supervisor).escalate(request.id, "Needs the manager's view")
    assert moved.assigned_to_id == manager.session.staff_id
    assert request.id not in ids_in(inbox_of(supervisor))


# --- the officer's side --------------------------------------------------------------------------


def test_an_officer_sees_what_they_sent_and_words_for_the_customer(desk_factory: Any) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    case = fresh_case(officer)
    officer.grants.grant(case.id, "waiver", 1_000, "Small fee")  # granted here: not "sent"
    rejected = officer.grants.request(case.id, "waiver", 60_000, "Penalty")
    lowered = officer.grants.request(case.id, "claim", 30_000, "Broken window")
    waiting = officer.grants.request(case.id, "refund", 20_000, "Double debit")
    supervisor.grants.decide(rejected.id, Outcome.REJECT, reason="the penalty was correct")
    supervisor.grants.decide(
        lowered.id, Outcome.APPROVE, amount_minor=18_000, reason="the glass only"
    )

    mine = inbox_of(officer)
    first = mine.sent(SentQuery(page_size=2))
    items = list(first.items)
    page = first
    while page.next_cursor is not None:
        page = mine.sent(SentQuery(page_size=2), after=page.next_cursor)
        items += page.items
    assert len({i.id for i in items}) == len(items), "no request comes twice"
    on_case = [i for i in items if i.case_id == case.id]
    assert [i.id for i in on_case] == [waiting.id, lowered.id, rejected.id], "newest first"
    by_id = {i.id: i for i in on_case}

    assert by_id[waiting.id].status == "pending" and by_id[waiting.id].is_open
    assert by_id[waiting.id].assigned_to == supervisor.session.full_name
    assert "passed to the person who decides it" in by_id[waiting.id].wording

    no = by_id[rejected.id]
    assert no.status == "rejected" and no.decided_by == supervisor.session.full_name
    assert no.decision_reason == "the penalty was correct"
    first_name = case.customer.full_name.split()[0]
    assert no.wording.startswith(f"{first_name}, I am sorry")
    assert "The reason: The penalty was correct." in no.wording
    assert "reviewed by a supervisor" in no.wording

    part = by_id[lowered.id]
    assert part.decided_amount_minor == 18_000
    assert "$180.00 of the $300.00 you asked for" in part.wording

    still_open = mine.sent(SentQuery(open_only=True, page_size=500)).items
    assert waiting.id in {i.id for i in still_open}
    assert not {rejected.id, lowered.id} & {i.id for i in still_open}
    assert all(i.requested_at for i in items)
    assert {i.id for i in inbox_of(supervisor).sent(SentQuery(page_size=500)).items}.isdisjoint(
        {waiting.id, lowered.id, rejected.id}
    ), "only one's own requests"


# --- the service-level target for decisions -----------------------------------------------------


def test_items_age_against_the_target_an_admin_sets_per_kind(
    desk_factory: Any, owner: Engine
) -> None:
    officer, supervisor, admin = (desk_factory(u) for u in ("officer", "supervisor", "admin"))
    inbox = inbox_of(supervisor)
    case = fresh_case(officer)
    late = officer.grants.request(case.id, "claim", 21_000, "Car damaged at the depot")
    close = officer.grants.request(case.id, "claim", 22_000, "Second car damaged")
    fresh = officer.grants.request(case.id, "claim", 23_000, "Third car damaged")
    for request_id, minutes in ((late.id, 130), (close.id, 50)):
        backdate(
            owner, request_id, requested_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
        )
    with pytest.raises(PermissionRefused):
        inbox_of(officer).set_decision_target_hours("claim", 1)
    with pytest.raises(ValidationError):
        inbox_of(admin).set_decision_target_hours("claim", "soon")
    before = inbox.counts()
    try:
        assert inbox_of(admin).set_decision_target_hours("claim", 1) == 1
        assert inbox.decision_targets()["claim"] == 1
        assert inbox.decision_targets()["waiver"] == 24, "the default for the others"
        items = {i.id: i for i in every_item(inbox, InboxQuery(kind="claim"))}
        assert items[late.id].aging is Aging.OVERDUE and items[late.id].target_hours == 1
        assert items[close.id].aging is Aging.NEAR
        assert items[fresh.id].aging is Aging.WITHIN
        claims = next(k for k in inbox.counts().kinds if k.code == "claim")
        assert claims.overdue >= 1 and claims.near >= 1 and claims.target_hours == 1
        assert inbox.counts().overdue >= before.overdue + 1
    finally:
        inbox_of(admin).set_decision_target_hours("claim", 24)


def test_the_total_counts_what_was_granted_in_a_centre_the_decider_may_not_see(
    desk_factory: Any, owner: Engine
) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    with owner.connect() as conn:
        elsewhere = conn.execute(
            select(orm.Staff.username)
            .join(orm.Role, orm.Role.id == orm.Staff.role_id)
            .where(
                orm.Role.name == "Counter Officer",
                orm.Staff.centre_id != officer.session.centre_id,
                orm.Staff.active,
            )
            .order_by(orm.Staff.id)
            .limit(1)
        ).scalar_one()
    other = desk_factory(elsewhere)
    customer = new_customer(officer)
    there = other.cases.create(walk_in_case(other, customer.id, "Fee charged at the other centre"))
    far = other.grants.grant(there.id, "waiver", 4_500, "Their outage")
    here = officer.cases.create(walk_in_case(officer, customer.id, "The same fee again"))
    pending = officer.grants.request(here.id, "waiver", 30_000, "Penalty too")

    detail = inbox_of(supervisor).detail(pending.id)
    assert far.id not in {h.id for h in detail.history}, "another centre's case stays out of sight"
    assert detail.history_total_minor == 4_500, "but what the customer received there counts"
    assert detail.hidden_total_minor == 4_500
    assert detail.max_approvable_minor == 30_000
