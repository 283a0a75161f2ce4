"""Review requests, replies to vet and compliments on SQLite and PostgreSQL: routed up the chain of
command (to a deputy while someone is away, to the centre's pool when nobody is set), decided
exactly once, and returned to the officer and the case.

The PostgreSQL demo database is shared by the test session: every test works on a new customer and
case, decides or withdraws what it raised (the ``raised`` fixture withdraws whatever a failing test
left open), clears any leave it set, and looks for its own items rather than totals. On PostgreSQL
every person is their own login role, so the database's row-level policy and triggers take part in
every call; the last tests here talk to them with plain SQL, as a modified client would.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text, update
from sqlalchemy.exc import DBAPIError

from desk.adapters import orm
from desk.adapters.database import make_engine
from desk.adapters.pg_roles import login_role_name
from desk.domain.case import CaseDetails
from desk.domain.model import Priority
from desk.domain.work_items import Decision, ItemKind, ItemStatus, ReviewOrigin
from desk.services.audit import AuditFilter
from desk.services.errors import ConflictError, NotFound, PermissionRefused
from desk.services.work_items import ItemRefused, WorkItemView
from tests.integration.test_cases_service import new_customer, walk_in_case

Desk = Any
DAY = dt.timedelta(days=1)


def fresh_case(desk: Desk, words: str = "The late fee is not fair", **changes: Any) -> Any:
    """A case of a new customer, recorded by ``desk`` at their centre."""
    details: CaseDetails = walk_in_case(desk, new_customer(desk).id, words, **changes)
    return desk.cases.create(details)


def status_of(desk: Desk, case_id: int) -> str:
    return str(desk.cases.get(case_id).status.value)


def timeline(desk: Desk, case_id: int) -> list[str]:
    return [e.summary for e in desk.cases.get(case_id).timeline]


def waiting_ids(desk: Desk, kind: ItemKind | None = None) -> set[int]:
    return {i.id for i in desk.items.waiting(kind)}


def item_on_case(desk: Desk, item: WorkItemView) -> WorkItemView:
    """The item as the case shows it now."""
    return next(i for i in desk.items.for_case(item.case_id) if i.id == item.id)


class Raised:
    """The items a test raised: whatever is still open when it ends is withdrawn by whoever
    raised it, so the shared database's inboxes are left as they were."""

    def __init__(self) -> None:
        self.kept: list[tuple[Desk, WorkItemView]] = []

    def __call__(self, desk: Desk, item: WorkItemView) -> WorkItemView:
        self.kept.append((desk, item))
        return item

    def tidy(self) -> None:
        for desk, item in self.kept:
            if item_on_case(desk, item).is_open:
                desk.items.withdraw(item.id)


@pytest.fixture
def raised() -> Iterator[Raised]:
    tracker = Raised()
    try:
        yield tracker
    finally:
        tracker.tidy()


