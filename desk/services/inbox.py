"""The supervisor's inbox of approval requests, and the officer's view of what they sent.

The inbox holds the pending waivers, claims and refunds assigned to the logged-in person and,
for a person who may decide approvals, their centre's pool (requests nobody was assigned to).
It is read a keyset page at a time (oldest first by default), so the first page costs the same
with a hundred or a hundred thousand items waiting. Decisions go through ``GrantService.decide``;
this service adds passing an item up the chain of command (``escalate``).

Each kind of request has a service-level target for its decision, an organisation setting
(``decision_target_hours.<kind>``, 24 hours unless set); every item says how it stands against it.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.orm import aliased

from desk.adapters import orm
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain.authority import KIND_LABELS, Permission
from desk.domain.decision_wording import OPEN_STATUSES, RequestStatus, customer_wording
from desk.domain.validation import ValidationError, normalise_text
from desk.services import audit
from desk.services.cases import CaseService, scope_filter, viewer_of
from desk.services.dto import CaseView, Option, PageCursor, StaffSession
from desk.services.errors import DeskError, NotFound, PermissionRefused
from desk.services.grants import DECIDED, AuthorityRefused, GrantService
from desk.services.leave import acts_for, covered_by, presences, stand_in
from desk.services.leave import today as leave_today
from desk.services.org_settings import WholeNumberSetting, write_whole_number
from desk.services.reference import currency_from, read_settings

if TYPE_CHECKING:
    from desk.bootstrap import Desk

log = logging.getLogger(__name__)

TARGET_PREFIX = "decision_target_hours."
DEFAULT_TARGET_HOURS = 24
NEAR_FRACTION = 0.75  # from three quarters of the target on, an item is "near" it
MAX_PAGE_SIZE = 500


class Aging(enum.StrEnum):
    """How long an item has waited against the target for deciding its kind."""

    WITHIN = "within"
    NEAR = "near"
    OVERDUE = "overdue"


def aging_of(age: dt.timedelta, target_hours: int) -> Aging:
    """Within the target, near it (the last quarter), or past it."""
    target = dt.timedelta(hours=target_hours)
    if age >= target:
        return Aging.OVERDUE
    if age >= target * NEAR_FRACTION:
        return Aging.NEAR
    return Aging.WITHIN


def target_setting(kind: str) -> WholeNumberSetting:
    return WholeNumberSetting(
        key=f"{TARGET_PREFIX}{kind}",
        label=f"The decision target for {kind} requests",
        unit="hours",
        default=DEFAULT_TARGET_HOURS,
        minimum=1,
        maximum=24 * 90,
    )


class InboxSort(enum.StrEnum):
    OLDEST = "oldest"  # the default: the longest waiting first
    NEWEST = "newest"
    LARGEST = "largest"  # the largest amount first


@dataclass(frozen=True)
class InboxQuery:
    kind: str | None = None  # a request kind's code
    centre_id: int | None = None  # the case's centre
    officer_id: int | None = None  # who asked
    min_amount_minor: int | None = None
    max_amount_minor: int | None = None
    sort: InboxSort = InboxSort.OLDEST
    page_size: int = 50


@dataclass(frozen=True)
class InboxItem:
    """One request as the decider sees it in the list and at the top of the detail."""

    id: int
    version: int  # pass back as ``expected_version`` when deciding
    status: str
    case_id: int
    case_reference: str
    customer_id: int
    customer_name: str
    centre_id: int
    centre_name: str
    kind: str
    kind_label: str
    amount_minor: int
    requested_by_id: int
    requested_by: str
    requested_at: dt.datetime  # aware, UTC
    reason: str
    recommendation: str
    alternatives_offered: str
    evidence: str
    assigned_to_id: int | None  # None: the centre's pool
    assigned_to: str
    age: dt.timedelta  # when it was read
    target_hours: int

    @property
    def in_pool(self) -> bool:
        return self.assigned_to_id is None

    @property
    def aging(self) -> Aging:
        return aging_of(self.age, self.target_hours)

    def aging_at(self, now: dt.datetime) -> Aging:
        return aging_of(now - self.requested_at, self.target_hours)


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    next_cursor: PageCursor | None


@dataclass(frozen=True)
class KindCount:
    code: str
    label: str
    count: int
    near: int
    overdue: int
    target_hours: int
    oldest_at: dt.datetime | None


@dataclass(frozen=True)
class InboxCounts:
    """Items waiting per kind (all the query's filters but the kind apply)."""

    kinds: tuple[KindCount, ...]

    @property
    def total(self) -> int:
        return sum(k.count for k in self.kinds)

    @property
    def overdue(self) -> int:
        return sum(k.overdue for k in self.kinds)

    def of(self, code: str) -> int:
        return next((k.count for k in self.kinds if k.code == code), 0)


@dataclass(frozen=True)
class KindOption:
    code: str
    label: str


@dataclass(frozen=True)
class InboxFilters:
    """What the inbox's filters offer: every active kind, and the centres and officers that
    have items waiting for this person."""

    kinds: tuple[KindOption, ...]
    centres: tuple[Option, ...]
    officers: tuple[Option, ...]


@dataclass(frozen=True)
class HistoryEntry:
    """One of the customer's other requests of the same kind within the rolling window."""

    id: int
    case_id: int
    case_reference: str
    status: str
    amount_minor: int
    decided_amount_minor: int | None
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    requested_by: str
    decided_by: str
    counts_toward_total: bool


@dataclass(frozen=True)
class InboxDetail:
    item: InboxItem
    case: CaseView
    history: tuple[HistoryEntry, ...]  # newest first, this item left out
    history_total_minor: int  # granted or approved within the window: what the rule counts
    hidden_total_minor: int  # of that total, from cases this person may not open
    window_days: int
    limit_minor: int  # the logged-in person's own limit for this kind
    may_approve: bool  # the full amount, by the authority rule
    verdict: str  # the rule's sentence
    max_approvable_minor: int  # the most this person may approve of it (0: nothing)
    decided_by: str
    decided_at: dt.datetime | None
    decision_reason: str
    decided_amount_minor: int | None


@dataclass(frozen=True)
class Escalated:
    request_id: int
    assigned_to_id: int
    assigned_to: str
    version: int


@dataclass(frozen=True)
class SentQuery:
    open_only: bool = False  # pending or returned only
    page_size: int = 50


@dataclass(frozen=True)
class SentItem:
    """A request the logged-in officer sent for a decision, and where it stands."""

    id: int
    version: int
    status: str
    case_id: int
    case_reference: str
    customer_name: str
    kind: str
    kind_label: str
    amount_minor: int
    reason: str
    requested_at: dt.datetime
    assigned_to: str  # empty: waiting in the centre's pool
    decided_by: str
    decided_at: dt.datetime | None
    decided_amount_minor: int | None
    decision_reason: str
    wording: str  # suggested words for telling the customer
    # The deputy deciding while the person it waits for is away (empty: nobody stands in).
    stand_in: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class SentPage:
    items: list[SentItem]
    next_cursor: PageCursor | None


_Requester = aliased(orm.Staff, name="requester")
_Assignee = aliased(orm.Staff, name="assignee")
_Decider = aliased(orm.Staff, name="decider")


class InboxService:
    def __init__(self, uow: Callable[..., UnitOfWork], actor: Callable[[], StaffSession]) -> None:
        self._uow = uow
        self._actor = actor
        self._grants = GrantService(uow, actor)
        self._cases = CaseService(uow, actor)
        self._statements: dict[tuple[Any, ...], Any] = {}

    # --- the inbox ----------------------------------------------------------------------------

    def page(self, query: InboxQuery = InboxQuery(), after: PageCursor | None = None) -> InboxPage:
        """One keyset page of the items waiting for the logged-in person."""
        size = max(1, min(int(query.page_size), MAX_PAGE_SIZE))
        statement = self._page_statement(query, size, paged=after is not None)
        if after is not None:
            statement = statement.params(after_value=after.sort_value, after_id=after.id)
        with self._uow(read_only=True) as uow:
            targets = self._targets(uow)
            rows: Sequence[Any] = uow.rows(statement)
        now = dt.datetime.now(dt.UTC)
        more = len(rows) > size
        rows = rows[:size]
        items = [_item(row, now, targets) for row in rows]
        cursor = None
        if more and rows:
            cursor = PageCursor(sort_value=rows[-1][-1], id=int(rows[-1][0]))
        return InboxPage(items, cursor)

    def _page_statement(self, query: InboxQuery, size: int, *, paged: bool) -> Any:
        """The page's statement, built once per query and person (building it costs more than
        running it); the cursor of a later page arrives as bound values."""
        actor = self._actor()
        covered = self._covered_ids()
        key = (query, size, paged, actor.staff_id, actor.centre_id, actor.permissions, covered)
        cached = self._statements.get(key)
        if cached is not None:
            return cached
        r = orm.ApprovalRequest
        sort_column, descending = _sort_of(query.sort)
        order = (sort_column.desc(), r.id.desc()) if descending else (sort_column.asc(), r.id.asc())
        # A literal LIMIT lets PostgreSQL keep one generic plan for every page.
        limit: Any = literal_column(str(size + 1))
        branches = []
        for conditions in self._branches(query, with_kind=True, covered=covered):
            branch = self._item_statement(sort_column).where(*conditions)
            if paged:
                branch = branch.where(_after(sort_column, descending))
            branches.append(branch.order_by(*order).limit(limit))
        statement = branches[0]
        if len(branches) > 1:
            # Each branch walks its own index in order; the merge takes the first of both.
            both = union_all(*(select(b.subquery()) for b in branches)).subquery()
            keys = (both.c.sort_value, both.c.id)
            statement = (
                select(both)
                .order_by(*(k.desc() if descending else k.asc() for k in keys))
                .limit(limit)
            )
        if len(self._statements) >= 64:
            self._statements.pop(next(iter(self._statements)))
        self._statements[key] = statement
        return statement

    def counts(self, query: InboxQuery = InboxQuery()) -> InboxCounts:
        """Items waiting per kind, with how many are near or past their target."""
        r = orm.ApprovalRequest
        now = dt.datetime.now(dt.UTC)
        covered = self._covered_ids()
        with self._uow(read_only=True) as uow:
            targets = self._targets(uow)
            kinds = uow.session.execute(
                select(orm.RequestKind.id, orm.RequestKind.code, orm.RequestKind.label)
                .where(orm.RequestKind.active)
                .order_by(orm.RequestKind.id)
            ).all()
            target_of = {
                int(k_id): dt.timedelta(hours=targets.get(code, DEFAULT_TARGET_HOURS))
                for k_id, code, _label in kinds
            }
            default = dt.timedelta(hours=DEFAULT_TARGET_HOURS)
            overdue_since = _per_kind(
                {k: now - target for k, target in target_of.items()}, now - default
            )
            near_since = _per_kind(
                {k: now - target * NEAR_FRACTION for k, target in target_of.items()},
                now - default * NEAR_FRACTION,
            )
            found: dict[int, tuple[int, int, int, dt.datetime | None]] = {}
            for conditions in self._branches(query, with_kind=False, covered=covered):
                statement = (
                    select(
                        r.kind_id,
                        func.count(),
                        func.sum(case((r.requested_at <= overdue_since, 1), else_=0)),
                        func.sum(
                            case(
                                (
                                    and_(
                                        r.requested_at <= near_since,
                                        r.requested_at > overdue_since,
                                    ),
                                    1,
                                ),
                                else_=0,
                            )
                        ),
                        func.min(r.requested_at),
                    )
                    .where(*conditions)
                    .group_by(r.kind_id)
                )
                for kind_id, count, overdue, near, oldest in _plain(uow.rows(statement)):
                    had = found.get(int(kind_id), (0, 0, 0, None))
                    oldest = None if oldest is None else _aware(oldest)
                    found[int(kind_id)] = (
                        had[0] + int(count),
                        had[1] + int(overdue or 0),
                        had[2] + int(near or 0),
                        min((t for t in (had[3], oldest) if t is not None), default=None),
                    )
            labels = {int(k_id): (code, label) for k_id, code, label in kinds}
            missing = set(found) - set(labels)
            if missing:  # a kind switched off while requests of it still wait
                for k_id, code, label in uow.session.execute(
                    select(orm.RequestKind.id, orm.RequestKind.code, orm.RequestKind.label).where(
                        orm.RequestKind.id.in_(missing)
                    )
                ):
                    labels[int(k_id)] = (code, label)
        result = []
        for k_id, (code, label) in labels.items():
            count, overdue, near, oldest_at = found.get(k_id, (0, 0, 0, None))
            result.append(
                KindCount(
                    code,
                    label,
                    count,
                    near,
                    overdue,
                    targets.get(code, DEFAULT_TARGET_HOURS),
                    oldest_at,
                )
            )
        return InboxCounts(tuple(result))

    def filters(self) -> InboxFilters:
        """Every active kind and centre, and the officers with items waiting for me."""
        r = orm.ApprovalRequest
        requesters = union_all(
            *(
                select(r.requested_by_id).where(*conditions)
                for conditions in self._branches(
                    InboxQuery(), with_kind=False, covered=self._covered_ids()
                )
            )
        )
        with self._uow(read_only=True) as uow:
            kinds = uow.session.execute(
                select(orm.RequestKind.code, orm.RequestKind.label)
                .where(orm.RequestKind.active)
                .order_by(orm.RequestKind.id)
            ).all()
            centres = uow.session.execute(
                select(orm.ServiceCentre.id, orm.ServiceCentre.name)
                .where(orm.ServiceCentre.active)
                .order_by(orm.ServiceCentre.name)
            ).all()
            officers = _plain(
                uow.rows(
                    select(orm.Staff.id, orm.Staff.full_name)
                    .where(orm.Staff.id.in_(requesters))
                    .order_by(orm.Staff.full_name)
                )
            )
        return InboxFilters(
            kinds=tuple(KindOption(code, label) for code, label in kinds),
            centres=tuple(Option(int(i), name) for i, name in centres),
            officers=tuple(Option(int(i), name) for i, name in officers),
        )

    def detail(self, request_id: int) -> InboxDetail:
        """Everything needed to decide one item: the case, the customer's history of this kind
        within the rolling window (and its total), and what the rule says about deciding it."""
        actor = self._actor()
        r = orm.ApprovalRequest
        with self._uow(read_only=True) as uow:
            row = uow.session.get(r, request_id)
            if row is None:
                raise NotFound("This request no longer exists, or it is outside what you may see.")
            kind_row = uow.session.get(orm.RequestKind, row.kind_id)
            assert kind_row is not None
            targets = self._targets(uow)
            item_row = uow.rows(self._item_statement().where(r.id == request_id))[0]
            item = _item(item_row, dt.datetime.now(dt.UTC), targets)
            check = self._grants._check(
                uow,
                actor.staff_id,
                row.customer_id,
                kind_row,
                row.amount_minor,
                row.requested_by_id,
            )
            window_days = check.window_days
            since = dt.datetime.now(dt.UTC) - dt.timedelta(days=window_days)
            # Only cases this person may open: PostgreSQL's policies see to it there.
            visible = None
            if uow.session.get_bind().dialect.name != "postgresql":
                visible = scope_filter(viewer_of(actor))
            in_sight = [] if visible is None else [visible]
            history_rows = _plain(
                uow.rows(
                    select(
                        r.id,
                        r.case_id,
                        orm.Case.reference,
                        r.status,
                        r.amount_minor,
                        r.decided_amount_minor,
                        r.requested_at,
                        r.decided_at,
                        _Requester.full_name,
                        _Decider.full_name,
                    )
                    .select_from(r)
                    .join(orm.Case, orm.Case.id == r.case_id)
                    .join(_Requester, _Requester.id == r.requested_by_id)
                    .outerjoin(_Decider, _Decider.id == r.decided_by_id)
                    .where(
                        r.customer_id == row.customer_id,
                        r.kind_id == row.kind_id,
                        r.id != row.id,
                        or_(r.requested_at > since, r.decided_at > since),
                        *in_sight,
                    )
                    .order_by(r.requested_at.desc(), r.id.desc())
                )
            )
            history = tuple(
                HistoryEntry(
                    id=int(h[0]),
                    case_id=int(h[1]),
                    case_reference=h[2],
                    status=h[3],
                    amount_minor=int(h[4]),
                    decided_amount_minor=None if h[5] is None else int(h[5]),
                    requested_at=_aware(h[6]),
                    decided_at=None if h[7] is None else _aware(h[7]),
                    requested_by=h[8],
                    decided_by=h[9] or "",
                    counts_toward_total=h[3] in DECIDED
                    and h[7] is not None
                    and _aware(h[7]) > since,
                )
                for h in history_rows
            )
            visible_total = sum(
                h.decided_amount_minor or 0 for h in history if h.counts_toward_total
            )
            total = self._rolling_total(uow, row)
            decider = uow.session.get(orm.Staff, row.decided_by_id) if row.decided_by_id else None
            limit = check.limit_minor
            room = max(0, limit - max(total, check.prior_total_minor))
            may_decide = (
                Permission.DECIDE_APPROVALS in self._grants._permissions(uow, actor.staff_id)
                and row.requested_by_id != actor.staff_id
            )
            may_approve = check.verdict.allowed and row.amount_minor <= room
            detail_facts = (
                history,
                total,
                max(0, total - visible_total),
                window_days,
                limit,
                may_approve,
                check.verdict.reason,
                min(row.amount_minor, room) if may_decide else 0,
                decider.full_name if decider else "",
                row.decided_at,
                row.decision_reason,
                row.decided_amount_minor,
            )
        case_view = self._cases.get(item.case_id)
        return InboxDetail(item, case_view, *detail_facts)

    def _rolling_total(self, uow: UnitOfWork, row: orm.ApprovalRequest) -> int:
        """What the customer received of this kind within the window, in every centre: the
        figure the authority rule counts (on PostgreSQL, the database's own function, which sees
        past this person's row-level policies)."""
        if uow.session.get_bind().dialect.name != "postgresql":
            return self._grants._prior_total(uow, row.customer_id, row.kind_id, row.id)
        total = uow.session.scalar(
            text(
                "SELECT desk_prior_total(CAST(:customer AS bigint), "
                "CAST(:kind AS bigint), CAST(:excluding AS bigint))"
            ),
            {"customer": row.customer_id, "kind": row.kind_id, "excluding": row.id},
        )
        return int(total or 0)

    # --- passing an item up the chain ---------------------------------------------------------

    def escalate(
        self, request_id: int, reason: str, *, expected_version: int | None = None
    ) -> Escalated:
        """Pass a pending item to the next person up the logged-in person's chain of command
        who may decide it (the lowest whose limit covers it, else the highest there is)."""
        actor = self._actor()
        reason = normalise_text(reason)
        if not reason:
            raise DeskError("Give a reason: the person you pass it to reads it first.")
        with self._uow() as uow:
            row = uow.session.get(orm.ApprovalRequest, request_id, with_for_update=True)
            if row is None:
                raise NotFound("This request no longer exists, or it is outside what you may see.")
            if row.status != RequestStatus.PENDING or (
                expected_version is not None and row.version != expected_version
            ):
                raise self._grants._already_decided(uow, row)
            case_row = uow.session.get(orm.Case, row.case_id)
            assert case_row is not None
            self._refuse_unless_holder(uow, row, case_row, actor)
            target = self._next_up(uow, actor.staff_id, row)
            if target is None:
                raise AuthorityRefused(
                    "There is nobody above you in the chain of command who may decide this."
                )
            kind_row = uow.session.get(orm.RequestKind, row.kind_id)
            assert kind_row is not None
            currency = currency_from(read_settings(uow))
            # The note first: the case stays in sight of this person while it is written.
            self._grants._event(
                uow,
                case_row,
                actor,
                f"{kind_row.label} of {currency.format(row.amount_minor)} passed up to "
                f"{target.full_name}: {reason}",
            )
            uow.session.flush()
            row.assigned_to_id = target.id
            self._grants._flush(uow, row)
            audit.record(
                uow,
                actor=actor,
                action="escalate",
                entity="approval_request",
                entity_id=row.id,
                details={
                    "case": case_row.reference,
                    "to": target.username,
                    "reason": reason,
                },
            )
            result = Escalated(row.id, target.id, target.full_name, row.version)
            uow.commit()
            return result

    def reassign(
        self, request_id: int, to_username: str, reason: str, *, expected_version: int | None = None
    ) -> Escalated:
        """Pass a pending item to a named person who may decide it and whose limit covers it
        (a colleague with time, the specialist for this kind)."""
        actor = self._actor()
        reason = normalise_text(reason)
        if not reason:
            raise DeskError("Give a reason: the person you pass it to reads it first.")
        with self._uow() as uow:
            row = uow.session.get(orm.ApprovalRequest, request_id, with_for_update=True)
            if row is None:
                raise NotFound("This request no longer exists, or it is outside what you may see.")
            if row.status != RequestStatus.PENDING or (
                expected_version is not None and row.version != expected_version
            ):
                raise self._grants._already_decided(uow, row)
            case_row = uow.session.get(orm.Case, row.case_id)
            assert case_row is not None
            self._refuse_unless_holder(uow, row, case_row, actor)
            target = uow.session.scalar(
                select(orm.Staff).where(
                    func.lower(orm.Staff.username) == to_username.strip().lower()
                )
            )
            if target is None or not target.active:
                raise DeskError(f"There is no active member of staff {to_username!r}.")
            if target.id == row.requested_by_id:
                raise AuthorityRefused(
                    "Nobody decides their own request; choose someone other than who asked."
                )
            if not self._grants._may_decide(uow, target.role_id):
                raise AuthorityRefused(f"{target.full_name}'s role cannot decide requests.")
            limits = {r.role_id: r.limit for r in self._grants._ladder(uow, row.kind_id)}
            total = self._rolling_total(uow, row) + row.amount_minor
            kind_row = uow.session.get(orm.RequestKind, row.kind_id)
            assert kind_row is not None
            currency = currency_from(read_settings(uow))
            if limits.get(target.role_id, 0) < total:
                raise AuthorityRefused(
                    f"{target.full_name}'s limit for "
                    f"{KIND_LABELS.get(kind_row.code, kind_row.label.lower())} is "
                    f"{currency.format(limits.get(target.role_id, 0))}, and this needs "
                    f"{currency.format(total)} with the customer's earlier grants; pass it up "
                    "the chain instead."
                )
            self._grants._event(
                uow,
                case_row,
                actor,
                f"{kind_row.label} of {currency.format(row.amount_minor)} passed to "
                f"{target.full_name}: {reason}",
            )
            uow.session.flush()
            row.assigned_to_id = target.id
            self._grants._flush(uow, row)
            audit.record(
                uow,
                actor=actor,
                action="reassign",
                entity="approval_request",
                entity_id=row.id,
                details={"case": case_row.reference, "to": target.username, "reason": reason},
            )
            result = Escalated(row.id, target.id, target.full_name, row.version)
            uow.commit()
            return result

    def _refuse_unless_holder(
        self, uow: UnitOfWork, row: orm.ApprovalRequest, case_row: orm.Case, actor: StaffSession
    ) -> None:
        """Only whom the item waits for (or their deputy while they are away, or a member of
        the centre's pool for a pool item) passes it on."""
        if acts_for(
            uow.session, actor, row.assigned_to_id, case_row.centre_id, Permission.DECIDE_APPROVALS
        ):
            return
        holder = uow.session.get(orm.Staff, row.assigned_to_id) if row.assigned_to_id else None
        raise AuthorityRefused(
            f"This request waits for {holder.full_name if holder else 'another centre'}"
            "; only they can pass it on."
        )

    def _next_up(self, uow: UnitOfWork, from_id: int, row: orm.ApprovalRequest) -> orm.Staff | None:
        limits = {r.role_id: r.limit for r in self._grants._ladder(uow, row.kind_id)}
        total = self._rolling_total(uow, row) + row.amount_minor
        person = uow.session.get(orm.Staff, from_id)
        assert person is not None
        people, day = presences(uow.session), leave_today()
        seen = {person.id}
        highest: orm.Staff | None = None
        while person.supervisor_id is not None and person.supervisor_id not in seen:
            boss = uow.session.get(orm.Staff, person.supervisor_id)
            if boss is None:
                break
            seen.add(boss.id)
            # Away: the deputy decides in their place (never the requester, nor the escalator).
            deciding_id = stand_in(boss.id, people, day, excluding={row.requested_by_id, from_id})
            deciding = uow.session.get(orm.Staff, deciding_id) if deciding_id else None
            if (
                deciding is not None
                and deciding.active
                and self._grants._may_decide(uow, deciding.role_id)
            ):
                if limits.get(deciding.role_id, 0) >= total:
                    return deciding
                highest = deciding
            person = boss
        return highest

    # --- the officer's side -------------------------------------------------------------------

    def sent(self, query: SentQuery = SentQuery(), after: PageCursor | None = None) -> SentPage:
        """The logged-in person's requests sent for a decision, newest first."""
        actor = self._actor()
        size = max(1, min(int(query.page_size), MAX_PAGE_SIZE))
        r = orm.ApprovalRequest
        statement = (
            select(
                r.id,
                r.version,
                r.status,
                r.case_id,
                orm.Case.reference,
                orm.Customer.full_name,
                orm.RequestKind.code,
                orm.RequestKind.label,
                r.amount_minor,
                r.reason,
                r.requested_at,
                _Assignee.full_name,
                _Decider.full_name,
                r.decided_at,
                r.decided_amount_minor,
                r.decision_reason,
                r.assigned_to_id,
            )
            .select_from(r)
            .join(orm.Case, orm.Case.id == r.case_id)
            .join(orm.Customer, orm.Customer.id == r.customer_id)
            .join(orm.RequestKind, orm.RequestKind.id == r.kind_id)
            .outerjoin(_Assignee, _Assignee.id == r.assigned_to_id)
            .outerjoin(_Decider, _Decider.id == r.decided_by_id)
            .where(r.requested_by_id == actor.staff_id, r.status != RequestStatus.GRANTED.value)
        )
        if query.open_only:
            statement = statement.where(r.status.in_([s.value for s in OPEN_STATUSES]))
        if after is not None:
            statement = statement.where(_after(r.requested_at, True)).params(
                after_value=after.sort_value, after_id=after.id
            )
        statement = statement.order_by(r.requested_at.desc(), r.id.desc()).limit(
            literal_column(str(size + 1))
        )
        with self._uow(read_only=True) as uow:
            currency = currency_from(read_settings(uow))
            rows: Sequence[Any] = uow.rows(statement)
            people = presences(uow.session)
        day = leave_today()
        more = len(rows) > size
        rows = rows[:size]
        items = []
        for row in rows:
            (
                request_id,
                version,
                status,
                case_id,
                reference,
                customer_name,
                kind,
                kind_label,
                amount,
                reason,
                requested_at,
                assignee,
                decider,
                decided_at,
                decided_amount,
                decision_reason,
                assignee_id,
            ) = row
            meanwhile = ""
            if status == RequestStatus.PENDING.value and assignee_id is not None:
                deciding = stand_in(int(assignee_id), people, day, excluding={actor.staff_id})
                if deciding is not None and deciding != assignee_id:
                    meanwhile = people[deciding].name
            items.append(
                SentItem(
                    id=int(request_id),
                    version=int(version),
                    status=status,
                    case_id=int(case_id),
                    case_reference=reference,
                    customer_name=customer_name,
                    kind=kind,
                    kind_label=kind_label,
                    amount_minor=int(amount),
                    reason=reason,
                    requested_at=_aware(requested_at),
                    assigned_to=assignee or "",
                    stand_in=meanwhile,
                    decided_by=decider or "",
                    decided_at=None if decided_at is None else _aware(decided_at),
                    decided_amount_minor=None if decided_amount is None else int(decided_amount),
                    decision_reason=decision_reason,
                    wording=customer_wording(
                        customer_name=customer_name,
                        kind_label=kind_label,
                        status=status,
                        asked_minor=int(amount),
                        decided_minor=None if decided_amount is None else int(decided_amount),
                        reason=decision_reason,
                        currency=currency,
                    ),
                )
            )
        cursor = None
        if more and items:
            cursor = PageCursor(sort_value=items[-1].requested_at, id=items[-1].id)
        return SentPage(items, cursor)

    # --- the service-level targets ------------------------------------------------------------

    def decision_targets(self) -> dict[str, int]:
        """Hours within which each active kind of request should be decided."""
        with self._uow(read_only=True) as uow:
            codes = uow.session.scalars(
                select(orm.RequestKind.code).where(orm.RequestKind.active)
            ).all()
            return self._targets(uow, codes)

    def set_decision_target_hours(self, kind: str, hours: int | str) -> int:
        """An admin's change of the target for one kind (whole hours, 1 to 2160)."""
        actor = self._actor()
        setting = target_setting(kind)
        setting.parse(hours)
        with self._uow() as uow:
            if Permission.MANAGE_ORGANISATION not in self._grants._permissions(uow, actor.staff_id):
                raise PermissionRefused(
                    "Changing a decision target needs the permission to manage the organisation."
                )
            self._grants._kind(uow, kind)
            number = write_whole_number(uow, setting, hours, actor=actor)
            uow.commit()
            return number

    # --- helpers ------------------------------------------------------------------------------

    def _targets(self, uow: UnitOfWork, codes: Sequence[str] = ()) -> dict[str, int]:
        """The targets an admin set, in hours by kind, and the default for each of ``codes``
        without one (a setting that cannot be read counts as unset)."""
        stored = uow.rows(
            select(orm.Setting.key, orm.Setting.value).where(
                orm.Setting.key.startswith(TARGET_PREFIX, autoescape=True)
            )
        )
        targets: dict[str, int] = {}
        for key, value in _plain(stored):
            setting = target_setting(key[len(TARGET_PREFIX) :])
            try:
                targets[key[len(TARGET_PREFIX) :]] = setting.parse(value)
            except ValidationError:
                log.warning("The setting %s cannot be read; using %s hours.", key, setting.default)
        for code in codes:
            targets.setdefault(code, DEFAULT_TARGET_HOURS)
        return targets

    def _covered_ids(self) -> frozenset[int]:
        """The people away today whose items this person decides meanwhile (their deputy)."""
        actor = self._actor()
        if not actor.can(Permission.DECIDE_APPROVALS):
            return frozenset()
        with self._uow(read_only=True) as uow:
            return covered_by(actor.staff_id, presences(uow.session), leave_today())

    def _branches(
        self, query: InboxQuery, *, with_kind: bool, covered: frozenset[int] = frozenset()
    ) -> list[list[ColumnElement[bool]]]:
        """The logged-in person's pending items, filtered: one list of conditions for what is
        assigned to them and, for a person who may decide, one for their centre's pool. Kept
        apart so each is an index range (requests by assignee), never an OR across both; only
        the requests table is named (the pool and the centre filter ask the case in an EXISTS).
        """
        actor = self._actor()
        r = orm.ApprovalRequest
        filters: list[ColumnElement[bool]] = [r.status == RequestStatus.PENDING.value]
        if with_kind and query.kind:
            filters.append(
                r.kind_id.in_(select(orm.RequestKind.id).where(orm.RequestKind.code == query.kind))
            )
        if query.centre_id is not None:
            filters.append(_case_in_centre(query.centre_id))
        if query.officer_id is not None:
            filters.append(r.requested_by_id == query.officer_id)
        if query.min_amount_minor is not None:
            filters.append(r.amount_minor >= query.min_amount_minor)
        if query.max_amount_minor is not None:
            filters.append(r.amount_minor <= query.max_amount_minor)
        if (
            query.min_amount_minor is not None
            and query.max_amount_minor is not None
            and query.min_amount_minor > query.max_amount_minor
        ):
            filters.append(false())
        branches = [[r.assigned_to_id == actor.staff_id, *filters]]
        if covered:  # the items of people away, for whom this person decides meanwhile
            branches.append(  # never their own requests: nobody decides those
                [
                    r.assigned_to_id.in_(sorted(covered)),
                    r.requested_by_id != actor.staff_id,
                    *filters,
                ]
            )
        if actor.can(Permission.DECIDE_APPROVALS):
            branches.append(
                [r.assigned_to_id.is_(None), _case_in_centre(actor.centre_id), *filters]
            )
        return branches

    def _item_statement(self, sort_column: ColumnElement[Any] | None = None) -> Any:
        """The columns of an item (``_item`` reads them), the sort value last."""
        r = orm.ApprovalRequest
        return (
            select(
                r.id.label("id"),
                r.version.label("version"),
                r.status.label("status"),
                r.case_id.label("case_id"),
                orm.Case.reference.label("case_reference"),
                r.customer_id.label("customer_id"),
                orm.Customer.full_name.label("customer_name"),
                orm.Case.centre_id.label("centre_id"),
                orm.ServiceCentre.name.label("centre_name"),
                orm.RequestKind.code.label("kind"),
                orm.RequestKind.label.label("kind_label"),
                r.amount_minor.label("amount_minor"),
                r.requested_by_id.label("requested_by_id"),
                _Requester.full_name.label("requested_by"),
                r.requested_at.label("requested_at"),
                r.reason.label("reason"),
                r.recommendation.label("recommendation"),
                r.alternatives_offered.label("alternatives_offered"),
                r.evidence.label("evidence"),
                r.assigned_to_id.label("assigned_to_id"),
                _Assignee.full_name.label("assigned_to"),
                (r.requested_at if sort_column is None else sort_column).label("sort_value"),
            )
            .select_from(r)
            .join(orm.Case, orm.Case.id == r.case_id)
            .join(orm.Customer, orm.Customer.id == r.customer_id)
            .join(orm.ServiceCentre, orm.ServiceCentre.id == orm.Case.centre_id)
            .join(orm.RequestKind, orm.RequestKind.id == r.kind_id)
            .join(_Requester, _Requester.id == r.requested_by_id)
            .outerjoin(_Assignee, _Assignee.id == r.assigned_to_id)
        )


_SERVICES: weakref.WeakKeyDictionary[Any, InboxService] = weakref.WeakKeyDictionary()


def inbox_of(desk: Desk) -> InboxService:
    """The inbox of a logged-in Desk: ``desk.inbox`` once bootstrap offers it, else one built
    over the Desk's own unit of work and session (kept per Desk)."""
    service = getattr(desk, "inbox", None)
    if isinstance(service, InboxService):
        return service
    found = _SERVICES.get(desk)
    if found is None:
        found = _SERVICES[desk] = InboxService(desk._unit_of_work, desk._actor)
    return found


def _case_in_centre(centre_id: int) -> ColumnElement[bool]:
    case_row = aliased(orm.Case, name="case_of_request")
    return (
        select(case_row.id)
        .where(case_row.id == orm.ApprovalRequest.case_id, case_row.centre_id == centre_id)
        .exists()
    )


def _sort_of(sort: InboxSort) -> tuple[Any, bool]:
    r = orm.ApprovalRequest
    if sort is InboxSort.LARGEST:
        return r.amount_minor, True
    return r.requested_at, sort is InboxSort.NEWEST


def _after(column: Any, descending: bool) -> ColumnElement[bool]:
    """Rows after the cursor, whose values come as ``after_value`` and ``after_id``."""
    key = tuple_(column, orm.ApprovalRequest.id)
    bound = tuple_(
        bindparam("after_value", type_=column.type),
        bindparam("after_id", type_=orm.ApprovalRequest.id.type),
    )
    return and_(key < bound) if descending else and_(key > bound)


def _per_kind(by_kind: dict[int, dt.datetime], default: dt.datetime) -> ColumnElement[Any]:
    """A moment that depends on the row's kind (its own target), as SQL."""
    r = orm.ApprovalRequest
    stamp = orm.UtcDateTime()
    if not by_kind:
        return literal(default, stamp)
    return case(
        *((r.kind_id == k, literal(moment, stamp)) for k, moment in by_kind.items()),
        else_=literal(default, stamp),
    )


def _plain(rows: Sequence[Any]) -> Sequence[Any]:
    """Result rows typed for unpacking (a Row's column types are not known to the checker)."""
    return rows


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _item(row: Sequence[Any], now: dt.datetime, targets: dict[str, int]) -> InboxItem:
    (
        request_id,
        version,
        status,
        case_id,
        reference,
        customer_id,
        customer_name,
        centre_id,
        centre_name,
        kind,
        kind_label,
        amount,
        requested_by_id,
        requested_by,
        requested_at,
        reason,
        recommendation,
        alternatives,
        evidence,
        assigned_to_id,
        assigned_to,
        _sort,
    ) = row
    requested_at = _aware(requested_at)
    return InboxItem(
        id=int(request_id),
        version=int(version),
        status=status,
        case_id=int(case_id),
        case_reference=reference,
        customer_id=int(customer_id),
        customer_name=customer_name,
        centre_id=int(centre_id),
        centre_name=centre_name,
        kind=kind,
        kind_label=kind_label,
        amount_minor=int(amount),
        requested_by_id=int(requested_by_id),
        requested_by=requested_by,
        requested_at=requested_at,
        reason=reason,
        recommendation=recommendation,
        alternatives_offered=alternatives,
        evidence=evidence,
        assigned_to_id=None if assigned_to_id is None else int(assigned_to_id),
        assigned_to=assigned_to or "",
        age=max(dt.timedelta(0), now - requested_at),
        target_hours=targets.get(kind, DEFAULT_TARGET_HOURS),
    )
