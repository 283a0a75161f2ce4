"""Review requests, replies to vet and compliments: raised at the counter, routed up the chain of
command (to the deputy of someone away, to the centre's pool when nobody is set), decided once,
and returned to the officer with what to tell the customer. Also the service-level breaches of
the cases a supervisor looks after.

The rule of each decision is ``desk.domain.work_items``; on PostgreSQL the database holds it too
(schema revision 0009).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import StaleDataError

from desk.adapters import orm
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain.authority import Permission
from desk.domain.model import OPEN_STATUSES, CaseStatus, EventKind, Priority
from desk.domain.validation import normalise_text
from desk.domain.work_items import (
    DECISION_LABELS,
    KIND_LABELS,
    MAX_TEXT,
    Decision,
    ItemKind,
    ItemStatus,
    ReviewOrigin,
    customer_wording,
    decision_refusal,
    permission_for,
)
from desk.services import audit
from desk.services.dto import StaffSession
from desk.services.errors import ConflictError, DeskError, NotFound, PermissionRefused
from desk.services.grants import move_case, note_on_case
from desk.services.leave import acts_for, covered_by, presences, stand_in
from desk.services.leave import today as leave_today
from desk.services.org_settings import WholeNumberSetting, read_whole_number
from desk.services.permissions import held_permissions

# How long a case of each priority may stay open before it counts as a breach (hours).
RESOLUTION_TARGETS: dict[Priority, WholeNumberSetting] = {
    priority: WholeNumberSetting(
        key=f"resolution_target_hours_{priority.value}",
        label=f"The resolution target for {priority.value} cases",
        unit="hours",
        default=default,
        minimum=1,
        maximum=24 * 365,
    )
    for priority, default in (
        (Priority.URGENT, 8),
        (Priority.HIGH, 48),
        (Priority.NORMAL, 24 * 10),
        (Priority.LOW, 24 * 30),
    )
}
MAX_LISTED = 500


class ItemRefused(DeskError):
    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class WorkItemView:
    id: int
    uuid: uuid.UUID
    version: int
    kind: ItemKind
    status: ItemStatus
    outcome: Decision | None
    case_id: int
    case_reference: str
    customer_name: str
    origin: str
    body: str
    response: str
    requested_by_id: int
    requested_by: str
    requested_at: dt.datetime
    assigned_to_id: int | None
    assigned_to: str  # empty: the centre's pool
    subject: str  # a compliment: whom it is about
    decided_by: str
    decided_at: dt.datetime | None
    sent_at: dt.datetime | None
    seen_at: dt.datetime | None
    wording: str  # a review's outcome in words for the customer

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def is_open(self) -> bool:
        return self.status in (ItemStatus.PENDING, ItemStatus.RETURNED)


@dataclass(frozen=True)
class Breach:
    case_id: int
    reference: str
    customer_name: str
    priority: str
    status: str
    officer: str
    opened_at: dt.datetime
    target_hours: int
    overdue_by: dt.timedelta


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


_Requester = aliased(orm.Staff, name="item_requester")
_Assignee = aliased(orm.Staff, name="item_assignee")
_Subject = aliased(orm.Staff, name="item_subject")
_Decider = aliased(orm.Staff, name="item_decider")


class WorkItemService:
    def __init__(self, uow: Callable[..., UnitOfWork], actor: Callable[[], StaffSession]) -> None:
        self._uow = uow
        self._actor = actor

    # --- raising ----------------------------------------------------------------------------

    def ask_review(
        self,
        case_id: int,
        reason: str,
        *,
        origin: ReviewOrigin = ReviewOrigin.CUSTOMER_ASKED,
        client_uuid: uuid.UUID | None = None,
    ) -> WorkItemView:
        """The customer asks for a supervisor's review, or the officer cannot resolve the case."""
        return self._raise(
            ItemKind.REVIEW,
            case_id,
            reason,
            origin=origin.value,
            client_uuid=client_uuid,
            missing="Say what should be reviewed, and why.",
        )

    def submit_reply(
        self, case_id: int, draft: str, *, client_uuid: uuid.UUID | None = None
    ) -> WorkItemView:
        """A sensitive or complex reply: a supervisor vets it before it may be marked as sent."""
        return self._raise(
            ItemKind.REPLY,
            case_id,
            draft,
            client_uuid=client_uuid,
            missing="Write the reply to vet.",
        )

    def record_compliment(
        self,
        case_id: int,
        about_username: str,
        words: str,
        *,
        client_uuid: uuid.UUID | None = None,
    ) -> WorkItemView:
        """A customer's compliment about a member of staff reaches that person's supervisor."""
        with self._uow(read_only=True) as uow:
            subject = self._staff_named(uow, about_username)
        if subject.id == self._actor().staff_id:
            raise ItemRefused(
                "A compliment about you is recorded by a colleague; choose who it is about.",
                field="staff",
            )
        return self._raise(
            ItemKind.COMPLIMENT,
            case_id,
            words,
            subject_id=subject.id,
            client_uuid=client_uuid,
            missing="Write what the customer said.",
        )

    def _raise(
        self,
        kind: ItemKind,
        case_id: int,
        body: str,
        *,
        origin: str = "",
        subject_id: int | None = None,
        client_uuid: uuid.UUID | None,
        missing: str,
    ) -> WorkItemView:
        actor = self._actor()
        body = normalise_text(body) if kind is not ItemKind.REPLY else body.strip()
        if not body:
            raise ItemRefused(missing, field="body")
        if len(body) > MAX_TEXT:
            raise ItemRefused(f"Keep it under {MAX_TEXT:,} characters.", field="body")
        client_uuid = client_uuid or uuid.uuid4()
        with self._uow() as uow:
            existing = uow.session.scalar(
                select(orm.WorkItem).where(orm.WorkItem.uuid == client_uuid)
            )
            if existing is not None:  # a retry of the same click
                return self._view(uow, existing.id)
            case = uow.session.get(orm.Case, case_id)
            if case is None:
                raise NotFound("This case no longer exists, or it is outside what you may see.")
            start = subject_id if kind is ItemKind.COMPLIMENT and subject_id else actor.staff_id
            assignee = self._route(uow, start, kind, excluding={actor.staff_id, subject_id or 0})
            row = orm.WorkItem(
                uuid=client_uuid,
                kind=kind.value,
                case_id=case.id,
                subject_staff_id=subject_id,
                origin=origin,
                body=body,
                requested_by_id=actor.staff_id,
                requested_at=_now(),
                assigned_to_id=assignee.id if assignee is not None else None,
                status=ItemStatus.PENDING.value,
            )
            uow.session.add(row)
            self._flush(uow)
            to = assignee.full_name if assignee is not None else "the centre's supervisors"
            self._event(uow, case, actor, f"{KIND_LABELS[kind]} sent to {to}: {_short(body)}")
            if kind is not ItemKind.COMPLIMENT:
                self._move_case(case, CaseStatus.AWAITING_DECISION)
            self._audit(uow, actor, f"item.{kind.value}", row, {"case": case.reference, "to": to})
            uow.commit()
            return self._view(uow, row.id)

    # --- deciding ---------------------------------------------------------------------------

    def decide(
        self,
        item_id: int,
        decision: Decision,
        response: str,
        *,
        expected_version: int | None = None,
    ) -> WorkItemView:
        """Exactly one decision stands: a second decider is told who decided and when."""
        actor = self._actor()
        response = response.strip() if decision is Decision.APPROVE else normalise_text(response)
        with self._uow() as uow:
            row = uow.session.get(orm.WorkItem, item_id, with_for_update=True)
            if row is None:
                raise NotFound("This item no longer exists, or it is outside what you may see.")
            if row.status != ItemStatus.PENDING.value or (
                expected_version is not None and row.version != expected_version
            ):
                raise self._already(uow, row)
            kind = ItemKind(row.kind)
            refusal = decision_refusal(
                kind,
                decision,
                response,
                decider_id=actor.staff_id,
                requester_id=row.requested_by_id,
                subject_id=row.subject_staff_id,
                decider_permissions=held_permissions(uow.session, actor.staff_id),
            )
            if refusal is not None:
                raise ItemRefused(refusal.message, field=refusal.field)
            self._refuse_unless_holder(uow, row, actor)
            row.status = (
                ItemStatus.RETURNED.value if decision is Decision.RETURN else ItemStatus.DONE.value
            )
            row.outcome = None if decision is Decision.RETURN else decision.value
            row.response = response
            row.decided_by_id = actor.staff_id
            row.decided_at = _now()
            self._flush(uow)
            case = uow.session.get(orm.Case, row.case_id)
            assert case is not None
            line = f"{KIND_LABELS[kind]}: {DECISION_LABELS[decision]}"
            if kind is ItemKind.REPLY and decision is Decision.APPROVE:
                edited = " (edited)" if response != row.body else ""
                line = f"Reply approved{edited}; the text to send: {response}"
            elif kind is ItemKind.COMPLIMENT:
                line = f"Compliment acknowledged; a note of recognition was sent: {response}"
            else:
                line += f": {response}"
            self._event(uow, case, actor, line)
            if kind is not ItemKind.COMPLIMENT and not self._open_on_case(uow, case.id):
                self._move_case(case, CaseStatus.IN_PROGRESS)
            self._audit(
                uow,
                actor,
                f"item.decided.{decision.value}",
                row,
                {"case": case.reference, "response": _short(response)},
            )
            uow.commit()
            return self._view(uow, row.id)

    def forward(
        self, item_id: int, note: str = "", *, expected_version: int | None = None
    ) -> WorkItemView:
        """A compliment goes up the chain of command (the forwarder's own supervisor)."""
        actor = self._actor()
        with self._uow() as uow:
            row = uow.session.get(orm.WorkItem, item_id, with_for_update=True)
            if row is None:
                raise NotFound("This item no longer exists, or it is outside what you may see.")
            if row.status != ItemStatus.PENDING.value or (
                expected_version is not None and row.version != expected_version
            ):
                raise self._already(uow, row)
            if row.kind != ItemKind.COMPLIMENT.value:
                raise ItemRefused("Only a compliment is forwarded up the chain; pass others on.")
            self._require(uow, actor, permission_for(ItemKind.COMPLIMENT))
            self._refuse_unless_holder(uow, row, actor)
            boss = self._route(
                uow,
                actor.staff_id,
                ItemKind.COMPLIMENT,
                excluding={actor.staff_id, row.requested_by_id, row.subject_staff_id or 0},
            )
            if boss is None:
                raise ItemRefused("There is nobody higher up the chain to forward it to.")
            row.assigned_to_id = boss.id
            self._flush(uow)
            case = uow.session.get(orm.Case, row.case_id)
            assert case is not None
            extra = f": {normalise_text(note)}" if note.strip() else "."
            self._event(uow, case, actor, f"Compliment forwarded to {boss.full_name}{extra}")
            self._audit(uow, actor, "item.forwarded", row, {"to": boss.username})
            uow.commit()
            return self._view(uow, row.id)

    def reassign(
        self,
        item_id: int,
        to_username: str,
        reason: str = "",
        *,
        expected_version: int | None = None,
    ) -> WorkItemView:
        """Pass a pending item to another person who may decide it."""
        actor = self._actor()
        with self._uow() as uow:
            row = uow.session.get(orm.WorkItem, item_id, with_for_update=True)
            if row is None:
                raise NotFound("This item no longer exists, or it is outside what you may see.")
            if row.status != ItemStatus.PENDING.value or (
                expected_version is not None and row.version != expected_version
            ):
                raise self._already(uow, row)
            kind = ItemKind(row.kind)
            self._require(uow, actor, permission_for(kind))
            self._refuse_unless_holder(uow, row, actor)
            target = self._staff_named(uow, to_username)
            if target.id in (row.requested_by_id, row.subject_staff_id):
                raise ItemRefused(
                    f"{target.full_name} raised this item, or it is about them; choose someone "
                    "else.",
                    field="assignee",
                )
            if not target.active or permission_for(kind).value not in held_permissions(
                uow.session, target.id
            ):
                raise ItemRefused(
                    f"{target.full_name} cannot decide a {KIND_LABELS[kind].lower()}.",
                    field="assignee",
                )
            row.assigned_to_id = target.id
            self._flush(uow)
            case = uow.session.get(orm.Case, row.case_id)
            assert case is not None
            why = normalise_text(reason)
            self._event(
                uow,
                case,
                actor,
                f"{KIND_LABELS[kind]} passed on to {target.full_name}"
                + (f": {why}" if why else "."),
            )
            self._audit(uow, actor, "item.reassigned", row, {"to": target.username, "reason": why})
            uow.commit()
            return self._view(uow, row.id)

    # --- the requester's side ---------------------------------------------------------------

    def resubmit(
        self, item_id: int, body: str, *, expected_version: int | None = None
    ) -> WorkItemView:
        """A returned item, with what was asked for added, goes back to whom it waited for."""
        actor = self._actor()
        body = body.strip()
        with self._uow() as uow:
            row = self._own(uow, actor, item_id, expected_version)
            if row.status != ItemStatus.RETURNED.value:
                raise ItemRefused("Only an item returned for more information is sent again.")
            if not body:
                raise ItemRefused("Write what was asked for.", field="body")
            row.body = body if row.kind == ItemKind.REPLY.value else normalise_text(body)
            row.status = ItemStatus.PENDING.value
            row.outcome = None
            self._flush(uow)
            case = uow.session.get(orm.Case, row.case_id)
            assert case is not None
            self._event(uow, case, actor, f"{KIND_LABELS[ItemKind(row.kind)]} sent again.")
            self._move_case(case, CaseStatus.AWAITING_DECISION)
            self._audit(uow, actor, "item.resubmitted", row, {"case": case.reference})
            uow.commit()
            return self._view(uow, row.id)

    def withdraw(self, item_id: int, *, expected_version: int | None = None) -> WorkItemView:
        actor = self._actor()
        with self._uow() as uow:
            row = self._own(uow, actor, item_id, expected_version)
            if row.status not in (ItemStatus.PENDING.value, ItemStatus.RETURNED.value):
                raise self._already(uow, row)
            row.status = ItemStatus.WITHDRAWN.value
            self._flush(uow)
            case = uow.session.get(orm.Case, row.case_id)
            assert case is not None
            self._event(uow, case, actor, f"{KIND_LABELS[ItemKind(row.kind)]} withdrawn.")
            if not self._open_on_case(uow, case.id):
                self._move_case(case, CaseStatus.IN_PROGRESS)
            self._audit(uow, actor, "item.withdrawn", row, {"case": case.reference})
            uow.commit()
            return self._view(uow, row.id)

    def mark_sent(self, item_id: int) -> WorkItemView:
        """The approved reply went out: the case shows the approved text, once."""
        actor = self._actor()
        with self._uow() as uow:
            row = self._own(uow, actor, item_id, None)
            if row.kind != ItemKind.REPLY.value:
                raise ItemRefused("Only a reply is marked as sent.")
            if row.outcome != Decision.APPROVE.value:
                raise ItemRefused(
                    "This reply is not approved yet: it cannot be marked as sent until a "
                    "supervisor approves it."
                )
            if row.sent_at is not None:
                return self._view(uow, row.id)
            row.sent_at = _now()
            self._flush(uow)
            case = uow.session.get(orm.Case, row.case_id)
            assert case is not None
            uow.session.add(
                orm.CaseEvent(
                    case_id=case.id,
                    actor_id=actor.staff_id,
                    kind=EventKind.CUSTOMER_UPDATE.value,
                    summary=f"Reply sent (as approved): {row.response}",
                    at=_now(),
                )
            )
            self._audit(uow, actor, "item.reply_sent", row, {"case": case.reference})
            uow.commit()
            return self._view(uow, row.id)

    def mark_seen(self, item_id: int) -> WorkItemView:
        """The member of staff read the note of recognition."""
        actor = self._actor()
        with self._uow() as uow:
            row = uow.session.get(orm.WorkItem, item_id, with_for_update=True)
            if (
                row is None
                or row.subject_staff_id != actor.staff_id
                or row.outcome != Decision.ACKNOWLEDGE.value
            ):
                raise NotFound("This note is not for you, or not written yet.")
            if row.seen_at is None:
                row.seen_at = _now()
                self._flush(uow)
                uow.commit()
            return self._view(uow, row.id)

    # --- lists ------------------------------------------------------------------------------

    def waiting(self, kind: ItemKind | None = None) -> list[WorkItemView]:
        """What waits for the logged-in person: assigned to them, to someone away whose deputy
        they are, or in their centre's pool for a kind they may decide. Oldest first."""
        actor = self._actor()
        w = orm.WorkItem
        with self._uow(read_only=True) as uow:
            held = held_permissions(uow.session, actor.staff_id)
            mine = {actor.staff_id} | set(
                covered_by(actor.staff_id, presences(uow.session), leave_today())
            )
            kinds = [k for k in ItemKind if permission_for(k).value in held]
            conditions: list[ColumnElement[bool]] = [w.assigned_to_id.in_(sorted(mine))]
            if kinds:
                conditions.append(
                    (w.assigned_to_id.is_(None))
                    & w.kind.in_([k.value for k in kinds])
                    & w.case_id.in_(
                        select(orm.Case.id).where(orm.Case.centre_id == actor.centre_id)
                    )
                )
            query = (
                select(w.id)
                .where(
                    w.status == ItemStatus.PENDING.value,
                    or_(*conditions),
                    w.requested_by_id != actor.staff_id,
                    or_(w.subject_staff_id.is_(None), w.subject_staff_id != actor.staff_id),
                )
                .order_by(w.requested_at, w.id)
                .limit(MAX_LISTED)
            )
            if kind is not None:
                query = query.where(w.kind == kind.value)
            ids = list(uow.session.scalars(query))
            return self._views(uow, ids)

    def counts(self) -> dict[ItemKind, int]:
        found = {k: 0 for k in ItemKind}
        for item in self.waiting():
            found[item.kind] += 1
        return found

    def raised(self, *, open_only: bool = False) -> list[WorkItemView]:
        """What the logged-in person raised, newest first."""
        actor = self._actor()
        w = orm.WorkItem
        with self._uow(read_only=True) as uow:
            query = select(w.id).where(w.requested_by_id == actor.staff_id)
            if open_only:
                query = query.where(
                    w.status.in_([ItemStatus.PENDING.value, ItemStatus.RETURNED.value])
                )
            ids = list(
                uow.session.scalars(query.order_by(w.requested_at.desc(), w.id.desc()).limit(200))
            )
            return self._views(uow, ids)

    def for_case(self, case_id: int) -> list[WorkItemView]:
        w = orm.WorkItem
        with self._uow(read_only=True) as uow:
            ids = list(
                uow.session.scalars(
                    select(w.id).where(w.case_id == case_id).order_by(w.requested_at, w.id)
                )
            )
            return self._views(uow, ids)

    def recognitions(self) -> list[WorkItemView]:
        """Notes of recognition about the logged-in person not read yet."""
        actor = self._actor()
        w = orm.WorkItem
        with self._uow(read_only=True) as uow:
            ids = list(
                uow.session.scalars(
                    select(w.id)
                    .where(
                        w.subject_staff_id == actor.staff_id,
                        w.outcome == Decision.ACKNOWLEDGE.value,
                        w.seen_at.is_(None),
                    )
                    .order_by(w.decided_at)
                )
            )
            return self._views(uow, ids)

    def breaches(self) -> list[Breach]:
        """Open cases of the supervisor's centre (every centre for someone who sees all) past
        the resolution target of their priority, longest overdue first."""
        actor = self._actor()
        now = _now()
        c = orm.Case
        with self._uow(read_only=True) as uow:
            held = held_permissions(uow.session, actor.staff_id)
            if Permission.DECIDE_APPROVALS.value not in held:
                return []
            targets = {p: read_whole_number(uow, s) for p, s in RESOLUTION_TARGETS.items()}
            officer = aliased(orm.Staff)
            found: list[Breach] = []
            for priority, hours in targets.items():
                query = (
                    select(
                        c.id,
                        c.reference,
                        orm.Customer.full_name,
                        c.priority,
                        c.status,
                        officer.full_name,
                        c.opened_at,
                    )
                    .join(orm.Customer, orm.Customer.id == c.customer_id)
                    .outerjoin(officer, officer.id == c.assigned_officer_id)
                    .where(
                        c.priority == priority.value,
                        c.status.in_([s.value for s in OPEN_STATUSES]),
                        c.opened_at < now - dt.timedelta(hours=hours),
                    )
                    .order_by(c.opened_at)
                    .limit(MAX_LISTED)
                )
                if Permission.VIEW_ALL_CASES.value not in held:
                    query = query.where(c.centre_id == actor.centre_id)
                for row in uow.session.execute(query):
                    opened = _aware(row[6])
                    assert opened is not None
                    found.append(
                        Breach(
                            case_id=row[0],
                            reference=row[1],
                            customer_name=row[2],
                            priority=row[3],
                            status=row[4],
                            officer=row[5] or "",
                            opened_at=opened,
                            target_hours=hours,
                            overdue_by=now - opened - dt.timedelta(hours=hours),
                        )
                    )
        found.sort(key=lambda b: b.overdue_by, reverse=True)
        return found[:MAX_LISTED]

    def staff_choices(self) -> list[tuple[str, str, str]]:
        """Active staff as (user name, full name, centre), the logged-in person's centre first:
        whom a compliment can be about."""
        actor = self._actor()
        with self._uow(read_only=True) as uow:
            rows = uow.session.execute(
                select(
                    orm.Staff.username,
                    orm.Staff.full_name,
                    orm.ServiceCentre.name,
                    orm.Staff.centre_id,
                )
                .join(orm.ServiceCentre, orm.ServiceCentre.id == orm.Staff.centre_id)
                .where(orm.Staff.active)
                .order_by(orm.Staff.full_name)
            ).all()
        ordered = sorted(rows, key=lambda r: (r[3] != actor.centre_id, r[1].casefold()))
        return [(r[0], r[1], r[2]) for r in ordered]

    # --- helpers ----------------------------------------------------------------------------

    def _route(
        self, uow: UnitOfWork, start_id: int, kind: ItemKind, *, excluding: set[int]
    ) -> orm.Staff | None:
        """The first person up the chain from ``start_id`` (or their deputy while away) who may
        decide this kind; None: the centre's pool."""
        needed = permission_for(kind).value
        people, day = presences(uow.session), leave_today()
        person = uow.session.get(orm.Staff, start_id)
        seen = {start_id}
        while person is not None and person.supervisor_id is not None:
            if person.supervisor_id in seen:
                break
            seen.add(person.supervisor_id)
            boss = uow.session.get(orm.Staff, person.supervisor_id)
            if boss is None:
                break
            if boss.active:
                deciding = stand_in(boss.id, people, day, excluding=excluding)
                if deciding is not None and needed in held_permissions(uow.session, deciding):
                    return uow.session.get(orm.Staff, deciding)
            person = boss
        return None

    def _refuse_unless_holder(
        self, uow: UnitOfWork, row: orm.WorkItem, actor: StaffSession
    ) -> None:
        """Only whom the item waits for acts on it: that person, their deputy while they are
        away, or for an item in a centre's pool, a member of that pool who may decide it."""
        case = uow.session.get(orm.Case, row.case_id)
        centre = case.centre_id if case is not None else None
        if acts_for(
            uow.session, actor, row.assigned_to_id, centre, permission_for(ItemKind(row.kind))
        ):
            return
        if row.assigned_to_id is None:
            raise PermissionRefused(
                "This item waits for the supervisors of another centre; only they decide it."
            )
        holder = uow.session.get(orm.Staff, row.assigned_to_id)
        raise PermissionRefused(
            f"This item waits for {holder.full_name if holder else 'someone else'}; only they "
            "(or their deputy while they are away) act on it."
        )

    def _require(self, uow: UnitOfWork, actor: StaffSession, permission: Permission) -> None:
        if permission.value not in held_permissions(uow.session, actor.staff_id):
            raise PermissionRefused(
                f"This needs the permission {permission.value!r}, which your role does not have."
            )

    def _own(
        self, uow: UnitOfWork, actor: StaffSession, item_id: int, expected_version: int | None
    ) -> orm.WorkItem:
        row = uow.session.get(orm.WorkItem, item_id, with_for_update=True)
        if row is None:
            raise NotFound("This item no longer exists, or it is outside what you may see.")
        if row.requested_by_id != actor.staff_id:
            raise PermissionRefused("Only the person who raised it may do this.")
        if expected_version is not None and row.version != expected_version:
            raise self._already(uow, row)
        return row

    def _staff_named(self, uow: UnitOfWork, username: str) -> orm.Staff:
        row = uow.session.scalar(
            select(orm.Staff).where(func.lower(orm.Staff.username) == username.strip().lower())
        )
        if row is None:
            raise ItemRefused(f"There is no member of staff {username!r}.", field="staff")
        return row

    def _already(self, uow: UnitOfWork, row: orm.WorkItem) -> ConflictError:
        who = uow.session.get(orm.Staff, row.decided_by_id) if row.decided_by_id else None
        if row.status == ItemStatus.PENDING.value:
            return ConflictError("This item changed since you opened it; look again.")
        if row.status == ItemStatus.WITHDRAWN.value:
            return ConflictError("This item was withdrawn by the person who raised it.")
        if who is None or row.decided_at is None:
            return ConflictError(f"This item is {row.status}; there is nothing to decide.")
        when = _aware(row.decided_at)
        assert when is not None
        return ConflictError(
            f"{who.full_name} already decided this at {when.astimezone():%H:%M} on "
            f"{when.astimezone():%d %b}; their "
            "decision stands.",
            changed_by=who.full_name,
            changed_at=when,
        )

    def _open_on_case(self, uow: UnitOfWork, case_id: int) -> bool:
        pending_item = uow.session.scalar(
            select(orm.WorkItem.id)
            .where(
                orm.WorkItem.case_id == case_id,
                orm.WorkItem.status == ItemStatus.PENDING.value,
                orm.WorkItem.kind != ItemKind.COMPLIMENT.value,
            )
            .limit(1)
        )
        pending_request = uow.session.scalar(
            select(orm.ApprovalRequest.id)
            .where(orm.ApprovalRequest.case_id == case_id, orm.ApprovalRequest.status == "pending")
            .limit(1)
        )
        return pending_item is not None or pending_request is not None

    def _move_case(self, case: orm.Case, target: CaseStatus) -> None:
        move_case(case, target)

    def _event(self, uow: UnitOfWork, case: orm.Case, actor: StaffSession, summary: str) -> None:
        note_on_case(uow, case, actor, summary)

    def _audit(
        self,
        uow: UnitOfWork,
        actor: StaffSession,
        action: str,
        row: orm.WorkItem,
        details: dict[str, object],
    ) -> None:
        audit.record(
            uow,
            actor=actor,
            action=action,
            entity="work_item",
            entity_id=row.id,
            details=details,
            at=_now(),
        )

    def _flush(self, uow: UnitOfWork) -> None:
        try:
            uow.session.flush()
        except StaleDataError as exc:
            raise ConflictError(
                "Someone else changed this item at the same moment; look again."
            ) from exc
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "42501":
                diag = getattr(exc.orig, "diag", None)
                raise PermissionRefused(
                    str(getattr(diag, "message_primary", None) or exc.orig)
                ) from exc
            raise

    def _view(self, uow: UnitOfWork, item_id: int) -> WorkItemView:
        views = self._views(uow, [item_id])
        if not views:
            raise NotFound("This item is outside what you may see.")
        return views[0]

    def _views(self, uow: UnitOfWork, ids: Sequence[int]) -> list[WorkItemView]:
        if not ids:
            return []
        w = orm.WorkItem
        rows = uow.session.execute(
            select(
                w,
                orm.Case.reference,
                orm.Customer.full_name,
                _Requester.full_name,
                _Assignee.full_name,
                _Subject.full_name,
                _Decider.full_name,
            )
            # Outer: on PostgreSQL the person a compliment is about sees the item (its policy)
            # and its recognition note without seeing the case, which may be another centre's.
            .outerjoin(orm.Case, orm.Case.id == w.case_id)
            .outerjoin(orm.Customer, orm.Customer.id == orm.Case.customer_id)
            .join(_Requester, _Requester.id == w.requested_by_id)
            .outerjoin(_Assignee, _Assignee.id == w.assigned_to_id)
            .outerjoin(_Subject, _Subject.id == w.subject_staff_id)
            .outerjoin(_Decider, _Decider.id == w.decided_by_id)
            .where(w.id.in_(list(ids)))
        ).all()
        by_id = {}
        for row, reference, customer_or_none, requester, assignee, subject, decider in rows:
            customer = customer_or_none or ""  # empty: the case is outside what they may see
            kind = ItemKind(row.kind)
            outcome = Decision(row.outcome) if row.outcome else None
            requested = _aware(row.requested_at)
            assert requested is not None
            by_id[row.id] = WorkItemView(
                id=row.id,
                uuid=row.uuid,
                version=row.version,
                kind=kind,
                status=ItemStatus(row.status),
                outcome=outcome,
                case_id=row.case_id,
                case_reference=reference or "",
                customer_name=customer,
                origin=row.origin,
                body=row.body,
                response=row.response,
                requested_by_id=row.requested_by_id,
                requested_by=requester,
                requested_at=requested,
                assigned_to_id=row.assigned_to_id,
                assigned_to=assignee or "",
                subject=subject or "",
                decided_by=decider or "",
                decided_at=_aware(row.decided_at),
                sent_at=_aware(row.sent_at),
                seen_at=_aware(row.seen_at),
                wording=customer_wording(kind, outcome, row.response, customer)
                if outcome is not None
                else "",
            )
        return [by_id[i] for i in ids if i in by_id]


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
