"""Recording, changing and finding cases: one method per thing an officer does."""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    TextClause,
    and_,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    union,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from desk.adapters import orm
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain import safety, workflow
from desk.domain.authority import Viewer, sees_case
from desk.domain.case import (
    REFERENCE_PATTERN,
    CaseDetails,
    TransactionReference,
    format_reference,
    has_resolution,
    initial_status,
)
from desk.domain.model import (
    OPEN_STATUSES,
    CaseKind,
    CaseStatus,
    Channel,
    EventKind,
    Priority,
    ResolutionMethod,
)
from desk.domain.outbox import is_provisional_reference
from desk.domain.scripts import Mood
from desk.domain.validation import LONG_TEXT_MAX, Checker, ValidationError, normalise_text
from desk.services import audit, script_runs
from desk.services.customers import customer_summary
from desk.services.dto import (
    CasePage,
    CaseQuery,
    CaseRow,
    CaseScope,
    CaseSort,
    CaseView,
    CentreInfo,
    ClientOp,
    PageCursor,
    ScriptRunToSave,
    StaffSession,
    TimelineEntry,
)
from desk.services.errors import ConflictError, NotFound
from desk.services.reference import currency_from, read_settings
from desk.services.search_text import build_search_text

# Built once: making aliases per call costs milliseconds on every page of the case list.
_LIST_CATEGORY = aliased(orm.Category, name="list_category")
_LIST_OFFICER = aliased(orm.Staff, name="list_officer")

ENTRY_KINDS = frozenset({EventKind.CONTACT, EventKind.NOTE, EventKind.CUSTOMER_UPDATE})
_WORD = re.compile(r"\w+", re.UNICODE)
_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}

# Labels for the timeline's "changed" lines.
FIELD_LABELS: dict[str, str] = {
    "kind": "kind",
    "channel": "channel",
    "priority": "priority",
    "category_id": "category",
    "subcategory_id": "subcategory",
    "customer_id": "customer",
    "customer_words": "customer's words",
    "customer_expectation": "expectation",
    "officer_understanding": "understanding",
    "customer_confirmed": "customer's confirmation",
    "social_platform": "platform",
    "social_handle": "handle",
    "social_post_url": "post link",
    "actions_agreed": "actions agreed",
    "next_steps": "next steps",
    "customer_comfortable": "customer comfortable",
    "root_cause": "root cause",
    "resolution": "resolution",
    "resolution_method": "how resolved",
    "transactions": "transactions",
}


class _Keep(enum.Enum):
    MOOD = "keep"


KEEP_MOOD = _Keep.MOOD  # save(): leave the customer's mood as it is stored
MOOD_LABEL = "customer's mood"


def _stored_mood(value: str | None) -> Mood | None:
    try:
        return Mood(value) if value else None
    except ValueError:  # written by a newer version of Desk
        return None


def viewer_of(actor: StaffSession) -> Viewer:
    return Viewer(actor.staff_id, actor.centre_id, actor.permissions)


def cases_awaiting(staff_id: int) -> Any:
    """The cases with something waiting for this person: an approval request or an inbox item
    assigned to them, or to someone away today whose deputy they are. PostgreSQL's
    ``desk_cases_awaiting_me()`` (schema revision 0009) is the same query."""
    today = dt.date.today()
    covering = select(orm.Staff.id).where(
        orm.Staff.deputy_id == staff_id,
        orm.Staff.away_from <= today,
        orm.Staff.away_until >= today,
    )
    return union(
        select(orm.ApprovalRequest.case_id).where(
            or_(
                orm.ApprovalRequest.assigned_to_id == staff_id,
                orm.ApprovalRequest.assigned_to_id.in_(covering),
            )
        ),
        select(orm.WorkItem.case_id).where(
            or_(orm.WorkItem.assigned_to_id == staff_id, orm.WorkItem.assigned_to_id.in_(covering))
        ),
    )


def scope_filter(viewer: Viewer) -> ColumnElement[bool] | None:
    """``sees_case`` as SQL, so the embedded database lists what PostgreSQL's policy would."""
    if viewer.sees_everything:
        return None
    c = orm.Case
    awaiting = cases_awaiting(viewer.staff_id)
    conditions: list[ColumnElement[bool]] = [
        c.assigned_officer_id == viewer.staff_id,
        c.created_by_id == viewer.staff_id,
        c.id.in_(awaiting),
    ]
    if viewer.scope_centre is not None:
        conditions.insert(0, c.centre_id == viewer.scope_centre)
    return or_(*conditions)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def case_search_text(row: orm.Case, customer: orm.Customer) -> str:
    return build_search_text(
        reference=" ".join(r for r in (row.reference, row.provisional_reference) if r),
        customer_name=customer.full_name,
        customer_number=customer.customer_number or "",
        identifiers=[i for i in (customer.national_id, customer.account_number) if i],
        phone=customer.phone,
        texts=[
            row.customer_words,
            row.customer_expectation,
            row.officer_understanding,
            row.actions_agreed,
            row.next_steps,
            row.resolution,
            row.root_cause,
        ],
        transaction_refs=[t.reference for t in row.transactions],
    )


