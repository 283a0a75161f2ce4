"""Waivers, claims and refunds: granted on the spot within the officer's limit, or sent to the
person whose limit covers them and decided there.

Every grant and decision passes ``desk.domain.authority.decide_authority`` here, with the limits and
the customer's rolling total read in the same transaction; on PostgreSQL the database checks the
same rule again (schema revision 0006), so a modified client gains nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from desk.adapters import orm
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain import workflow
from desk.domain.authority import (
    KIND_LABELS,
    GrantRequest,
    Permission,
    RoleLimit,
    Verdict,
    decide_authority,
)
from desk.domain.model import CaseStatus, EventKind
from desk.domain.money import Currency
from desk.domain.validation import normalise_text
from desk.services import audit
from desk.services.dto import StaffSession
from desk.services.errors import ConflictError, DeskError, NotFound
from desk.services.leave import presences, stand_in
from desk.services.leave import today as leave_today
from desk.services.permissions import held_permissions
from desk.services.reference import currency_from, read_settings

DEFAULT_WINDOW_DAYS = 365
DECIDED = ("granted", "approved")


class AuthorityRefused(DeskError):
    """Above the person's authority, or not theirs to decide; the message says why and who can."""

    def __init__(self, message: str, *, needs_role: str | None = None) -> None:
        super().__init__(message)
        self.needs_role = needs_role


class Outcome(enum.StrEnum):
    APPROVE = "approve"  # the amount asked, or a lower one
    REJECT = "reject"
    RETURN = "return"  # back to the officer for more information


_STATUS_OF = {Outcome.APPROVE: "approved", Outcome.REJECT: "rejected", Outcome.RETURN: "returned"}


@dataclass(frozen=True)
class KindInfo:
    code: str
    label: str
    limit_minor: int  # the logged-in person's own limit


@dataclass(frozen=True)
class GrantCheck:
    """What the officer sees before asking: may they grant it here, and if not, who may."""

    verdict: Verdict
    limit_minor: int
    prior_total_minor: int
    window_days: int


@dataclass(frozen=True)
class RequestView:
    id: int
    uuid: uuid.UUID
    case_id: int
    kind: str
    kind_label: str
    amount_minor: int
    status: str
    reason: str
    requested_by: str
    requested_at: dt.datetime
    assigned_to: str | None
    decided_by: str | None
    decided_at: dt.datetime | None
    decided_amount_minor: int | None
    decision_reason: str


def note_on_case(uow: UnitOfWork, case: orm.Case, actor: StaffSession, summary: str) -> None:
    """A line on the case's timeline, in the caller's unit of work."""
    uow.session.add(
        orm.CaseEvent(
            case_id=case.id,
            actor_id=actor.staff_id,
            kind=EventKind.NOTE.value,
            summary=summary,
            at=dt.datetime.now(dt.UTC),
        )
    )


def move_case(case: orm.Case, target: CaseStatus) -> None:
    """Move the case to ``target`` when the workflow allows it from where it stands (a request
    or item never forces a case backwards)."""
    current = CaseStatus(case.status)
    if current is target or target not in workflow.allowed_next(current):
        return
    case.status = target.value
    case.updated_at = dt.datetime.now(dt.UTC)