@pytest.fixture
def owner(database_url: str) -> Iterator[Engine]:
    """The database owner: sets up what no member of staff may write (an old opening time)."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def audit_actions(reader: Desk, item_id: int) -> list[str]:
    rows = reader.admin.audit_entries(AuditFilter(entity="work_item", entity_id=str(item_id))).rows
    return [r.action for r in reversed(rows)]  # oldest first


# --- routing -------------------------------------------------------------------------------------


def test_a_review_goes_to_the_officers_supervisor_and_the_case_awaits_it(
    desk_factory: Any, raised: Raised
) -> None:
    officer, supervisor, manager = (desk_factory(u) for u in ("officer", "supervisor", "manager"))
    sam = supervisor.session.full_name
    case = fresh_case(officer)
    item = raised(
        officer,
        officer.items.ask_review(
            case.id, "The customer asks for the late-fee decision to be looked at again"
        ),
    )
    assert (item.kind, item.status, item.origin) == (
        ItemKind.REVIEW,
        ItemStatus.PENDING,
        ReviewOrigin.CUSTOMER_ASKED.value,
    )
    assert item.assigned_to_id == supervisor.session.staff_id and item.assigned_to == sam
    assert item.requested_by == officer.session.full_name
    assert item.case_reference == case.reference and item.customer_name == case.customer.full_name
    assert item.is_open and item.outcome is None and item.decided_by == ""
    assert status_of(officer, case.id) == "awaiting_decision"
    assert f"Review request sent to {sam}: The customer asks for the late-fee" in "\n".join(
        timeline(officer, case.id)
    )

    assert item.id in waiting_ids(supervisor) and item.id in waiting_ids(
        supervisor, ItemKind.REVIEW
    )
    assert item.id not in waiting_ids(supervisor, ItemKind.REPLY)
    assert item.id not in waiting_ids(manager), "the supervisor is at work: not the manager's"
    assert item.id not in waiting_ids(officer), "nobody waits for their own item"
    assert item.id in {i.id for i in officer.items.raised(open_only=True)}

    decided = supervisor.items.decide(
        item.id, Decision.UPHOLD, "the penalty was correct", expected_version=item.version
    )
    assert (decided.status, decided.outcome) == (ItemStatus.DONE, Decision.UPHOLD)
    assert decided.decided_by == sam and decided.decided_at is not None
    assert decided.response == "the penalty was correct"
    first = case.customer.full_name.split()[0]
    assert decided.wording.startswith(f"{first}, a supervisor has looked at the decision again")
    assert "The reason is: The penalty was correct." in decided.wording
    assert status_of(officer, case.id) == "in_progress", "nothing is pending any more"
    assert "Review request: decision upheld: the penalty was correct" in timeline(officer, case.id)
    assert item.id not in waiting_ids(supervisor)
    assert item.id not in {i.id for i in officer.items.raised(open_only=True)}
    mine = next(i for i in officer.items.raised() if i.id == item.id)
    assert mine.outcome is Decision.UPHOLD and mine.wording == decided.wording


def test_the_officer_who_cannot_resolve_a_case_asks_for_a_review(
    desk_factory: Any, raised: Raised
) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    case = fresh_case(officer)
    item = raised(
        officer,
        officer.items.ask_review(
            case.id, "Two departments disagree on who pays", origin=ReviewOrigin.CANNOT_RESOLVE
        ),
    )
    assert item.origin == "cannot_resolve" and item.assigned_to_id == supervisor.session.staff_id
    decided = supervisor.items.decide(item.id, Decision.CHANGE, "Billing pays; fee refunded.")
    assert decided.wording.endswith("Thank you for asking us to look again.")
    assert "changed it: Billing pays; fee refunded." in decided.wording


def test_a_reply_to_vet_goes_to_the_supervisor_and_is_sent_only_once_approved(
    desk_factory: Any, raised: Raised
) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    case = fresh_case(officer)
    draft = "Dear Ms Lee,\n\nwe are sorry. The fee will be refunded.\n"
    item = raised(officer, officer.items.submit_reply(case.id, draft))
    assert item.kind is ItemKind.REPLY and item.assigned_to_id == supervisor.session.staff_id
    assert item.body == draft.strip(), "a reply keeps its lines"
    assert status_of(officer, case.id) == "awaiting_decision"

    with pytest.raises(ItemRefused, match="not approved yet"):
        officer.items.mark_sent(item.id)
    assert item_on_case(officer, item).sent_at is None

    edited = "Dear Ms Lee,\n\nwe are sorry for the trouble. The fee of $12.50 will be refunded."
    approved = supervisor.items.decide(item.id, Decision.APPROVE, edited)
    assert (approved.status, approved.outcome) == (ItemStatus.DONE, Decision.APPROVE)
    assert approved.response == edited and approved.body == draft.strip()
    assert approved.wording == "", "the approved text itself is what the customer reads"
    assert status_of(officer, case.id) == "in_progress"
    assert f"Reply approved (edited); the text to send: {edited}" in timeline(officer, case.id)

    with pytest.raises(PermissionRefused):
        supervisor.items.mark_sent(item.id)  # only the officer who drafted it
    sent = officer.items.mark_sent(item.id)
    assert sent.sent_at is not None
    again = officer.items.mark_sent(item.id)
    assert again.sent_at == sent.sent_at, "marked as sent once"
    lines = timeline(officer, case.id)
    assert lines.count(f"Reply sent (as approved): {edited}") == 1
    assert not any(draft.strip() in line for line in lines if line.startswith("Reply sent"))


def test_a_reply_approved_as_drafted_is_not_called_edited(
    desk_factory: Any, raised: Raised
) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    case = fresh_case(officer)
    item = raised(officer, officer.items.submit_reply(case.id, "We will call you on Monday."))
    supervisor.items.decide(item.id, Decision.APPROVE, "We will call you on Monday.")
    assert "Reply approved; the text to send: We will call you on Monday." in timeline(
        officer, case.id
    )


def test_a_compliment_reaches_the_supervisor_of_the_person_it_is_about(
    desk_factory: Any, raised: Raised
) -> None:
    officer, senior = desk_factory("officer"), desk_factory("senior")
    supervisor, manager = desk_factory("supervisor"), desk_factory("manager")
    case = fresh_case(officer)
    about_senior = raised(
        officer,
        officer.items.record_compliment(case.id, "senior", "She explained the bill so kindly"),
    )
    about_supervisor = raised(
        officer,
        officer.items.record_compliment(case.id, "SUPERVISOR", "He called me back the same day"),
    )
    assert about_senior.kind is ItemKind.COMPLIMENT
    assert about_senior.subject == senior.session.full_name
    assert about_senior.assigned_to_id == supervisor.session.staff_id
    assert about_supervisor.subject == supervisor.session.full_name
    assert about_supervisor.assigned_to_id == manager.session.staff_id, "their own supervisor"
    assert status_of(officer, case.id) == "new", "a compliment holds up nothing on the case"
    assert about_supervisor.id not in waiting_ids(supervisor), "never a compliment about oneself"
    assert about_senior.id not in waiting_ids(senior)

    with pytest.raises(ItemRefused, match="A compliment about you") as refused:
        supervisor.items.decide(about_supervisor.id, Decision.ACKNOWLEDGE, "Thanks to me")
    assert refused.value.field == "decision"
    with pytest.raises(ItemRefused, match="note of recognition"):
        supervisor.items.decide(about_senior.id, Decision.ACKNOWLEDGE, "  ")

    note = "Thank you, Sara: this is what good service looks like."
    done = supervisor.items.decide(about_senior.id, Decision.ACKNOWLEDGE, note)
    assert (done.status, done.outcome, done.response) == (
        ItemStatus.DONE,
        Decision.ACKNOWLEDGE,
        note,
    )
    assert f"Compliment acknowledged; a note of recognition was sent: {note}" in timeline(
        officer, case.id
    )
    manager.items.decide(about_supervisor.id, Decision.ACKNOWLEDGE, "Well done, as always.")
    assert status_of(officer, case.id) == "new"

    # The recognition reaches the person it is about, and only them.
    assert about_senior.id in {r.id for r in senior.items.recognitions()}
    assert about_senior.id not in {r.id for r in officer.items.recognitions()}
    assert about_supervisor.id in {r.id for r in supervisor.items.recognitions()}
    with pytest.raises(NotFound, match="not for you"):
        officer.items.mark_seen(about_senior.id)
    with pytest.raises(NotFound, match="not for you"):
        supervisor.items.mark_seen(about_senior.id)
    seen = senior.items.mark_seen(about_senior.id)
    assert seen.seen_at is not None
    assert about_senior.id not in {r.id for r in senior.items.recognitions()}
    assert senior.items.mark_seen(about_senior.id).seen_at == seen.seen_at, "read once"
    supervisor.items.mark_seen(about_supervisor.id)


def test_with_nobody_above_the_item_waits_in_the_centres_pool(
    desk_factory: Any, raised: Raised
) -> None:
    """The head manager has no supervisor: their review waits for the deciders of their centre."""
    manager, supervisor, officer = (desk_factory(u) for u in ("manager", "supervisor", "officer"))
    case = fresh_case(manager)
    item = raised(manager, manager.items.ask_review(case.id, "I cannot decide this alone"))
    assert item.assigned_to_id is None and item.assigned_to == ""
    assert "Review request sent to the centre's supervisors: I cannot decide this alone" in (
        timeline(manager, case.id)
    )
    assert item.id in waiting_ids(supervisor), "the centre's pool"
    assert item.id not in waiting_ids(officer), "an officer may not decide a review"
    assert item.id not in waiting_ids(manager), "nor the person who asked"
    decided = supervisor.items.decide(item.id, Decision.CHANGE, "Refund the fee in full")
    assert decided.decided_by == supervisor.session.full_name
    assert status_of(manager, case.id) == "in_progress"


def test_a_deputy_of_a_supervisor_on_leave_receives_and_decides_their_items(
    desk_factory: Any, raised: Raised
) -> None:
    from desk.services.leave import today

    officer, supervisor, manager = (desk_factory(u) for u in ("officer", "supervisor", "manager"))
    case = fresh_case(officer)
    before = raised(officer, officer.items.ask_review(case.id, "Review the fee, please"))
    assert before.assigned_to_id == supervisor.session.staff_id
    assert before.id not in waiting_ids(manager)
    mine = supervisor.leave.mine()
    supervisor.leave.set_mine(today(), today() + 2 * DAY, "manager", expected_version=mine.version)
    try:
        assert before.id in waiting_ids(manager), "the deputy sees the absent person's items"
        assert before.id in waiting_ids(manager, ItemKind.REVIEW)
        assert manager.items.counts()[ItemKind.REVIEW] >= 1
        during = raised(officer, officer.items.submit_reply(case.id, "We refund the fee."))
        assert during.assigned_to_id == manager.session.staff_id, "straight to the deputy"
        decided = manager.items.decide(before.id, Decision.UPHOLD, "Correct under the tariff")
        assert decided.decided_by == manager.session.full_name
        manager.items.decide(during.id, Decision.APPROVE, "We refund the fee.")
        assert not {before.id, during.id} & waiting_ids(manager)
    finally:
        now = supervisor.leave.mine()
        supervisor.leave.set_mine(None, None, None, expected_version=now.version)
    assert supervisor.leave.mine().deputy is None
    assert status_of(officer, case.id) == "in_progress"


# --- deciding ------------------------------------------------------------------------------------


def test_an_item_is_decided_once_and_a_second_decider_is_told_who_decided(
    desk_factory: Any, raised: Raised
) -> None:
    officer, supervisor, manager = (desk_factory(u) for u in ("officer", "supervisor", "manager"))
    case = fresh_case(officer)
    item = raised(officer, officer.items.ask_review(case.id, "Was the fee right?"))

    with pytest.raises(ItemRefused, match="Give the reason") as empty:
        supervisor.items.decide(item.id, Decision.UPHOLD, "   ")
    assert empty.value.field == "response"
    with pytest.raises(ItemRefused, match="is decided as") as wrong:
        supervisor.items.decide(item.id, Decision.APPROVE, "Fine")
    assert wrong.value.field == "decision"
    assert item_on_case(officer, item).status is ItemStatus.PENDING, "nothing was written"

    supervisor.items.decide(item.id, Decision.UPHOLD, "The fee was right")
    with pytest.raises(ConflictError, match="already decided") as second:
        manager.items.decide(item.id, Decision.CHANGE, "Refund it")
    assert second.value.changed_by == supervisor.session.full_name
    assert second.value.changed_at is not None
    assert supervisor.session.full_name in str(second.value)
    with pytest.raises(ConflictError, match="already decided"):
        supervisor.items.decide(item.id, Decision.CHANGE, "On second thoughts")
    final = item_on_case(officer, item)
    assert (final.outcome, final.response) == (Decision.UPHOLD, "The fee was right")
    assert (
        timeline(officer, case.id).count("Review request: decision upheld: The fee was right") == 1
    )


def test_a_stale_version_is_told_to_look_again(desk_factory: Any, raised: Raised) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    item = raised(officer, officer.items.ask_review(fresh_case(officer).id, "Look again"))
    with pytest.raises(ConflictError, match="changed since you opened it"):
        supervisor.items.decide(
            item.id, Decision.UPHOLD, "Correct", expected_version=item.version + 1
        )
    supervisor.items.decide(item.id, Decision.UPHOLD, "Correct", expected_version=item.version)


def test_nobody_decides_their_own_item_and_an_officer_decides_none(
    desk_factory: Any, raised: Raised
) -> None:
    officer, senior = desk_factory("officer"), desk_factory("senior")
    supervisor, manager = desk_factory("supervisor"), desk_factory("manager")
    own_case = fresh_case(supervisor)
    own = raised(supervisor, supervisor.items.ask_review(own_case.id, "My own decision, again"))
    assert own.assigned_to_id == manager.session.staff_id
    with pytest.raises(ItemRefused, match="Nobody decides an item they raised"):
        supervisor.items.decide(own.id, Decision.UPHOLD, "I was right")

    theirs = raised(senior, senior.items.submit_reply(fresh_case(senior).id, "Dear Mr Okafor"))
    review = raised(senior, senior.items.ask_review(fresh_case(senior).id, "The meter fee"))
    for item, decision in ((theirs, Decision.APPROVE), (review, Decision.UPHOLD)):
        with pytest.raises((PermissionRefused, ItemRefused), match="permission"):
            officer.items.decide(item.id, decision, "Looks fine to me")
        assert item_on_case(senior, item).status is ItemStatus.PENDING

    manager.items.decide(own.id, Decision.UPHOLD, "It stands")
    supervisor.items.decide(theirs.id, Decision.APPROVE, "Dear Mr Okafor")
    supervisor.items.decide(review.id, Decision.CHANGE, "The meter fee is waived")


def test_bad_input_when_raising_is_refused_with_a_sentence(
    desk_factory: Any, raised: Raised
) -> None:
    officer = desk_factory("officer")
    case = fresh_case(officer)
    with pytest.raises(ItemRefused, match="Say what should be reviewed") as empty:
        officer.items.ask_review(case.id, " \n ")
    assert empty.value.field == "body"
    with pytest.raises(ItemRefused, match="Write the reply to vet"):
        officer.items.submit_reply(case.id, "")
    with pytest.raises(ItemRefused, match="Keep it under 20,000 characters"):
        officer.items.submit_reply(case.id, "x" * 20_001)
    with pytest.raises(ItemRefused, match="no member of staff 'nobody-here'"):
        officer.items.record_compliment(case.id, "nobody-here", "Lovely")
    with pytest.raises(NotFound):
        officer.items.ask_review(10**12, "A case that is not there")
    assert officer.items.for_case(case.id) == [], "nothing was half-written"
    assert status_of(officer, case.id) == "new"

    key = uuid.uuid4()
    first = raised(officer, officer.items.ask_review(case.id, "Once", client_uuid=key))
    again = officer.items.ask_review(case.id, "Once", client_uuid=key)
    assert again.id == first.id and len(officer.items.for_case(case.id)) == 1, "a retried click"
    officer.items.withdraw(first.id)


# --- the requester's side ------------------------------------------------------------------------


def test_a_returned_item_comes_back_to_the_same_person_when_resubmitted(
    desk_factory: Any, raised: Raised
) -> None:
    officer, supervisor, manager = (desk_factory(u) for u in ("officer", "supervisor", "manager"))
    case = fresh_case(officer)
    item = raised(officer, officer.items.ask_review(case.id, "The fee seems wrong"))

    with pytest.raises(ItemRefused, match="Say what more is needed"):
        supervisor.items.decide(item.id, Decision.RETURN, "")
    back = supervisor.items.decide(item.id, Decision.RETURN, "Which bill, and which month?")
    assert (back.status, back.outcome) == (ItemStatus.RETURNED, None)
    assert back.response == "Which bill, and which month?" and back.is_open
    assert back.decided_by == supervisor.session.full_name
    assert (
        "Review request: returned for more information: Which bill, and which month?"
        in timeline(officer, case.id)
    )
    assert status_of(officer, case.id) == "in_progress", "back with the officer"
    assert item.id not in waiting_ids(supervisor)
    assert item.id in {i.id for i in officer.items.raised(open_only=True)}
    with pytest.raises(ConflictError):
        manager.items.decide(item.id, Decision.UPHOLD, "Nothing to decide yet")

    with pytest.raises(PermissionRefused, match="Only the person who raised it"):
        supervisor.items.resubmit(item.id, "The March bill")
    with pytest.raises(ItemRefused, match="Write what was asked for"):
        officer.items.resubmit(item.id, "   ")
    again = officer.items.resubmit(
        item.id, "The March water bill, INV-2026-0042", expected_version=back.version
    )
    assert again.status is ItemStatus.PENDING and again.body.startswith("The March water bill")
    assert again.assigned_to_id == supervisor.session.staff_id, "to whom it waited for"
    assert status_of(officer, case.id) == "awaiting_decision"
    assert "Review request sent again." in timeline(officer, case.id)
    assert item.id in waiting_ids(supervisor)
    with pytest.raises(ItemRefused, match="Only an item returned"):
        officer.items.resubmit(item.id, "More again")

    supervisor.items.decide(item.id, Decision.CHANGE, "The March fee is refunded")
    assert status_of(officer, case.id) == "in_progress"


def test_an_officer_withdraws_a_pending_or_returned_item(desk_factory: Any, raised: Raised) -> None:
    officer, senior, supervisor = (desk_factory(u) for u in ("officer", "senior", "supervisor"))
    case = fresh_case(officer)
    review = raised(officer, officer.items.ask_review(case.id, "The customer wants a review"))
    reply = raised(officer, officer.items.submit_reply(case.id, "Dear Mr Diaz"))
    supervisor.items.decide(reply.id, Decision.RETURN, "Add the refund date")
    assert status_of(officer, case.id) == "awaiting_decision", "the review still waits"

    with pytest.raises(PermissionRefused, match="Only the person who raised it"):
        senior.items.withdraw(review.id)
    with pytest.raises(PermissionRefused):
        supervisor.items.withdraw(reply.id)

    gone = officer.items.withdraw(review.id, expected_version=review.version)
    assert gone.status is ItemStatus.WITHDRAWN and not gone.is_open
    assert "Review request withdrawn." in timeline(officer, case.id)
    assert status_of(officer, case.id) == "in_progress", "nothing is pending any more"
    assert review.id not in waiting_ids(supervisor)
    with pytest.raises(ConflictError, match="withdrawn by the person who raised it"):
        supervisor.items.decide(review.id, Decision.UPHOLD, "Too late")
    with pytest.raises(ConflictError, match="withdrawn"):
        officer.items.withdraw(review.id)

    assert officer.items.withdraw(reply.id).status is ItemStatus.WITHDRAWN
    assert "Reply to vet withdrawn." in timeline(officer, case.id)
    with pytest.raises(ItemRefused, match="Only an item returned for more information"):
        officer.items.resubmit(reply.id, "Dear Mr Diaz, on 3 May")
    assert not [i for i in officer.items.for_case(case.id) if i.is_open]


def test_a_compliment_is_forwarded_to_the_forwarders_own_supervisor(
    desk_factory: Any, raised: Raised
) -> None:
    officer, supervisor, manager = (desk_factory(u) for u in ("officer", "supervisor", "manager"))
    case = fresh_case(officer)
    praise = raised(
        officer, officer.items.record_compliment(case.id, "senior", "Best service in years")
    )
    review = raised(officer, officer.items.ask_review(case.id, "And a review, please"))
    assert praise.assigned_to_id == supervisor.session.staff_id

    with pytest.raises(ItemRefused, match="Only a compliment is forwarded"):
        supervisor.items.forward(review.id)
    with pytest.raises(PermissionRefused):
        officer.items.forward(praise.id)
    moved = supervisor.items.forward(
        praise.id, "Worth a mention at the staff meeting", expected_version=praise.version
    )
    assert moved.assigned_to_id == manager.session.staff_id and moved.status is ItemStatus.PENDING
    assert (
        f"Compliment forwarded to {manager.session.full_name}: Worth a mention at the staff meeting"
        in timeline(officer, case.id)
    )
    assert praise.id in waiting_ids(manager) and praise.id not in waiting_ids(supervisor)
    with pytest.raises(ConflictError, match="changed since you opened it"):
        supervisor.items.forward(praise.id, expected_version=praise.version)
    with pytest.raises(ItemRefused, match="nobody higher up the chain"):
        manager.items.forward(praise.id)

    manager.items.decide(praise.id, Decision.ACKNOWLEDGE, "A note from the manager: thank you")
    supervisor.items.decide(review.id, Decision.UPHOLD, "It stands")


def test_an_item_is_passed_on_only_to_someone_who_may_decide_it(
    desk_factory: Any, raised: Raised
) -> None:
    officer, senior = desk_factory("officer"), desk_factory("senior")
    supervisor, manager = desk_factory("supervisor"), desk_factory("manager")
    case = fresh_case(officer)
    item = raised(officer, officer.items.ask_review(case.id, "Please review the fee"))
    refusals = {
        "officer": "raised this item",  # the requester
        "senior": "cannot decide a review request",  # no permission to decide
        "admin": "cannot decide a review request",
        "nobody-here": "no member of staff",
    }
    for username, message in refusals.items():
        with pytest.raises(ItemRefused, match=message):
            supervisor.items.reassign(item.id, username, expected_version=item.version)
    for outsider in (officer, senior):
        with pytest.raises(PermissionRefused, match="decide_approvals"):
            outsider.items.reassign(item.id, "manager")
    assert item_on_case(officer, item).assigned_to_id == supervisor.session.staff_id

    moved = supervisor.items.reassign(item.id, "manager", expected_version=item.version)
    assert moved.assigned_to_id == manager.session.staff_id and moved.version > item.version
    assert f"Review request passed on to {manager.session.full_name}." in timeline(officer, case.id)
    assert item.id in waiting_ids(manager) and item.id not in waiting_ids(supervisor)
    with pytest.raises(ConflictError, match="changed since you opened it"):
        supervisor.items.decide(
            item.id, Decision.UPHOLD, "Opened before it moved", expected_version=item.version
        )

    compliment = raised(
        officer, officer.items.record_compliment(case.id, "senior", "So patient with me")
    )
    with pytest.raises(ItemRefused, match="raised this item, or it is about them"):
        supervisor.items.reassign(compliment.id, "senior")
    manager.items.decide(item.id, Decision.CHANGE, "Refund the fee")
    supervisor.items.decide(compliment.id, Decision.ACKNOWLEDGE, "Thank you for your patience")


def test_every_step_of_an_item_is_in_the_audit_trail(desk_factory: Any, raised: Raised) -> None:
    officer, supervisor, admin = (desk_factory(u) for u in ("officer", "supervisor", "admin"))
    case = fresh_case(officer)
    review = raised(officer, officer.items.ask_review(case.id, "Review the fee"))
    reply = raised(officer, officer.items.submit_reply(case.id, "Dear Ms Ng"))
    praise = raised(officer, officer.items.record_compliment(case.id, "senior", "Kind and quick"))

    supervisor.items.decide(review.id, Decision.RETURN, "Which fee?")
    officer.items.resubmit(review.id, "The March late fee")
    supervisor.items.decide(review.id, Decision.UPHOLD, "Correct")
    supervisor.items.decide(reply.id, Decision.APPROVE, "Dear Ms Ng, we refund the fee.")
    officer.items.mark_sent(reply.id)
    supervisor.items.decide(praise.id, Decision.ACKNOWLEDGE, "Thank you")

    assert audit_actions(admin, review.id) == [
        "item.review",
        "item.decided.returned",
        "item.resubmitted",
        "item.decided.upheld",
    ]
    assert audit_actions(admin, reply.id) == [
        "item.reply",
        "item.decided.approved",
        "item.reply_sent",
    ]
    assert audit_actions(admin, praise.id) == ["item.compliment", "item.decided.acknowledged"]
    rows = admin.admin.audit_entries(AuditFilter(entity="work_item", entity_id=str(review.id))).rows
    decided = next(r for r in rows if r.action == "item.decided.upheld")
    assert decided.actor_name == supervisor.session.full_name
    assert case.reference in decided.details
    checked, broken = admin.verify_audit_trail()
    assert broken is None and checked > 0


# --- service-level breaches ----------------------------------------------------------------------


def test_breaches_list_an_old_open_urgent_case_of_the_centre_and_not_a_closed_one(
    desk_factory: Any, owner: Engine
) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    overdue = fresh_case(officer, "No water for three days", priority=Priority.URGENT)
    closed = fresh_case(officer, "No water last month", priority=Priority.URGENT)
    recent = fresh_case(officer, "No water since this morning", priority=Priority.URGENT)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    with owner.begin() as conn:  # the owner's rights, on this test's own cases only
        conn.execute(
            update(orm.Case)
            .where(orm.Case.id.in_([overdue.id, closed.id]))
            .values(opened_at=long_ago)
        )
        conn.execute(update(orm.Case).where(orm.Case.id == closed.id).values(status="closed"))

    breaches = {b.case_id: b for b in supervisor.items.breaches()}
    assert overdue.id in breaches
    assert closed.id not in breaches and recent.id not in breaches
    breach = breaches[overdue.id]
    assert (breach.reference, breach.priority, breach.status) == (
        overdue.reference,
        "urgent",
        "new",
    )
    assert breach.customer_name == overdue.customer.full_name
    assert breach.officer == officer.session.full_name
    assert breach.target_hours == 8
    assert dt.timedelta(days=2) < breach.overdue_by < dt.timedelta(days=3)
    assert overdue.id in {b.case_id for b in desk_factory("manager").items.breaches()}
    assert officer.items.breaches() == [], "an officer looks after no one's breaches"
    overdues = [b.overdue_by for b in supervisor.items.breaches()]
    assert overdues == sorted(overdues, reverse=True), "longest overdue first"


def test_staff_choices_put_the_own_centre_first(desk_factory: Any) -> None:
    officer = desk_factory("officer")
    choices = officer.items.staff_choices()
    usernames = [c[0] for c in choices]
    assert {"senior", "supervisor", "manager"} <= set(usernames)
    centre = officer.session.centre_name
    centres = [c[2] for c in choices]
    assert centres[: centres.count(centre)] == [centre] * centres.count(centre)


# --- PostgreSQL: two real connections, and the database's own refusals -----------------------


ON_POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@ON_POSTGRESQL
def test_two_supervisors_deciding_the_same_review_at_once_one_decision_stands(
    desk_factory: Any, raised: Raised, owner: Engine
) -> None:
    """The manager has nobody above: their review waits in the centre's pool, where both
    supervisors of the centre may decide it."""
    officer = desk_factory("manager")
    with owner.connect() as conn:
        colleague = conn.execute(
            text(
                "SELECT s.username FROM staff s JOIN roles r ON r.id = s.role_id "
                "WHERE r.name = 'Supervisor' AND s.active AND s.username <> 'supervisor' "
                "AND s.centre_id = (SELECT centre_id FROM staff WHERE username = 'supervisor') "
                "ORDER BY s.id LIMIT 1"
            )
        ).scalar_one()
    deciders = [desk_factory("supervisor"), desk_factory(colleague)]
    case = fresh_case(officer)
    item = raised(officer, officer.items.ask_review(case.id, "Both of you may look at this"))
    assert item.assigned_to_id is None, "it waits in the centre's pool"
    start = threading.Barrier(2)
    results: list[object] = [None, None]
    choices = [(Decision.UPHOLD, "It stands"), (Decision.CHANGE, "Refund it")]

    def decide(index: int) -> None:
        start.wait()
        try:
            decision, words = choices[index]
            results[index] = deciders[index].items.decide(
                item.id, decision, words, expected_version=item.version
            )
        except Exception as exc:  # the loser's error is what this test is about
            results[index] = exc

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads)
    winners = [i for i, r in enumerate(results) if isinstance(r, WorkItemView)]
    losers = [i for i, r in enumerate(results) if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1, results
    error = results[losers[0]]
    assert isinstance(error, ConflictError), error
    winner = deciders[winners[0]].session.full_name
    assert error.changed_by == winner and winner in str(error)
    final = item_on_case(officer, item)
    assert final.decided_by == winner and final.outcome is choices[winners[0]][0]
    decided_lines = [line for line in timeline(officer, case.id) if "Review request: " in line]
    assert len(decided_lines) == 1


def _staff_id(owner: Engine, username: str) -> int:
    with owner.connect() as conn:
        return int(
            conn.execute(
                text("SELECT id FROM staff WHERE username = :u"), {"u": username}
            ).scalar_one()
        )


def _refused(desk: Desk, sql: str, match: str, **values: Any) -> None:
    """Run ``sql`` as ``desk``'s own login role and expect the database to refuse it."""
    with desk.engine.connect() as conn:
        with pytest.raises(DBAPIError, match=match) as refused:
            conn.execute(text(sql), values)
        conn.rollback()
    assert getattr(refused.value.orig, "sqlstate", None) == "42501"