def _details_of(row: orm.Case) -> CaseDetails:
    return CaseDetails(
        customer_id=row.customer_id,
        kind=CaseKind(row.kind),
        channel=Channel(row.channel),
        priority=Priority(row.priority),
        category_id=row.category_id,
        subcategory_id=row.subcategory_id,
        customer_words=row.customer_words,
        customer_expectation=row.customer_expectation,
        officer_understanding=row.officer_understanding,
        customer_confirmed=row.customer_confirmed,
        social_platform=row.social_platform,
        social_handle=row.social_handle,
        social_post_url=row.social_post_url,
        transactions=tuple(
            TransactionReference(t.reference, t.amount_minor, t.occurred_on)
            for t in row.transactions
        ),
        actions_agreed=row.actions_agreed,
        next_steps=row.next_steps,
        customer_comfortable=row.customer_comfortable,
        root_cause=row.root_cause,
        resolution=row.resolution,
        resolution_method=ResolutionMethod(row.resolution_method)
        if row.resolution_method
        else None,
    )


def _apply_details(row: orm.Case, details: CaseDetails) -> None:
    assert details.customer_id is not None
    row.customer_id = details.customer_id
    row.kind = details.kind.value
    row.channel = details.channel.value
    row.priority = details.priority.value
    row.category_id = details.category_id
    row.subcategory_id = details.subcategory_id
    row.customer_words = details.customer_words
    row.customer_expectation = details.customer_expectation
    row.officer_understanding = details.officer_understanding
    row.customer_confirmed = details.customer_confirmed
    social = details.channel is Channel.SOCIAL_MEDIA
    row.social_platform = details.social_platform if social else ""
    row.social_handle = details.social_handle if social else ""
    row.social_post_url = details.social_post_url if social else ""
    row.actions_agreed = details.actions_agreed
    row.next_steps = details.next_steps
    row.customer_comfortable = details.customer_comfortable
    row.root_cause = details.root_cause
    row.resolution = details.resolution
    row.resolution_method = details.resolution_method.value if details.resolution_method else None
    current = [(t.reference, t.amount_minor, t.occurred_on) for t in row.transactions]
    wanted = [(t.reference, t.amount_minor, t.occurred_on) for t in details.transactions]
    if current != wanted:
        row.transactions = [
            orm.CaseTransaction(
                position=i,
                reference=t.reference,
                amount_minor=t.amount_minor,
                occurred_on=t.occurred_on,
            )
            for i, t in enumerate(details.transactions)
        ]


def _changed_fields(before: CaseDetails, after: CaseDetails) -> list[str]:
    return [
        label
        for name, label in FIELD_LABELS.items()
        if getattr(before, name) != getattr(after, name)
    ]


