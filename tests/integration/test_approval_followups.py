"""What follows an approval request on SQLite and PostgreSQL: returned for more information and
sent again, withdrawn by the officer, passed to a named person, and passed on by the deputy of a
supervisor who is away.

The PostgreSQL demo database is shared by the test session: every test works on new customers and
cases, and the ``requests`` fixture withdraws whatever a test left open and clears the leave it set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from desk.adapters import orm
from desk.adapters.database import make_engine
from desk.services.audit import AuditFilter
from desk.services.errors import ConflictError, DeskError
from desk.services.grants import AuthorityRefused, Outcome
from desk.services.inbox import InboxService, SentQuery, inbox_of
from tests.integration.test_cases_service import new_customer, walk_in_case

Desk = Any
DAY = dt.timedelta(days=1)


def fresh_case(desk: Desk) -> Any:
    """A case of a new customer, so no earlier grant counts towards the rolling total."""
    return desk.cases.create(walk_in_case(desk, new_customer(desk).id, "The late fee is unfair"))


def ids_in(inbox: InboxService) -> set[int]:
    found: set[int] = set()
    page = inbox.page()
    found |= {i.id for i in page.items}
    while page.next_cursor is not None:
        page = inbox.page(after=page.next_cursor)
        found |= {i.id for i in page.items}
    return found


def sent(desk: Desk, request_id: int) -> Any:
    """The request as its officer's "sent for decision" view shows it."""
    items = inbox_of(desk).sent(SentQuery(page_size=500)).items
    return next(i for i in items if i.id == request_id)


def timeline(desk: Desk, case_id: int) -> list[str]:
    return [e.summary for e in desk.cases.get(case_id).timeline]


def status_of(desk: Desk, case_id: int) -> str:
    return str(desk.cases.get(case_id).status.value)


class Requests:
    """The requests a test made (withdrawn at the end if still open) and leave to clear."""

    def __init__(self, owner: Engine) -> None:
        self.owner = owner
        self.made: list[tuple[Desk, int]] = []

    def make(self, desk: Desk, kind: str, amount: int, reason: str, **extra: Any) -> Any:
        request = desk.grants.request(fresh_case(desk).id, kind, amount, reason, **extra)
        self.made.append((desk, request.id))
        return request

    def other_supervisor(self) -> str:
        """Another active supervisor of the demo supervisor's centre."""
        with self.owner.connect() as conn:
            centre = conn.execute(
                select(orm.Staff.centre_id).where(orm.Staff.username == "supervisor")
            ).scalar_one()
            return str(
                conn.execute(
                    select(orm.Staff.username)
                    .join(orm.Role, orm.Role.id == orm.Staff.role_id)
                    .where(
                        orm.Role.name == "Supervisor",
                        orm.Staff.username != "supervisor",
                        orm.Staff.centre_id == centre,
                        orm.Staff.active,
                    )
                    .order_by(orm.Staff.id)
                    .limit(1)
                ).scalar_one()
            )

    def clear_leave(self) -> None:
        with self.owner.begin() as conn:  # the owner's rights: whatever state the test left
            conn.execute(
                update(orm.Staff)
                .where(orm.Staff.away_from.is_not(None) | orm.Staff.deputy_id.is_not(None))
                .values(away_from=None, away_until=None, deputy_id=None)
            )

    def tidy(self) -> None:
        self.clear_leave()
        for desk, request_id in self.made:
            if sent(desk, request_id).is_open:
                desk.grants.withdraw(request_id)