def _row(owner: Engine, item_id: int) -> tuple[Any, ...]:
    with owner.connect() as conn:
        return tuple(
            conn.execute(
                text(
                    "SELECT status, outcome, body, response, decided_by_id, sent_at, "
                    "assigned_to_id, requested_by_id, version FROM work_items WHERE id = :i"
                ),
                {"i": item_id},
            ).one()
        )


@ON_POSTGRESQL
def test_postgresql_refuses_an_officers_own_login_what_the_rule_forbids(
    desk_factory: Any, raised: Raised, owner: Engine
) -> None:
    officer, senior = desk_factory("officer"), desk_factory("senior")
    supervisor = desk_factory("supervisor")
    officer_id, senior_id = _staff_id(owner, "officer"), _staff_id(owner, "senior")
    case = fresh_case(officer)
    reply = raised(officer, officer.items.submit_reply(case.id, "Dear Ms Abe"))
    theirs = raised(senior, senior.items.ask_review(fresh_case(senior).id, "Meter fee"))
    before = {i: _row(owner, i) for i in (reply.id, theirs.id)}
    with officer.engine.connect() as conn:  # plain SQL over the officer's own login role
        me = conn.execute(text("SELECT session_user, current_database()")).one()
    assert me[0] == login_role_name(me[1], "officer")
    insert = (
        "INSERT INTO work_items (uuid, kind, case_id, origin, body, requested_by_id, "
        "requested_at, status, response, version) VALUES (:u, 'review', :c, '', 'x', :by, now(), "
        ":s, '', 1)"
    )
    _refused(
        officer,
        insert,
        "in the name of the person who raises it",
        u=uuid.uuid4(),
        c=case.id,
        by=senior_id,
        s="pending",
    )
    _refused(
        officer,
        insert,
        "in the name of the person who raises it",
        u=uuid.uuid4(),
        c=case.id,
        by=officer_id,
        s="done",
    )
    _refused(
        officer,
        "UPDATE work_items SET status = 'done', outcome = 'upheld', response = 'ok', "
        "decided_by_id = :me, decided_at = now() WHERE id = :i",
        "decide_approvals",
        me=officer_id,
        i=theirs.id,
    )
    _refused(
        officer,
        "UPDATE work_items SET status = 'done', outcome = 'approved', response = 'ok', "
        "decided_by_id = :me, decided_at = now() WHERE id = :i",
        "raised or that is about them",
        me=officer_id,
        i=reply.id,
    )
    _refused(
        officer,
        "UPDATE work_items SET sent_at = now() WHERE id = :i",
        "only once it is approved",
        i=reply.id,
    )
    _refused(officer, "DELETE FROM work_items WHERE id = :i", "work_items", i=reply.id)
    _refused(
        officer,
        "UPDATE work_items SET assigned_to_id = :me WHERE id = :i",
        "Passing an item on needs",
        me=officer_id,
        i=theirs.id,
    )
    _refused(
        officer,
        "UPDATE work_items SET status = 'withdrawn' WHERE id = :i",
        "Only the person who raised an item",
        i=theirs.id,
    )
    assert {i: _row(owner, i) for i in before} == before, "nothing was written"

    supervisor.items.decide(reply.id, Decision.APPROVE, "Dear Ms Abe, the fee is refunded.")
    supervisor.items.decide(theirs.id, Decision.UPHOLD, "The meter fee stands")
    _refused(
        officer,
        "UPDATE work_items SET sent_at = now() WHERE id = :i",
        "marked as sent, once, by the officer who drafted it",
        i=theirs.id,
    )
    officer.items.mark_sent(reply.id)
    _refused(
        officer,
        "UPDATE work_items SET sent_at = now() WHERE id = :i",
        "marked as sent, once",
        i=reply.id,
    )