class CaseService:
    def __init__(self, uow: Callable[..., UnitOfWork], actor: Callable[[], StaffSession]) -> None:
        self._uow = uow
        self._actor = actor
        self._statements: dict[tuple[object, ...], tuple[Any, ColumnElement[Any]]] = {}
        self.script_runs = script_runs.ScriptRunService(uow, actor)

    # --- writing ------------------------------------------------------------------------------

    def create(
        self,
        details: CaseDetails,
        *,
        client_uuid: uuid.UUID | None = None,
        refer_to_team_id: int | None = None,
        referral_reason: str = "",
        customer_mood: Mood | None = None,
        runs: Sequence[ScriptRunToSave] = (),
        provisional_reference: str | None = None,
        client_op: ClientOp | None = None,
    ) -> CaseView:
        """Record a new case. Saving twice with the same client UUID records it once.

        ``runs``: guided-script runs made before the case was saved, stored with it.
        ``provisional_reference`` and ``client_op``: a case recorded offline and sent from the
        outbox keeps the reference on its slip, and says when it was recorded."""
        actor = self._actor()
        client_uuid = client_uuid or uuid.uuid4()
        referral_reason = normalise_text(referral_reason)
        with self._uow() as uow:
            existing = uow.session.scalar(select(orm.Case.id).where(orm.Case.uuid == client_uuid))
            if existing is not None:
                stored = self._load(uow, existing)
                if runs:  # a retried save: the runs may have gone on since
                    script_runs.store_runs(uow, actor, stored, runs)
                if provisional_reference and stored.provisional_reference is None:
                    # Saved once online, but the answer was lost and a slip was printed offline.
                    stored.provisional_reference = provisional_reference
                    customer = uow.session.get(orm.Customer, stored.customer_id)
                    assert customer is not None
                    stored.search_text = case_search_text(stored, customer)
                if uow.session.dirty or uow.session.new:
                    uow.commit()
                return self._view(uow, existing)
            details = details.validate(currency=currency_from(read_settings(uow)))
            self._check_references(uow, details)
            if refer_to_team_id is not None:
                _check_referral(uow, refer_to_team_id, referral_reason)
            customer = uow.session.get(orm.Customer, details.customer_id)
            if customer is None:
                raise ValidationError({"customer": "This customer no longer exists."})
            now = utcnow()
            status = initial_status(details)
            safety.check_may_close(None, status, script_runs.safety_of(runs))
            row = orm.Case(
                uuid=client_uuid,
                # The real reference is given just before the commit (_give_reference).
                reference=f"T-{client_uuid.hex[:18]}",
                status=status.value,
                centre_id=actor.centre_id,
                assigned_officer_id=actor.staff_id,
                created_by_id=actor.staff_id,
                opened_at=now,
                updated_at=now,
                transactions=[],
                customer_mood=customer_mood.value if customer_mood else None,
                provisional_reference=provisional_reference,
            )
            _apply_details(row, details)
            if details.customer_confirmed:
                row.customer_confirmed_at = now
            if status is CaseStatus.RESOLVED:
                row.closed_at = None
            row.search_text = case_search_text(row, customer)
            try:
                with uow.session.begin_nested():
                    uow.session.add(row)
                    uow.flush()
            except IntegrityError:
                # The same case sent twice at once (a retry racing the first attempt, two
                # replays of one outbox): the other one recorded it.
                existing = uow.session.scalar(
                    select(orm.Case.id).where(orm.Case.uuid == client_uuid)
                )
                if existing is None:
                    raise
                return self._view(uow, existing)
            summary = f"Case recorded ({details.channel.value.replace('_', ' ')})."
            note = _offline_note(client_op, provisional_reference) if client_op else ""
            if note:
                summary += " " + note
            self._event(uow, row, EventKind.CREATED, summary, now)
            if details.customer_confirmed:
                self._event(
                    uow,
                    row,
                    EventKind.CONFIRMED_BACK,
                    "The customer agreed with the summary read back to them.",
                    now,
                )
            if refer_to_team_id is not None:
                self._refer(uow, row, refer_to_team_id, referral_reason, now)
            script_runs.store_runs(uow, actor, row, runs, now=now)
            if client_op is not None:
                self._record_op(uow, client_op, row)
            _give_reference(uow, row, customer, now.year)
            uow.commit()
            return self._view(uow, row.id)

    def update(self, case_id: int, details: CaseDetails, *, expected_version: int) -> CaseView:
        """Save the form over the case, unless someone else saved a newer version first."""
        return self.save(case_id, details, expected_version=expected_version)

    def change_status(self, case_id: int, status: CaseStatus, *, note: str = "") -> CaseView:
        return self.save(case_id, None, status=status, status_note=note)

    def refer(self, case_id: int, *, team_id: int, reason: str) -> CaseView:
        return self.save(case_id, None, refer_to_team_id=team_id, referral_reason=reason)

    def save(
        self,
        case_id: int,
        details: CaseDetails | None,
        *,
        expected_version: int | None = None,
        status: CaseStatus | None = None,
        status_note: str = "",
        refer_to_team_id: int | None = None,
        referral_reason: str = "",
        customer_mood: Mood | _Keep | None = KEEP_MOOD,
        runs: Sequence[ScriptRunToSave] = (),
        client_op: ClientOp | None = None,
    ) -> CaseView:
        """The form's whole save — fields, mood, status, referral and the guided-script runs
        made on the case — in one transaction.

        Everything is checked before anything is written, so a refused status change never
        leaves the fields half-saved (which would then conflict with the officer's own save).
        A case with an unreported safety incident is never resolved or closed.
        """
        status_note = normalise_text(status_note)
        referral_reason = normalise_text(referral_reason)
        with self._uow() as uow:
            row = self._load(uow, case_id)
            if client_op is not None and self._op_done(uow, client_op):
                return self._view(uow, row.id)  # sent before; the client did not hear back
            if expected_version is not None and row.version != expected_version:
                raise self._conflict(uow, row)
            before = _details_of(row)
            changed: list[str] = []
            if details is not None:
                details = details.validate(currency=currency_from(read_settings(uow)))
                self._check_references(uow, details)
                changed = _changed_fields(before, details)
            mood = row.customer_mood if customer_mood is KEEP_MOOD else customer_mood
            mood_value = mood.value if isinstance(mood, Mood) else mood
            if mood_value != row.customer_mood:
                changed.append(MOOD_LABEL)
            after = details if details is not None else before
            current = CaseStatus(row.status)
            target = status if status is not None else current
            if target != current:
                workflow.check_transition(current, target, has_resolution=has_resolution(after))
                safety.check_may_close(current, target, script_runs.case_safety(uow, row.id, runs))
            elif (
                changed
                and target in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
                and not has_resolution(after)
            ):
                raise ValidationError(
                    {
                        "resolution": "A resolved case keeps its resolution; "
                        "reopen it first to change that."
                    }
                )
            if refer_to_team_id is not None:
                _check_referral(uow, refer_to_team_id, referral_reason)
                if target is not CaseStatus.AWAITING_TEAM:
                    workflow.check_transition(
                        target, CaseStatus.AWAITING_TEAM, has_resolution=False
                    )
            if not changed and target == current and refer_to_team_id is None and not runs:
                return self._view(uow, row.id)
            now = utcnow()
            if changed:
                row.customer_mood = mood_value
                self._apply_update(uow, row, before, details or before, changed, now)
            if target != current:
                self._apply_status(uow, row, current, target, status_note, now)
            if refer_to_team_id is not None:
                self._refer(uow, row, refer_to_team_id, referral_reason, now)
            script_runs.store_runs(uow, self._actor(), row, runs, now=now)
            if client_op is not None:
                self._record_op(uow, client_op, row)
            uow.commit()
            return self._view(uow, row.id)

    def _apply_update(
        self,
        uow: UnitOfWork,
        row: orm.Case,
        before: CaseDetails,
        details: CaseDetails,
        changed: list[str],
        now: dt.datetime,
    ) -> None:
        _apply_details(row, details)
        if details.customer_confirmed and not before.customer_confirmed:
            row.customer_confirmed_at = now
            self._event(
                uow,
                row,
                EventKind.CONFIRMED_BACK,
                "The customer agreed with the summary read back to them.",
                now,
            )
        elif not details.customer_confirmed:
            row.customer_confirmed_at = None
        row.updated_at = now
        customer = uow.session.get(orm.Customer, row.customer_id)
        assert customer is not None
        row.search_text = case_search_text(row, customer)
        self._event(uow, row, EventKind.CHANGED, "Changed: " + ", ".join(changed) + ".", now)

    def _apply_status(
        self,
        uow: UnitOfWork,
        row: orm.Case,
        current: CaseStatus,
        status: CaseStatus,
        note: str,
        now: dt.datetime,
    ) -> None:
        row.status = status.value
        row.updated_at = now
        if status is CaseStatus.CLOSED:
            row.closed_at = now
        elif workflow.is_reopen(current, status):
            row.closed_at = None
        verb = "Reopened" if workflow.is_reopen(current, status) else "Status"
        summary = f"{verb}: {workflow.STATUS_LABELS[current]} → {workflow.STATUS_LABELS[status]}."
        if note:
            summary += f" {note}"
        self._event(uow, row, EventKind.STATUS_CHANGED, summary, now)

    def add_entry(
        self,
        case_id: int,
        *,
        kind: EventKind,
        text: str,
        channel: Channel | None = None,
        client_op: ClientOp | None = None,
    ) -> CaseView:
        """A contact, a note, or an update given to the customer, on the case's timeline.
        With ``client_op``, sending the same entry again adds it once."""
        text = entry_text(kind, text)
        with self._uow() as uow:
            row = self._load(uow, case_id)
            if client_op is not None and self._op_done(uow, client_op):
                return self._view(uow, row.id)
            if client_op is not None and client_op.offline:
                text += " " + _offline_note(client_op, None)
            self._event(uow, row, kind, text, utcnow(), channel=channel)
            if client_op is not None:
                self._record_op(uow, client_op, row)
            uow.commit()
            return self._view(uow, row.id)

    def centre_info(self, centre_id: int) -> CentreInfo | None:
        with self._uow(read_only=True) as uow:
            centre = uow.session.get(orm.ServiceCentre, centre_id)
            return _centre_info(centre) if centre is not None else None

    def op_result(self, op_uuid: uuid.UUID) -> tuple[int, int | None] | None:
        """The case and the version a change sent earlier left, or None if it never arrived."""
        with self._uow(read_only=True) as uow:
            found = uow.session.get(orm.ClientOperation, op_uuid)
            if found is None or found.case_id is None:
                return None
            return found.case_id, found.case_version

    def id_of(self, case_uuid: uuid.UUID) -> int | None:
        """The server's id of a case known to a client by its UUID (None: not on the server)."""
        with self._uow(read_only=True) as uow:
            return uow.session.scalar(select(orm.Case.id).where(orm.Case.uuid == case_uuid))

    def _op_done(self, uow: UnitOfWork, op: ClientOp) -> bool:
        return uow.session.get(orm.ClientOperation, op.uuid) is not None

    def _record_op(self, uow: UnitOfWork, op: ClientOp, row: orm.Case) -> None:
        uow.flush()  # the version the change leaves
        uow.session.add(
            orm.ClientOperation(
                uuid=op.uuid,
                kind=op.kind,
                staff_id=self._actor().staff_id,
                case_id=row.id,
                case_version=row.version,
                recorded_at=op.recorded_at,
                applied_at=utcnow(),
            )
        )

    # --- reading ------------------------------------------------------------------------------

    def get(self, case_id: int) -> CaseView:
        with self._uow(read_only=True) as uow:
            return self._view(uow, case_id)

    def find_by_reference(self, reference: str) -> CaseView:
        reference = normalise_text(reference).upper()
        with self._uow(read_only=True) as uow:
            column = (
                orm.Case.provisional_reference
                if is_provisional_reference(reference)
                else orm.Case.reference
            )
            case_id = uow.session.scalar(select(orm.Case.id).where(column == reference))
            if case_id is None:
                raise NotFound(f"No case has the reference {reference}.")
            return self._view(uow, case_id)

    def list(self, query: CaseQuery, after: PageCursor | None = None) -> CasePage:
        """One keyset page of the case list: never loads more rows than a page."""
        actor = self._actor()
        key = (query, actor.staff_id, actor.centre_id, actor.backend, actor.permissions)
        cached = self._statements.get(key)
        if cached is None:
            built, sort_column = self._list_statement(query)
            # A literal LIMIT lets PostgreSQL reuse one generic plan for every page.
            built = built.limit(literal_column(str(int(query.page_size) + 1)))
            if len(self._statements) >= 64:  # building one costs more than running it
                self._statements.pop(next(iter(self._statements)))
            cached = self._statements[key] = (built, sort_column)
        statement, sort_column = cached
        if after is not None:
            statement = statement.where(_after(sort_column, query.descending, after))
        with self._uow(read_only=True) as uow:
            result = uow.rows(statement)
        more = len(result) > query.page_size
        result = result[: query.page_size]
        rows = [_case_row(r) for r in result]
        cursor = None
        if more and result:
            last = result[-1]
            cursor = PageCursor(sort_value=last.sort_value, id=last.id)
        return CasePage(rows=rows, next_cursor=cursor)

    def _list_statement(self, query: CaseQuery) -> tuple[Any, ColumnElement[Any]]:
        actor = self._actor()
        c = orm.Case
        customer = orm.Customer
        category = _LIST_CATEGORY
        officer = _LIST_OFFICER
        team = orm.SpecialistTeam
        centre = orm.ServiceCentre
        sort_column = _sort_column(query.sort)
        statement: Any = (
            select(
                c.id,
                c.reference,
                c.opened_at,
                customer.full_name.label("customer_name"),
                c.kind,
                c.channel,
                c.status,
                c.priority,
                category.name.label("category_name"),
                officer.full_name.label("officer_name"),
                team.name.label("team_name"),
                centre.name.label("centre_name"),
                func.substr(c.customer_words, 1, 160).label("summary"),
                sort_column.label("sort_value"),
            )
            .join(customer, customer.id == c.customer_id)
            .join(centre, centre.id == c.centre_id)
            .outerjoin(category, category.id == c.category_id)
            .outerjoin(officer, officer.id == c.assigned_officer_id)
            .outerjoin(team, team.id == c.assigned_team_id)
        )
        # On PostgreSQL the row-level policy applies this same rule; saying it twice only slows
        # the query down. The embedded database has no policies: the service applies it.
        viewer = viewer_of(actor)
        # "My centre" (with the permission to see it) and "mine" are inside what the person may
        # see already: the rule would only repeat itself there.
        implied = query.scope is CaseScope.MINE or (
            query.scope is CaseScope.CENTRE and viewer.scope_centre == actor.centre_id
        )
        visible = None if actor.backend == "postgresql" or implied else scope_filter(viewer)
        if visible is not None:
            statement = statement.where(visible)
        if query.scope is CaseScope.MINE:
            statement = statement.where(
                c.assigned_officer_id == actor.staff_id,
                c.status.in_([s.value for s in OPEN_STATUSES]),
            )
        elif query.scope is CaseScope.CENTRE:
            statement = statement.where(c.centre_id == actor.centre_id)
        if query.statuses:
            statement = statement.where(c.status.in_([s.value for s in query.statuses]))
        if query.category_id is not None:
            statement = statement.where(c.category_id == query.category_id)
        if query.channel is not None:
            statement = statement.where(c.channel == query.channel.value)
        if query.kind is not None:
            statement = statement.where(c.kind == query.kind.value)
        if query.opened_from is not None:
            statement = statement.where(c.opened_at >= _start_of(query.opened_from))
        if query.opened_to is not None:
            statement = statement.where(
                c.opened_at < _start_of(query.opened_to + dt.timedelta(days=1))
            )
        text_filter = self._text_filter(query.text)
        if text_filter is not None:
            statement = statement.where(text_filter)
        order = (
            (sort_column.desc(), c.id.desc())
            if query.descending
            else (sort_column.asc(), c.id.asc())
        )
        return statement.order_by(*order), sort_column

    def _text_filter(self, raw: str) -> ColumnElement[bool] | TextClause | None:
        query_text = normalise_text(raw)
        if not query_text:
            return None
        if REFERENCE_PATTERN.match(query_text.upper()):
            return orm.Case.reference == query_text.upper()
        if is_provisional_reference(query_text):
            return orm.Case.provisional_reference == query_text.upper()
        # lower(), not casefold(): the indexes lower-case too, and casefold turns ß into ss.
        words = _WORD.findall(query_text.lower())[:8]
        if not words:
            return None
        if self._backend() == "postgresql":
            tsquery = " & ".join(f"{w}:*" for w in words)
            return text("cases.search_vector @@ to_tsquery('simple', :tsquery)").bindparams(
                tsquery=tsquery
            )
        match = " ".join(f'"{w}"*' for w in words)
        return orm.Case.id.in_(
            select(literal_column("rowid"))
            .select_from(text("cases_fts"))
            .where(text("cases_fts MATCH :match").bindparams(match=match))
        )

    def _backend(self) -> str:
        return self._actor().backend

    # --- helpers ------------------------------------------------------------------------------

    def _load(self, uow: UnitOfWork, case_id: int) -> orm.Case:
        row = uow.session.get(orm.Case, case_id)
        if row is None:
            raise NotFound("This case no longer exists, or it is outside what you may see.")
        if self._actor().backend != "postgresql" and not self._sees(uow, row):
            # PostgreSQL's row-level policy hides such a case; the embedded database asks here.
            raise NotFound("This case belongs to another centre; your role may not open it.")
        return row

    def _sees(self, uow: UnitOfWork, row: orm.Case) -> bool:
        viewer = viewer_of(self._actor())
        awaiting = False
        if not viewer.sees_everything:
            waiting = cases_awaiting(viewer.staff_id).subquery()
            awaiting = (
                uow.session.scalar(select(waiting.c[0]).where(waiting.c[0] == row.id).limit(1))
                is not None
            )
        return sees_case(
            viewer,
            centre_id=row.centre_id,
            assigned_officer_id=row.assigned_officer_id,
            created_by_id=row.created_by_id,
            awaiting_viewer=awaiting,
        )

    def _conflict(self, uow: UnitOfWork, row: orm.Case) -> ConflictError:
        last = uow.session.execute(
            select(orm.Staff.full_name, orm.CaseEvent.at)
            .join(orm.Staff, orm.Staff.id == orm.CaseEvent.actor_id)
            .where(orm.CaseEvent.case_id == row.id)
            .order_by(orm.CaseEvent.at.desc(), orm.CaseEvent.id.desc())
            .limit(1)
        ).first()
        who, when = (last[0], last[1]) if last else ("someone else", row.updated_at)
        return ConflictError(
            f"{who} changed case {row.reference} after you opened it. "
            "Your changes are still in the form: compare them with theirs before saving again.",
            changed_by=who,
            changed_at=when,
        )

    def _check_references(self, uow: UnitOfWork, details: CaseDetails) -> None:
        check = Checker()
        for key, table in (
            ("category", details.category_id),
            ("subcategory", details.subcategory_id),
        ):
            if table is None:
                continue
            category = uow.session.get(orm.Category, table)
            if category is None or not category.active:
                check.add(key, f"This {key} is no longer in use; choose another.")
            elif key == "subcategory" and category.parent_id != details.category_id:
                check.add(key, "This subcategory belongs to another category.")
        check.raise_if_any()

    def _refer(
        self, uow: UnitOfWork, row: orm.Case, team_id: int, reason: str, now: dt.datetime
    ) -> None:
        team = uow.session.get(orm.SpecialistTeam, team_id)
        assert team is not None
        current = CaseStatus(row.status)
        if current is not CaseStatus.AWAITING_TEAM:
            workflow.check_transition(current, CaseStatus.AWAITING_TEAM, has_resolution=False)
            row.status = CaseStatus.AWAITING_TEAM.value
        row.assigned_team_id = team_id
        row.updated_at = now
        self._event(uow, row, EventKind.REFERRAL, f"Referred to {team.name}: {reason}", now)

    def _event(
        self,
        uow: UnitOfWork,
        row: orm.Case,
        kind: EventKind,
        summary: str,
        at: dt.datetime,
        *,
        channel: Channel | None = None,
    ) -> None:
        """A line on the case's timeline, and the same fact in the audit trail."""
        actor = self._actor()
        uow.session.add(
            orm.CaseEvent(
                case_id=row.id,
                at=at,
                actor_id=actor.staff_id,
                kind=kind.value,
                channel=channel.value if channel else None,
                summary=summary,
            )
        )
        details: dict[str, str] = {"summary": summary, "status": row.status}
        if channel is not None:
            details["channel"] = channel.value
        audit.record(
            uow,
            actor=actor,
            action=f"case.{kind.value}",
            entity="case",
            entity_id=lambda: row.reference,  # a new case's is given just before the commit
            details=details,
            at=at,
        )

    def _view(self, uow: UnitOfWork, case_id: int) -> CaseView:
        session = uow.session
        session.expire_all()
        row = self._load(uow, case_id)
        names = {
            cat.id: cat.name
            for cat in session.scalars(
                select(orm.Category).where(
                    orm.Category.id.in_([i for i in (row.category_id, row.subcategory_id) if i])
                )
            )
        }
        officer = (
            session.get(orm.Staff, row.assigned_officer_id) if row.assigned_officer_id else None
        )
        team = (
            session.get(orm.SpecialistTeam, row.assigned_team_id) if row.assigned_team_id else None
        )
        events = session.execute(
            select(orm.CaseEvent, orm.Staff.full_name)
            .join(orm.Staff, orm.Staff.id == orm.CaseEvent.actor_id)
            .where(orm.CaseEvent.case_id == row.id)
            .order_by(orm.CaseEvent.at.desc(), orm.CaseEvent.id.desc())
        ).all()
        status = CaseStatus(row.status)
        centre = row.centre
        return CaseView(
            id=row.id,
            uuid=row.uuid,
            reference=row.reference,
            status=status,
            allowed_next=tuple(sorted(workflow.allowed_next(status))),
            details=_details_of(row),
            customer=customer_summary(row.customer),
            centre=_centre_info(centre),
            category_name=names.get(row.category_id or 0, ""),
            subcategory_name=names.get(row.subcategory_id or 0, ""),
            assigned_officer_name=officer.full_name if officer else "",
            assigned_team_id=row.assigned_team_id,
            assigned_team_name=team.name if team else "",
            opened_at=row.opened_at,
            updated_at=row.updated_at,
            customer_confirmed_at=row.customer_confirmed_at,
            version=row.version,
            customer_mood=_stored_mood(row.customer_mood),
            script_runs=tuple(script_runs.runs_of(uow, row.id)),
            timeline=[
                TimelineEntry(
                    id=event.id,
                    at=event.at,
                    kind=EventKind(event.kind),
                    actor_name=actor_name,
                    summary=event.summary,
                    channel=Channel(event.channel) if event.channel else None,
                )
                for event, actor_name in events
            ],
        )