@pytest.fixture
def owner(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def requests(owner: Engine) -> Iterator[Requests]:
    tracker = Requests(owner)
    try:
        yield tracker
    finally:
        tracker.tidy()


# --- returned, completed, sent again ------------------------------------------------------------


def test_a_returned_request_sent_again_with_a_new_amount_and_evidence_is_approved(
    desk_factory: Any, requests: Requests
) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    sam = supervisor.session.full_name
    request = requests.make(officer, "waiver", 60_000, "Penalty on a payment our bank lost")
    assert request.assigned_to == sam
    inbox = inbox_of(supervisor)

    returned = supervisor.grants.decide(
        request.id, Outcome.RETURN, reason="Send the bank's letter, and the second penalty too"
    )
    assert returned.status == "returned" and returned.decided_by == sam
    assert request.id not in ids_in(inbox)
    assert status_of(officer, request.case_id) == "in_progress"
    item = sent(officer, request.id)
    assert item.is_open and item.decision_reason.startswith("Send the bank's letter")

    again = officer.grants.resubmit(
        request.id,
        amount_minor=75_000,
        reason="Both penalties on the payment our bank lost",
        evidence="Bank letter of 3 March; second penalty notice",
        recommendation="Waive both",
        alternatives_offered="A payment plan",
        expected_version=item.version,
    )
    assert (again.status, again.amount_minor, again.assigned_to) == ("pending", 75_000, sam)
    assert again.reason == "Both penalties on the payment our bank lost"
    assert status_of(officer, request.case_id) == "awaiting_decision"
    assert (
        f"Fee waiver of $750.00 sent again to {sam}: Both penalties on the payment our bank lost"
        in timeline(officer, request.case_id)
    )
    assert request.id in ids_in(inbox), "back with the supervisor who returned it"
    detail = inbox.detail(request.id)
    assert detail.item.evidence == "Bank letter of 3 March; second penalty notice"
    assert (detail.item.recommendation, detail.item.alternatives_offered) == (
        "Waive both",
        "A payment plan",
    )
    assert detail.may_approve

    approved = supervisor.grants.decide(
        request.id, Outcome.APPROVE, expected_version=detail.item.version
    )
    assert (approved.status, approved.decided_amount_minor) == ("approved", 75_000)
    assert status_of(officer, request.case_id) == "in_progress"
    rows = (
        desk_factory("admin")
        .admin.audit_entries(AuditFilter(entity="approval_request", entity_id=str(request.id)))
        .rows
    )
    assert {"resubmit", "decision_return", "decision_approve"} <= {r.action for r in rows}


def test_a_request_sent_again_above_the_supervisors_limit_goes_up_the_chain(
    desk_factory: Any, requests: Requests
) -> None:
    officer, supervisor, manager = (desk_factory(u) for u in ("officer", "supervisor", "manager"))
    request = requests.make(officer, "waiver", 60_000, "Penalty")
    supervisor.grants.decide(request.id, Outcome.RETURN, reason="Is there more than one?")
    again = officer.grants.resubmit(request.id, amount_minor=150_000, reason="Three penalties")
    assert again.assigned_to == manager.session.full_name, "above the supervisor's $1,000.00"
    assert request.id in ids_in(inbox_of(manager))
    assert request.id not in ids_in(inbox_of(supervisor))
    manager.grants.decide(request.id, Outcome.REJECT, reason="Only one penalty was ours")


def test_bad_resubmissions_are_refused_and_change_nothing(
    desk_factory: Any, requests: Requests
) -> None:
    officer, senior, supervisor = (desk_factory(u) for u in ("officer", "senior", "supervisor"))
    request = requests.make(officer, "claim", 50_000, "Fence damaged by the bin lorry")
    with pytest.raises(ConflictError, match="changed since you opened it"):
        officer.grants.resubmit(request.id, amount_minor=50_000, reason="Still pending")
    supervisor.grants.decide(request.id, Outcome.RETURN, reason="Photos, please")
    before = sent(officer, request.id)

    with pytest.raises(AuthorityRefused, match="Only the officer who asked"):
        senior.grants.resubmit(request.id, amount_minor=40_000, reason="Photos attached")
    with pytest.raises(AuthorityRefused, match="Only the officer who asked"):
        supervisor.grants.resubmit(request.id, amount_minor=40_000, reason="Photos attached")
    with pytest.raises(DeskError, match="Give a reason"):
        officer.grants.resubmit(request.id, amount_minor=40_000, reason="   ")
    with pytest.raises(DeskError, match="Enter the amount"):
        officer.grants.resubmit(request.id, amount_minor=0, reason="Photos attached")
    with pytest.raises(ConflictError):
        officer.grants.resubmit(
            request.id,
            amount_minor=40_000,
            reason="Photos attached",
            expected_version=before.version + 1,
        )
    assert sent(officer, request.id) == before, "nothing was written"

    officer.grants.resubmit(request.id, amount_minor=40_000, reason="Photos attached")
    approved = supervisor.grants.decide(request.id, Outcome.APPROVE)
    with pytest.raises(ConflictError, match="already decided"):
        officer.grants.resubmit(request.id, amount_minor=40_000, reason="Once more")
    assert approved.status == "approved"


# --- withdrawn -----------------------------------------------------------------------------------


def test_an_officer_withdraws_a_pending_or_a_returned_request(
    desk_factory: Any, requests: Requests
) -> None:
    officer, senior, supervisor = (desk_factory(u) for u in ("officer", "senior", "supervisor"))
    pending = requests.make(officer, "refund", 20_000, "Charged twice")
    returned = requests.make(officer, "claim", 30_000, "Broken window")
    supervisor.grants.decide(returned.id, Outcome.RETURN, reason="Which window?")

    for request in (pending, returned):
        with pytest.raises(AuthorityRefused, match="Only the officer who asked withdraws"):
            senior.grants.withdraw(request.id)
        with pytest.raises(AuthorityRefused, match="Only the officer who asked withdraws"):
            supervisor.grants.withdraw(request.id)
        assert sent(officer, request.id).is_open

    gone = officer.grants.withdraw(pending.id, expected_version=sent(officer, pending.id).version)
    assert gone.status == "withdrawn"
    assert "Refund of $200.00 withdrawn." in timeline(officer, pending.case_id)
    assert status_of(officer, pending.case_id) == "in_progress"
    assert pending.id not in ids_in(inbox_of(supervisor))
    with pytest.raises(ConflictError):
        supervisor.grants.decide(pending.id, Outcome.APPROVE)
    with pytest.raises(ConflictError):
        officer.grants.withdraw(pending.id)

    assert officer.grants.withdraw(returned.id).status == "withdrawn"
    assert "Claim of $300.00 withdrawn." in timeline(officer, returned.case_id)
    with pytest.raises(ConflictError):
        officer.grants.resubmit(returned.id, amount_minor=30_000, reason="The kitchen window")
    assert not sent(officer, pending.id).is_open and not sent(officer, returned.id).is_open


# --- passed to a named person --------------------------------------------------------------------


def test_a_request_is_reassigned_only_to_someone_who_may_decide_it(
    desk_factory: Any, requests: Requests
) -> None:
    officer, senior = desk_factory("officer"), desk_factory("senior")
    supervisor, manager = desk_factory("supervisor"), desk_factory("manager")
    request = requests.make(officer, "waiver", 80_000, "Penalty on a lost payment")
    inbox = inbox_of(supervisor)
    version = sent(officer, request.id).version

    with pytest.raises(DeskError, match="Give a reason"):
        inbox.reassign(request.id, "manager", "  ", expected_version=version)
    with pytest.raises(AuthorityRefused, match="Nobody decides their own request"):
        inbox.reassign(request.id, "officer", "The officer knows best", expected_version=version)
    with pytest.raises(AuthorityRefused, match="role cannot decide requests"):
        inbox.reassign(request.id, "senior", "A senior could", expected_version=version)
    with pytest.raises(DeskError, match="no active member of staff 'nobody-here'"):
        inbox.reassign(request.id, "nobody-here", "Who?", expected_version=version)
    with pytest.raises(AuthorityRefused, match="only they can pass it on"):
        inbox_of(senior).reassign(request.id, "manager", "Not mine to pass")
    with pytest.raises(ConflictError, match="changed since you opened it"):
        inbox.reassign(request.id, "manager", "Stale", expected_version=version + 1)
    assert sent(officer, request.id).assigned_to == supervisor.session.full_name
    assert sent(officer, request.id).version == version, "nothing was written"

    moved = inbox.reassign(
        request.id, "manager", "The manager knows this customer", expected_version=version
    )
    assert (moved.assigned_to_id, moved.assigned_to) == (
        manager.session.staff_id,
        manager.session.full_name,
    )
    assert request.id in ids_in(inbox_of(manager)) and request.id not in ids_in(inbox)
    assert (
        f"Fee waiver of $800.00 passed to {manager.session.full_name}: The manager knows this "
        "customer" in timeline(officer, request.case_id)
    )
    assert sent(officer, request.id).assigned_to == manager.session.full_name
    with pytest.raises(ConflictError, match="changed since you opened it"):
        supervisor.grants.decide(request.id, Outcome.APPROVE, expected_version=version)
    manager.grants.decide(request.id, Outcome.APPROVE, expected_version=moved.version)


def test_a_request_is_not_reassigned_to_someone_whose_limit_is_below_it(
    desk_factory: Any, requests: Requests
) -> None:
    officer, manager = desk_factory("officer"), desk_factory("manager")
    colleague = requests.other_supervisor()
    request = requests.make(officer, "waiver", 150_000, "Three penalties")
    assert request.assigned_to == manager.session.full_name
    with pytest.raises(AuthorityRefused) as refused:
        inbox_of(manager).reassign(request.id, colleague, "A colleague has time")
    assert str(refused.value).endswith(
        "limit for fee waivers is $1,000.00, and this needs $1,500.00 with the customer's earlier "
        "grants; pass it up the chain instead."
    )
    assert sent(officer, request.id).assigned_to == manager.session.full_name
    manager.grants.decide(request.id, Outcome.REJECT, reason="Only one was ours")


# --- a deputy passes on the items of the person away --------------------------------------------


def test_the_deputy_of_an_absent_supervisor_escalates_and_reassigns_their_items(
    desk_factory: Any, requests: Requests
) -> None:
    from desk.services.leave import today

    officer, supervisor, manager = (desk_factory(u) for u in ("officer", "supervisor", "manager"))
    deputy = desk_factory(requests.other_supervisor())
    to_escalate = requests.make(officer, "waiver", 70_000, "Penalty on a lost payment")
    to_reassign = requests.make(officer, "refund", 90_000, "Charged for a neighbour's meter")
    assert {to_escalate.assigned_to, to_reassign.assigned_to} == {supervisor.session.full_name}
    with pytest.raises(AuthorityRefused, match="only they can pass it on"):
        inbox_of(deputy).reassign(to_reassign.id, "manager", "Before the leave begins")

    mine = supervisor.leave.mine()
    supervisor.leave.set_mine(
        today(), today() + 2 * DAY, deputy.session.username, expected_version=mine.version
    )
    try:
        inbox = inbox_of(deputy)
        assert {to_escalate.id, to_reassign.id} <= ids_in(inbox)
        up = inbox.escalate(to_escalate.id, "The customer's third penalty this year")
        assert up.assigned_to_id == manager.session.staff_id
        moved = inbox.reassign(to_reassign.id, "manager", "The manager set the meter rule")
        assert moved.assigned_to_id == manager.session.staff_id
        assert not {to_escalate.id, to_reassign.id} & ids_in(inbox)
        assert {to_escalate.id, to_reassign.id} <= ids_in(inbox_of(manager))
        assert sent(officer, to_reassign.id).assigned_to == manager.session.full_name
        manager.grants.decide(to_escalate.id, Outcome.APPROVE)
        manager.grants.decide(to_reassign.id, Outcome.REJECT, reason="The meter was theirs")
    finally:
        now = supervisor.leave.mine()
        supervisor.leave.set_mine(None, None, None, expected_version=now.version)
    assert supervisor.leave.mine().deputy is None