@ON_POSTGRESQL
def test_postgresql_keeps_a_decided_item_as_it_was_decided(
    desk_factory: Any, raised: Raised, owner: Engine
) -> None:
    officer, supervisor = desk_factory("officer"), desk_factory("supervisor")
    item = raised(officer, officer.items.submit_reply(fresh_case(officer).id, "Dear Mr Lund"))
    supervisor.items.decide(item.id, Decision.APPROVE, "Dear Mr Lund, we are sorry.")
    decided = _row(owner, item.id)
    for sql in (
        "UPDATE work_items SET body = 'Something else' WHERE id = :i",
        "UPDATE work_items SET response = 'Something else' WHERE id = :i",
        "UPDATE work_items SET status = 'pending' WHERE id = :i",
    ):
        _refused(supervisor, sql, "a decision is never changed", i=item.id)
    _refused(officer, "UPDATE work_items SET body = 'Mine now' WHERE id = :i", "never", i=item.id)
    assert _row(owner, item.id) == decided


@ON_POSTGRESQL
def test_postgresql_keeps_what_a_supervisor_wrote_when_returning_an_item(
    desk_factory: Any, raised: Raised, owner: Engine
) -> None:
    """A return for more information is a decision too: nobody rewrites its words, the item's
    text is the requester's to change, and only a decision gives an item an outcome."""
    officer, senior = desk_factory("officer"), desk_factory("senior")
    supervisor, manager = desk_factory("supervisor"), desk_factory("manager")
    item = raised(senior, senior.items.ask_review(fresh_case(senior).id, "The meter fee"))
    supervisor.items.decide(item.id, Decision.RETURN, "Which meter?")
    returned = _row(owner, item.id)
    for desk, sql, match in (
        (officer, "UPDATE work_items SET body = 'Another text' WHERE id = :i", "Only the person"),
        (officer, "UPDATE work_items SET response = 'None' WHERE id = :i", "Only a decision"),
        (senior, "UPDATE work_items SET response = 'None' WHERE id = :i", "Only a decision"),
        (manager, "UPDATE work_items SET response = 'Other' WHERE id = :i", "Only a decision"),
        (manager, "UPDATE work_items SET outcome = 'upheld' WHERE id = :i", "Only a decision"),
        (senior, "UPDATE work_items SET status = 'done' WHERE id = :i", "Only a pending item"),
    ):
        _refused(desk, sql, match, i=item.id)
    assert _row(owner, item.id) == returned

    senior.items.resubmit(item.id, "Meter 4711 in the basement")
    pending = _row(owner, item.id)
    decide = (
        "UPDATE work_items SET status = :s, outcome = :o, response = :r, decided_by_id = "
        "(SELECT id FROM staff WHERE username = 'manager') WHERE id = :i"
    )
    for values, match in (
        ({"s": "done", "o": "approved", "r": "ok"}, "does not fit a review item"),
        ({"s": "done", "o": None, "r": "ok"}, "does not fit a review item"),
        ({"s": "returned", "o": "upheld", "r": "ok"}, "does not fit a review item"),
        ({"s": "done", "o": "upheld", "r": "  "}, "A decision is written down"),
    ):
        _refused(manager, decide, match, i=item.id, **values)
    _refused(
        officer,
        "UPDATE work_items SET outcome = 'upheld' WHERE id = :i",
        "Only a decision",
        i=item.id,
    )
    _refused(
        senior,
        "UPDATE work_items SET status = 'decided' WHERE id = :i",
        "decided, resubmitted or withdrawn",
        i=item.id,
    )
    _refused(
        manager,
        "UPDATE work_items SET response = 'Decided quietly' WHERE id = :i",
        "Only a decision",
        i=item.id,
    )
    assert _row(owner, item.id) == pending
    supervisor.items.decide(item.id, Decision.UPHOLD, "The meter reading was right")