def entry_text(kind: EventKind, text: str) -> str:
    """A contact's, note's or update's text as it is stored, or the reason it is refused."""
    if kind not in ENTRY_KINDS:
        raise ValueError(f"{kind} is not an entry an officer adds by hand")
    text = normalise_text(text)
    check = Checker()
    check.required("text", text, "The text")
    check.max_length("text", text, LONG_TEXT_MAX, "The text")
    check.raise_if_any()
    return text


def _centre_info(centre: orm.ServiceCentre) -> CentreInfo:
    return CentreInfo(
        id=centre.id,
        name=centre.name,
        address=centre.address,
        phone=centre.phone,
        email=centre.email,
        opening_hours=centre.opening_hours,
    )


def _offline_note(op: ClientOp, provisional_reference: str | None) -> str:
    """What the timeline says of a change recorded offline: the server's time is the record's
    time; the client's clock is only told."""
    if not op.offline:
        return ""
    when = op.recorded_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"(Recorded offline at {when} by the counter's clock"
    if provisional_reference:
        text += f", provisional reference {provisional_reference}"
    return text + ".)"


def _give_reference(uow: UnitOfWork, row: orm.Case, customer: orm.Customer, year: int) -> None:
    """The case's number, taken as the last step before the commit: the year's counter row is
    locked until then, so every counter's new cases queue there; the shorter, the better."""
    uow.flush()
    reference = allocate_reference(uow, year)
    set_committed_value(row, "reference", reference)
    search_text = case_search_text(row, customer)
    uow.session.execute(
        update(orm.Case)
        .where(orm.Case.id == row.id)
        .values(reference=reference, search_text=search_text)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(row, "search_text", search_text)


def allocate_reference(uow: UnitOfWork, year: int) -> str:
    """The next number for the year, from one counter row locked until the case commits."""
    counter = orm.ReferenceCounter
    session = uow.session
    number = session.execute(
        update(counter)
        .where(counter.year == year)
        .values(last_number=counter.last_number + 1)
        .returning(counter.last_number)
    ).scalar()
    if number is None:
        # The first case of the year: another client may do this at the same moment, so the
        # insert is made safe by the primary key, and we retry through the update on a clash.
        from sqlalchemy.exc import IntegrityError

        try:
            with session.begin_nested():
                session.add(counter(year=year, last_number=1))
            number = 1
        except IntegrityError:
            number = session.execute(
                update(counter)
                .where(counter.year == year)
                .values(last_number=counter.last_number + 1)
                .returning(counter.last_number)
            ).scalar_one()
    return format_reference(year, number)


def _check_referral(uow: UnitOfWork, team_id: int, reason: str) -> None:
    check = Checker()
    team = uow.session.get(orm.SpecialistTeam, team_id)
    if team is None or not team.active:
        check.add("referral_team", "This team no longer takes referrals; choose another.")
    check.required("referral_reason", reason, "The reason for the referral")
    check.max_length("referral_reason", reason, LONG_TEXT_MAX, "The reason")
    check.raise_if_any()


def _sort_column(sort: CaseSort) -> ColumnElement[Any]:
    c = orm.Case
    if sort is CaseSort.PRIORITY:
        return case(
            {p.value: rank for p, rank in _PRIORITY_RANK.items()}, value=c.priority, else_=1
        )
    columns: dict[CaseSort, Any] = {
        CaseSort.OPENED: c.opened_at,
        CaseSort.UPDATED: c.updated_at,
        CaseSort.REFERENCE: c.reference,
        CaseSort.STATUS: c.status,
    }
    column: ColumnElement[Any] = columns[sort]
    return column


def _after(
    sort_column: ColumnElement[Any], descending: bool, cursor: PageCursor
) -> ColumnElement[bool]:
    value = literal(cursor.sort_value, sort_column.type)
    key = tuple_(sort_column, orm.Case.id)
    bound = tuple_(value, literal(cursor.id, orm.Case.id.type))
    return and_(key < bound) if descending else and_(key > bound)


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight of a local calendar day, in UTC."""
    local = dt.datetime.combine(day, dt.time.min).astimezone()
    return local.astimezone(dt.UTC)


# Value → member tables: building a page of rows calls these four hundred times.
_KINDS = {member.value: member for member in CaseKind}
_CHANNELS = {member.value: member for member in Channel}
_STATUSES = {member.value: member for member in CaseStatus}
_PRIORITIES = {member.value: member for member in Priority}


def _case_row(r: Any) -> CaseRow:
    # Unpacked by position: attribute look-ups on a result row cost more than the query
    # itself across a page. The order is the one _list_statement selects.
    (
        case_id,
        reference,
        opened_at,
        customer_name,
        kind,
        channel,
        status,
        priority,
        category_name,
        officer_name,
        team_name,
        centre_name,
        summary,
        _sort_value,
    ) = r
    return CaseRow(
        case_id,
        reference,
        opened_at,
        customer_name,
        _KINDS[kind],
        _CHANNELS[channel],
        _STATUSES[status],
        _PRIORITIES[priority],
        category_name or "",
        team_name or officer_name or "",
        centre_name,
        " ".join(summary.split()) if summary else "",
    )