class GrantService:
    def __init__(self, uow: Callable[..., UnitOfWork], actor: Callable[[], StaffSession]) -> None:
        self._uow = uow
        self._actor = actor

    # --- reading ------------------------------------------------------------------------------

    def kinds(self) -> list[KindInfo]:
        actor = self._actor()
        with self._uow(read_only=True) as uow:
            role_id = self._role_id(uow, actor.staff_id)
            limits = self._limits_of_role(uow, role_id)
            kinds = uow.session.scalars(
                select(orm.RequestKind).where(orm.RequestKind.active).order_by(orm.RequestKind.id)
            )
            return [KindInfo(k.code, k.label, limits.get(k.id, 0)) for k in kinds]

    def check(self, case_id: int, kind: str, amount_minor: int) -> GrantCheck:
        """May the logged-in person grant this on the spot? (Asked while the officer types.)"""
        actor = self._actor()
        with self._uow(read_only=True) as uow:
            case = self._case(uow, case_id)
            kind_row = self._kind(uow, kind)
            return self._check(uow, actor.staff_id, case.customer_id, kind_row, amount_minor, None)

    def for_case(self, case_id: int) -> list[RequestView]:
        with self._uow(read_only=True) as uow:
            rows = uow.session.scalars(
                select(orm.ApprovalRequest)
                .where(orm.ApprovalRequest.case_id == case_id)
                .order_by(orm.ApprovalRequest.requested_at, orm.ApprovalRequest.id)
            ).all()
            return [self._view(uow, r) for r in rows]

    def awaiting_me(self) -> list[RequestView]:
        actor = self._actor()
        with self._uow(read_only=True) as uow:
            rows = uow.session.scalars(
                select(orm.ApprovalRequest)
                .where(
                    orm.ApprovalRequest.assigned_to_id == actor.staff_id,
                    orm.ApprovalRequest.status == "pending",
                )
                .order_by(orm.ApprovalRequest.requested_at, orm.ApprovalRequest.id)
            ).all()
            return [self._view(uow, r) for r in rows]

    # --- writing ------------------------------------------------------------------------------

    def grant(
        self,
        case_id: int,
        kind: str,
        amount_minor: int,
        reason: str,
        *,
        client_uuid: uuid.UUID | None = None,
    ) -> RequestView:
        """Grant on the spot, within the officer's own limit (customer's rolling total counted)."""
        actor = self._actor()
        reason = self._required_reason(reason)
        client_uuid = client_uuid or uuid.uuid4()
        with self._uow() as uow:
            existing = self._by_uuid(uow, client_uuid)
            if existing is not None:  # the same click replayed
                return self._view(uow, existing)
            case = self._case(uow, case_id)
            kind_row = self._kind(uow, kind)
            self._lock_customer(uow, case.customer_id)
            check = self._check(uow, actor.staff_id, case.customer_id, kind_row, amount_minor, None)
            if not check.verdict.allowed:
                raise AuthorityRefused(check.verdict.reason, needs_role=check.verdict.needs_role)
            now = dt.datetime.now(dt.UTC)
            row = orm.ApprovalRequest(
                uuid=client_uuid,
                case_id=case.id,
                customer_id=case.customer_id,
                kind_id=kind_row.id,
                amount_minor=amount_minor,
                reason=reason,
                status="granted",
                requested_by_id=actor.staff_id,
                requested_at=now,
                decided_by_id=actor.staff_id,
                decided_at=now,
                decided_amount_minor=amount_minor,
            )
            currency = currency_from(read_settings(uow))
            self._flush(uow, row)
            self._event(
                uow,
                case,
                actor,
                f"{kind_row.label} of {currency.format(amount_minor)} granted at the counter: "
                f"{reason}",
            )
            audit.record(
                uow,
                actor=actor,
                action="grant",
                entity="approval_request",
                entity_id=row.id,
                details={"case": case.reference, "kind": kind_row.code, "amount": amount_minor},
            )
            view = self._view(uow, row)
            uow.commit()
            return view

    def request(
        self,
        case_id: int,
        kind: str,
        amount_minor: int,
        reason: str,
        *,
        recommendation: str = "",
        alternatives_offered: str = "",
        evidence: str = "",
        client_uuid: uuid.UUID | None = None,
    ) -> RequestView:
        """Send it to the lowest person up the officer's chain whose limit covers it."""
        actor = self._actor()
        reason = self._required_reason(reason)
        if amount_minor <= 0:
            raise DeskError("Enter the amount the customer asks for.")
        client_uuid = client_uuid or uuid.uuid4()
        with self._uow() as uow:
            existing = self._by_uuid(uow, client_uuid)
            if existing is not None:
                return self._view(uow, existing)
            case = self._case(uow, case_id)
            kind_row = self._kind(uow, kind)
            prior = self._prior_total(uow, case.customer_id, kind_row.id, None)
            assignee = self._route(uow, actor.staff_id, kind_row.id, prior + amount_minor)
            row = orm.ApprovalRequest(
                uuid=client_uuid,
                case_id=case.id,
                customer_id=case.customer_id,
                kind_id=kind_row.id,
                amount_minor=amount_minor,
                reason=reason,
                recommendation=normalise_text(recommendation),
                alternatives_offered=normalise_text(alternatives_offered),
                evidence=normalise_text(evidence),
                status="pending",
                requested_by_id=actor.staff_id,
                requested_at=dt.datetime.now(dt.UTC),
                assigned_to_id=assignee.id if assignee else None,
            )
            try:
                with uow.session.begin_nested():
                    self._flush(uow, row)
            except IntegrityError:
                # The same request sent twice at once (a retry racing the first attempt):
                # the other one recorded it.
                existing = self._by_uuid(uow, client_uuid)
                if existing is None:
                    raise
                return self._view(uow, existing)
            currency = currency_from(read_settings(uow))
            to = assignee.full_name if assignee else "the supervisors' pool"
            self._event(
                uow,
                case,
                actor,
                f"{kind_row.label} of {currency.format(amount_minor)} sent for a decision "
                f"to {to}: {reason}",
            )
            self._move_case(uow, case, CaseStatus.AWAITING_DECISION)
            audit.record(
                uow,
                actor=actor,
                action="request",
                entity="approval_request",
                entity_id=row.id,
                details={
                    "case": case.reference,
                    "kind": kind_row.code,
                    "amount": amount_minor,
                    "assigned_to": assignee.username if assignee else None,
                },
            )
            view = self._view(uow, row)
            uow.commit()
            return view

    def resubmit(
        self,
        request_id: int,
        *,
        amount_minor: int,
        reason: str,
        evidence: str | None = None,
        recommendation: str | None = None,
        alternatives_offered: str | None = None,
        expected_version: int | None = None,
    ) -> RequestView:
        """A request returned for more information, completed by its officer, goes back: to the
        person who returned it when they may still decide it, else up the chain again. A field
        not given (None) keeps what it said."""
        actor = self._actor()
        reason = self._required_reason(reason)
        if amount_minor <= 0:
            raise DeskError("Enter the amount the customer asks for.")
        with self._uow() as uow:
            row = uow.session.get(orm.ApprovalRequest, request_id, with_for_update=True)
            if row is None:
                raise NotFound("This request no longer exists, or it is outside what you may see.")
            if row.requested_by_id != actor.staff_id:
                raise AuthorityRefused("Only the officer who asked sends a request again.")
            if row.status != "returned" or (
                expected_version is not None and row.version != expected_version
            ):
                raise self._already_decided(uow, row)
            case = self._case(uow, row.case_id)
            kind_row = uow.session.get(orm.RequestKind, row.kind_id)
            assert kind_row is not None
            prior = self._prior_total(uow, row.customer_id, row.kind_id, row.id)
            back_to = uow.session.get(orm.Staff, row.decided_by_id) if row.decided_by_id else None
            limits = {r.role_id: r.limit for r in self._ladder(uow, row.kind_id)}
            if (
                back_to is None
                or not back_to.active
                or limits.get(back_to.role_id, 0) < prior + amount_minor
                or stand_in(back_to.id, presences(uow.session), leave_today()) != back_to.id
            ):
                back_to = self._route(uow, actor.staff_id, row.kind_id, prior + amount_minor)
            row.amount_minor = amount_minor
            row.reason = reason
            if evidence is not None:
                row.evidence = normalise_text(evidence)
            if recommendation is not None:
                row.recommendation = normalise_text(recommendation)
            if alternatives_offered is not None:
                row.alternatives_offered = normalise_text(alternatives_offered)
            row.status = "pending"
            row.assigned_to_id = back_to.id if back_to is not None else None
            self._flush(uow, row)
            currency = currency_from(read_settings(uow))
            to = back_to.full_name if back_to is not None else "the supervisors' pool"
            self._event(
                uow,
                case,
                actor,
                f"{kind_row.label} of {currency.format(amount_minor)} sent again to {to}: {reason}",
            )
            self._move_case(uow, case, CaseStatus.AWAITING_DECISION)
            audit.record(
                uow,
                actor=actor,
                action="resubmit",
                entity="approval_request",
                entity_id=row.id,
                details={"case": case.reference, "amount": amount_minor, "to": to},
            )
            view = self._view(uow, row)
            uow.commit()
            return view

    def withdraw(self, request_id: int, *, expected_version: int | None = None) -> RequestView:
        """The officer takes back a request still open (the customer changed their mind)."""
        actor = self._actor()
        with self._uow() as uow:
            row = uow.session.get(orm.ApprovalRequest, request_id, with_for_update=True)
            if row is None:
                raise NotFound("This request no longer exists, or it is outside what you may see.")
            if row.requested_by_id != actor.staff_id:
                raise AuthorityRefused("Only the officer who asked withdraws a request.")
            if row.status not in ("pending", "returned") or (
                expected_version is not None and row.version != expected_version
            ):
                raise self._already_decided(uow, row)
            row.status = "withdrawn"
            self._flush(uow, row)
            case = self._case(uow, row.case_id)
            kind_row = uow.session.get(orm.RequestKind, row.kind_id)
            assert kind_row is not None
            currency = currency_from(read_settings(uow))
            self._event(
                uow,
                case,
                actor,
                f"{kind_row.label} of {currency.format(row.amount_minor)} withdrawn.",
            )
            if not self._pending_on_case(uow, case.id):
                self._move_case(uow, case, CaseStatus.IN_PROGRESS)
            audit.record(
                uow,
                actor=actor,
                action="withdraw",
                entity="approval_request",
                entity_id=row.id,
                details={"case": case.reference},
            )
            view = self._view(uow, row)
            uow.commit()
            return view

    def decide(
        self,
        request_id: int,
        outcome: Outcome,
        *,
        reason: str = "",
        amount_minor: int | None = None,
        expected_version: int | None = None,
    ) -> RequestView:
        """Approve (possibly a lower amount), reject or return; exactly one decision stands."""
        actor = self._actor()
        reason = normalise_text(reason)
        with self._uow() as uow:
            row = uow.session.get(orm.ApprovalRequest, request_id, with_for_update=True)
            if row is None:
                raise NotFound("This request no longer exists, or it is outside what you may see.")
            if expected_version is not None and row.version != expected_version:
                raise self._already_decided(uow, row)
            if row.status != "pending":
                raise self._already_decided(uow, row)
            granted = row.amount_minor if amount_minor is None else amount_minor
            lower = outcome is Outcome.APPROVE and granted != row.amount_minor
            if (outcome is not Outcome.APPROVE or lower) and not reason:
                raise DeskError("Give a reason: the officer tells the customer why.")
            if outcome is Outcome.APPROVE and not 0 <= granted <= row.amount_minor:
                raise DeskError("The amount approved must be between zero and the amount asked.")
            case = self._case(uow, row.case_id)
            kind_row = uow.session.get(orm.RequestKind, row.kind_id)
            assert kind_row is not None
            if outcome is Outcome.APPROVE:
                self._lock_customer(uow, row.customer_id)
                check = self._check(
                    uow, actor.staff_id, row.customer_id, kind_row, granted, row.requested_by_id
                )
                if not check.verdict.allowed:
                    raise AuthorityRefused(
                        check.verdict.reason, needs_role=check.verdict.needs_role
                    )
            else:
                if row.requested_by_id == actor.staff_id:
                    raise AuthorityRefused(
                        "Nobody decides their own request; another person must decide it."
                    )
                if Permission.DECIDE_APPROVALS not in self._permissions(uow, actor.staff_id):
                    raise AuthorityRefused("Your role does not have the permission to decide.")
            row.status = _STATUS_OF[outcome]
            row.decided_by_id = actor.staff_id
            row.decided_at = dt.datetime.now(dt.UTC)
            row.decided_amount_minor = granted if outcome is Outcome.APPROVE else None
            row.decision_reason = reason
            self._flush(uow, row)
            currency = currency_from(read_settings(uow))
            self._event(uow, case, actor, self._decision_line(row, kind_row, currency))
            if not self._pending_on_case(uow, case.id):
                self._move_case(uow, case, CaseStatus.IN_PROGRESS)
            audit.record(
                uow,
                actor=actor,
                action=f"decision_{outcome.value}",
                entity="approval_request",
                entity_id=row.id,
                details={
                    "case": case.reference,
                    "amount": row.decided_amount_minor,
                    "reason": reason,
                },
            )
            view = self._view(uow, row)
            uow.commit()
            return view

    # --- the rule, with its facts read from the database -----------------------------------

    def _check(
        self,
        uow: UnitOfWork,
        decider_id: int,
        customer_id: int,
        kind_row: orm.RequestKind,
        amount_minor: int,
        requester_id: int | None,
    ) -> GrantCheck:
        role_id = self._role_id(uow, decider_id)
        roles = self._ladder(uow, kind_row.id)
        role_name = next(r.name for r in roles if r.role_id == role_id)
        prior = self._prior_total(uow, customer_id, kind_row.id, None)
        verdict = decide_authority(
            GrantRequest(
                kind=kind_row.code,
                amount_minor=amount_minor,
                decider_id=decider_id,
                decider_role=role_name,
                prior_total_minor=prior,
                requester_id=requester_id,
                decider_permissions=self._permissions(uow, decider_id),
                grant_permission=kind_row.grant_permission,
            ),
            [RoleLimit(r.name, r.rank, {kind_row.code: r.limit}) for r in roles],
            currency_from(read_settings(uow)),
            kind_label=None
            if kind_row.code in KIND_LABELS
            else f"{kind_row.label.lower()} requests",
        )
        limit = next(r.limit for r in roles if r.role_id == role_id)
        return GrantCheck(verdict, limit, prior, self._window_days(uow))

    def _ladder(self, uow: UnitOfWork, kind_id: int) -> list[_Rung]:
        rows = uow.session.execute(
            select(orm.Role.id, orm.Role.name, orm.Role.rank, orm.AuthorityLimit.limit_minor)
            .outerjoin(
                orm.AuthorityLimit,
                (orm.AuthorityLimit.role_id == orm.Role.id)
                & (orm.AuthorityLimit.kind_id == kind_id),
            )
            .order_by(orm.Role.rank, orm.Role.name)
        ).all()
        return [_Rung(rid, name, rank, limit or 0) for rid, name, rank, limit in rows]

    def _prior_total(
        self, uow: UnitOfWork, customer_id: int, kind_id: int, excluding: int | None
    ) -> int:
        """What the customer already received of this kind in the window, at every centre.

        On PostgreSQL the row-level policy would hide other centres' grants from this person:
        the database's own function (the one its check uses) counts them all."""
        if uow.session.get_bind().dialect.name == "postgresql":
            return int(
                uow.session.scalar(select(func.desk_prior_total(customer_id, kind_id, excluding)))
                or 0
            )
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=self._window_days(uow))
        query = select(func.coalesce(func.sum(orm.ApprovalRequest.decided_amount_minor), 0)).where(
            orm.ApprovalRequest.customer_id == customer_id,
            orm.ApprovalRequest.kind_id == kind_id,
            orm.ApprovalRequest.status.in_(DECIDED),
            orm.ApprovalRequest.decided_at > since,
        )
        if excluding is not None:
            query = query.where(orm.ApprovalRequest.id != excluding)
        return int(uow.session.scalar(query) or 0)

    def _window_days(self, uow: UnitOfWork) -> int:
        value = read_settings(uow).get("grant_window_days", str(DEFAULT_WINDOW_DAYS))
        try:
            return int(value)
        except ValueError:
            return DEFAULT_WINDOW_DAYS

    def _route(
        self, uow: UnitOfWork, requester_id: int, kind_id: int, total: int
    ) -> orm.Staff | None:
        """The lowest person up the chain whose limit covers the total; else the top of it.

        Without a supervisor, the centre's most junior active person who covers it."""
        limits = {r.role_id: r.limit for r in self._ladder(uow, kind_id)}
        requester = uow.session.get(orm.Staff, requester_id)
        assert requester is not None
        people, day = presences(uow.session), leave_today()

        def present(person: orm.Staff) -> orm.Staff | None:
            """The person, or the deputy deciding while they are away (never the requester)."""
            deciding = stand_in(person.id, people, day, excluding={requester_id})
            return uow.session.get(orm.Staff, deciding) if deciding is not None else None

        seen = {requester.id}
        current = requester
        top: orm.Staff | None = None
        while current.supervisor_id is not None and current.supervisor_id not in seen:
            boss = uow.session.get(orm.Staff, current.supervisor_id)
            if boss is None:
                break
            seen.add(boss.id)
            deciding = present(boss) if boss.active else None
            if deciding is not None:
                top = deciding
                if limits.get(deciding.role_id, 0) >= total and self._may_decide(
                    uow, deciding.role_id
                ):
                    return deciding
            current = boss
        if top is not None:
            return top
        candidates = uow.session.scalars(
            select(orm.Staff)
            .join(orm.Role, orm.Role.id == orm.Staff.role_id)
            .where(
                orm.Staff.centre_id == requester.centre_id,
                orm.Staff.active,
                orm.Staff.id != requester.id,
            )
            .order_by(orm.Role.rank, orm.Staff.id)
        ).all()
        deciders = [
            s
            for s in candidates
            if self._may_decide(uow, s.role_id) and not people[s.id].away_on(day)
        ]
        for person in deciders:
            if limits.get(person.role_id, 0) >= total:
                return person
        return deciders[-1] if deciders else None

    def _may_decide(self, uow: UnitOfWork, role_id: int) -> bool:
        return (
            uow.session.get(orm.RolePermission, (role_id, Permission.DECIDE_APPROVALS.value))
            is not None
        )

    def _permissions(self, uow: UnitOfWork, staff_id: int) -> frozenset[str]:
        return held_permissions(uow.session, staff_id)

    def _role_id(self, uow: UnitOfWork, staff_id: int) -> int:
        role_id = uow.session.scalar(select(orm.Staff.role_id).where(orm.Staff.id == staff_id))
        if role_id is None:
            raise NotFound("Your staff account no longer exists.")
        return int(role_id)

    def _limits_of_role(self, uow: UnitOfWork, role_id: int) -> dict[int, int]:
        return dict(
            uow.session.execute(
                select(orm.AuthorityLimit.kind_id, orm.AuthorityLimit.limit_minor).where(
                    orm.AuthorityLimit.role_id == role_id
                )
            ).all()
        )

    # --- helpers ------------------------------------------------------------------------------

    def _case(self, uow: UnitOfWork, case_id: int) -> orm.Case:
        case = uow.session.get(orm.Case, case_id)
        if case is None:
            raise NotFound("This case no longer exists, or it is outside what you may see.")
        return case

    def _kind(self, uow: UnitOfWork, code: str) -> orm.RequestKind:
        row = uow.session.scalar(select(orm.RequestKind).where(orm.RequestKind.code == code))
        if row is None or not row.active:
            raise NotFound(f"There is no kind of request called {code!r}.")
        return row

    def _by_uuid(self, uow: UnitOfWork, client_uuid: uuid.UUID) -> orm.ApprovalRequest | None:
        return uow.session.scalar(
            select(orm.ApprovalRequest).where(orm.ApprovalRequest.uuid == client_uuid)
        )

    def _required_reason(self, reason: str) -> str:
        reason = normalise_text(reason)
        if not reason:
            raise DeskError("Give a reason: it is kept with the decision.")
        return reason

    def _lock_customer(self, uow: UnitOfWork, customer_id: int) -> None:
        """One grant at a time per customer, so two people cannot both fit under a limit."""
        if uow.session.get_bind().dialect.name == "postgresql":
            uow.session.execute(select(func.pg_advisory_xact_lock(7243, customer_id % 2147483647)))

    def _flush(self, uow: UnitOfWork, row: orm.ApprovalRequest) -> None:
        """Write now, so the database's own checks answer in this person's words."""
        uow.session.add(row)
        try:
            uow.session.flush()
        except StaleDataError as exc:
            raise ConflictError(
                "Someone else decided or changed this request at the same moment; look again."
            ) from exc
        except DBAPIError as exc:
            message = _database_refusal(exc)
            if message is None:
                raise
            raise AuthorityRefused(message) from exc

    def _event(self, uow: UnitOfWork, case: orm.Case, actor: StaffSession, summary: str) -> None:
        note_on_case(uow, case, actor, summary)

    def _move_case(self, uow: UnitOfWork, case: orm.Case, target: CaseStatus) -> None:
        move_case(case, target)

    def _pending_on_case(self, uow: UnitOfWork, case_id: int) -> bool:
        return (
            uow.session.scalar(
                select(orm.ApprovalRequest.id)
                .where(
                    orm.ApprovalRequest.case_id == case_id,
                    orm.ApprovalRequest.status == "pending",
                )
                .limit(1)
            )
            is not None
        )

    def _decision_line(
        self, row: orm.ApprovalRequest, kind_row: orm.RequestKind, currency: Currency
    ) -> str:
        asked = currency.format(row.amount_minor)
        if row.status == "approved":
            granted = currency.format(row.decided_amount_minor or 0)
            text = f"{kind_row.label} of {asked} approved"
            if row.decided_amount_minor != row.amount_minor:
                text = f"{kind_row.label} approved at {granted} (asked {asked})"
        elif row.status == "rejected":
            text = f"{kind_row.label} of {asked} not approved"
        else:
            text = f"{kind_row.label} of {asked} returned for more information"
        return text + (f": {row.decision_reason}" if row.decision_reason else ".")

    def _already_decided(self, uow: UnitOfWork, row: orm.ApprovalRequest) -> ConflictError:
        who = uow.session.get(orm.Staff, row.decided_by_id) if row.decided_by_id else None
        if row.status == "pending":
            return ConflictError("This request changed since you opened it; look again.")
        if who is None:
            return ConflictError(f"This request is {row.status}; there is nothing to decide.")
        return ConflictError(
            f"{who.full_name} already decided this request ({row.status}).",
            changed_by=who.full_name,
            changed_at=row.decided_at,
        )

    def _view(self, uow: UnitOfWork, row: orm.ApprovalRequest) -> RequestView:
        def name(staff_id: int | None) -> str | None:
            if staff_id is None:
                return None
            person = uow.session.get(orm.Staff, staff_id)
            return person.full_name if person else None

        kind_row = uow.session.get(orm.RequestKind, row.kind_id)
        assert kind_row is not None
        return RequestView(
            id=row.id,
            uuid=row.uuid,
            case_id=row.case_id,
            kind=kind_row.code,
            kind_label=kind_row.label,
            amount_minor=row.amount_minor,
            status=row.status,
            reason=row.reason,
            requested_by=name(row.requested_by_id) or "",
            requested_at=row.requested_at,
            assigned_to=name(row.assigned_to_id),
            decided_by=name(row.decided_by_id),
            decided_at=row.decided_at,
            decided_amount_minor=row.decided_amount_minor,
            decision_reason=row.decision_reason,
        )


@dataclass(frozen=True)
class _Rung:
    role_id: int
    name: str
    rank: int
    limit: int


def _database_refusal(exc: DBAPIError) -> str | None:
    """The sentence PostgreSQL refused with (its own checks), or None for other failures."""
    code = getattr(exc.orig, "sqlstate", None)
    if code not in ("42501", "P0001", "23514"):
        return None
    diag = getattr(exc.orig, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return str(primary or exc.orig)