def _colleague_elsewhere(owner: Engine, username: str) -> tuple[str, str]:
    """A counter officer of another centre than ``username``'s, and their supervisor."""
    with owner.connect() as conn:
        row = conn.execute(
            text(
                "SELECT s.username, boss.username FROM staff s "
                "JOIN roles r ON r.id = s.role_id JOIN staff boss ON boss.id = s.supervisor_id "
                "WHERE r.name = 'Counter Officer' AND s.active AND boss.active "
                "AND s.centre_id <> (SELECT centre_id FROM staff WHERE username = :u) "
                "ORDER BY s.id LIMIT 1"
            ),
            {"u": username},
        ).one()
    return str(row[0]), str(row[1])


def test_a_compliment_about_someone_at_another_centre_reaches_them(
    desk_factory: Any, raised: Raised, owner: Engine
) -> None:
    """The customer thanks the officer who helped them at another centre: that officer's
    supervisor acknowledges it, and the note reaches the officer, though the case is not theirs."""
    officer = desk_factory("officer")
    there, their_boss = _colleague_elsewhere(owner, "officer")
    colleague, boss = desk_factory(there), desk_factory(their_boss)
    case = fresh_case(officer)
    praise = raised(
        officer, officer.items.record_compliment(case.id, there, "Helped me on the phone")
    )
    assert praise.assigned_to_id == boss.session.staff_id
    assert praise.id in waiting_ids(boss)
    boss.items.decide(praise.id, Decision.ACKNOWLEDGE, "Thank you for going the extra mile")
    notes = {r.id: r for r in colleague.items.recognitions()}
    assert praise.id in notes
    assert notes[praise.id].response == "Thank you for going the extra mile"
    assert colleague.items.mark_seen(praise.id).seen_at is not None
    assert praise.id not in {r.id for r in colleague.items.recognitions()}
