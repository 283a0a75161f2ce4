"""Working on while the shared database is away: the outbox, the reading cache, and the replay.

When the server cannot be reached, the officer keeps recording. New customers, new cases,
changes to cases, contacts and updates go into the outbox (``desk.adapters.outbox_store``) and
come back as provisional views built from the reading cache, so the form, the slip and the
timeline go on as before; a case made offline gets a provisional reference (``P-XXXXX-XXXXX``)
printed as such on its slip. ``Offline.replay`` sends the entries in the order they were made,
each with its own UUID, so a replay cut short by a crash and started again records nothing twice.

What needs the server's authority (decisions, admin changes, granting money) is not queued: the
services for those are not wrapped, so they fail with ``DatabaseUnavailable`` and the window says
it must wait for the connection.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from desk.adapters.outbox_store import OutboxStore
from desk.domain import workflow
from desk.domain.case import CaseDetails, has_resolution, initial_status
from desk.domain.codec import CodecError, from_json, to_json
from desk.domain.conflict import CaseContent
from desk.domain.customer import CustomerDetails
from desk.domain.model import OPEN_STATUSES, CaseStatus, Channel, EventKind
from desk.domain.outbox import (
    NEEDS_ATTENTION,
    EntryState,
    OpKind,
    OutboxEntry,
    blocked_reason,
    chained_after,
    describe,
    is_local_id,
    is_provisional_reference,
    provisional_reference,
)
from desk.domain.scripts import Mood
from desk.domain.validation import ValidationError
from desk.domain.workflow import TransitionRefused
from desk.services.cases import KEEP_MOOD, CaseService, _Keep, entry_text
from desk.services.customers import CustomerService
from desk.services.dto import (
    CasePage,
    CaseQuery,
    CaseRow,
    CaseScope,
    CaseView,
    CentreInfo,
    ClientOp,
    CustomerSummary,
    PageCursor,
    ReferenceData,
    ScriptRunToSave,
    StaffSession,
    TimelineEntry,
)
from desk.services.errors import (
    ConflictError,
    DatabaseUnavailable,
    DeskError,
    NotFound,
    NotKeptOffline,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# After the server was found away, changes go straight to the outbox instead of waiting for a
# connection attempt each time; the replay probes the server meanwhile.
RETRY_ONLINE_AFTER_SECONDS = 30.0
CACHED_OPEN_CASES = 100


@dataclass(frozen=True)
class OutboxStatus:
    """What the status bar says: offline or not, changes waiting, and those needing a person."""

    online: bool
    waiting: int
    attention: int


@dataclass(frozen=True)
class ReplayReport:
    sent: int
    waiting: int
    attention: int
    online: bool
    new_problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class OfflineConflict:
    """What the conflict view needs for an offline change that met a newer save."""

    seqs: tuple[int, ...]  # the entries the merge replaces
    base: CaseContent | None
    mine: CaseContent
    theirs: CaseView
    error: str

    @property
    def theirs_content(self) -> CaseContent:
        return CaseContent(self.theirs.details, self.theirs.customer_mood, self.theirs.status)


@dataclass(frozen=True)
class PendingChange:
    """An outbox entry as the "changes waiting" list shows it."""

    seq: int
    op_uuid: uuid.UUID
    kind: OpKind
    state: EntryState
    recorded_at: dt.datetime
    reference: str
    description: str
    error: str
    case_uuid: uuid.UUID | None


class Offline:
    """The outbox of the person logged in, and whether the server answered lately."""

    def __init__(self) -> None:
        self.store: OutboxStore | None = None
        self._offline_since: float | None = None
        self.last_error = ""
        self._lock = threading.RLock()
        self._session: StaffSession | None = None
        self.after_commit: Callable[[OutboxEntry], None] | None = None  # tests: a crash here
        self.retry_after = RETRY_ONLINE_AFTER_SECONDS

    # --- state --------------------------------------------------------------------------------

    def open(self, store: OutboxStore, session: StaffSession) -> None:
        self.close()
        self.store = store
        self._session = session

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
        self.store = None
        self._session = None
        self._offline_since = None

    @property
    def online(self) -> bool:
        return self._offline_since is None

    def went_offline(self, exc: BaseException) -> None:
        if self._offline_since is None:
            log.warning("Working offline: %s", exc)
            self._offline_since = time.monotonic()
        self.last_error = str(exc)

    def went_online(self) -> None:
        if self._offline_since is not None:
            log.info("The server answers again")
        self._offline_since = None
        self.last_error = ""

    def attempt(
        self, call: Callable[[], T], keep: Callable[[T], None] | None = None, *, when: bool = True
    ) -> T | None:
        """The server's answer to ``call``, noting that it answers (and keeping a copy for
        reading offline); None when it is away, or was a moment ago, or ``when`` is false."""
        if not when or not self.should_try_server():
            return None
        try:
            value = call()
        except DatabaseUnavailable as exc:
            self.went_offline(exc)
            return None
        self.went_online()
        if keep is not None:
            keep(value)
        return value

    def not_kept(self, what: str) -> NotKeptOffline:
        return NotKeptOffline(
            (self.last_error or "The server cannot be reached.")
            + f" {what} is not kept on this computer for working offline."
        )

    def should_try_server(self) -> bool:
        since = self._offline_since
        return since is None or time.monotonic() - since >= self.retry_after

    def status(self) -> OutboxStatus:
        store = self.store
        if store is None:
            return OutboxStatus(self.online, 0, 0)
        waiting = store.count(EntryState.WAITING)
        attention = sum(store.count(state) for state in NEEDS_ATTENTION)
        return OutboxStatus(self.online, waiting, attention)

    def opening_report(self) -> str:
        """What was found wrong with the outbox file when it was opened, in a sentence."""
        store = self.store
        if store is None or not store.report.anything:
            return ""
        parts = []
        if store.report.moved_aside is not None:
            parts.append(
                f"The offline outbox on this computer was damaged. It was moved aside to "
                f"{store.report.moved_aside} (keep it for IT), and {store.report.carried_over} "
                "change(s) that could still be read were carried over."
            )
        if store.report.quarantined:
            parts.append(
                f"{len(store.report.quarantined)} change(s) were damaged or edited and are set "
                f"aside, not sent; copies are in {store.report.quarantined[0].parent}."
            )
        return " ".join(parts)

    def pending(self) -> list[PendingChange]:
        """The entries not sent yet, and those that need the officer, in the order made."""
        store = self.store
        if store is None:
            return []
        shown = frozenset({EntryState.WAITING, *NEEDS_ATTENTION})
        return [_pending(entry) for entry in store.entries(states=shown)]

    def waiting_for(self, case_uuid: uuid.UUID) -> bool:
        store = self.store
        if store is None:
            return False
        return any(
            e.case_uuid == case_uuid for e in store.entries(states=frozenset({EntryState.WAITING}))
        )

    # --- the reading cache --------------------------------------------------------------------

    def remember_case(self, view: CaseView, *, local_id: int | None = None) -> None:
        store = self.store
        if store is None:
            return
        values = {
            f"case:{local_id if local_id is not None else view.id}": to_json(view),
            f"uuid:{view.uuid}": view.id if local_id is None else local_id,
            f"customer:{view.customer.id}": to_json(view.customer),
        }
        try:
            store.cache_put(values)
        except DeskError as exc:  # a full disk must not stop the officer from working online
            log.warning("The reading cache could not keep %s: %s", view.reference, exc)

    def remember_customers(self, customers: Sequence[CustomerSummary]) -> None:
        store = self.store
        if store is None or not customers:
            return
        try:
            store.cache_put({f"customer:{c.id}": to_json(c) for c in customers})
        except DeskError as exc:
            log.warning("The reading cache could not keep customers: %s", exc)

    def keep(self, key: str, value: Any) -> None:
        store = self._require_store()
        store.cache_put({key: to_json(value)})

    def cached_case(self, case_id: int) -> CaseView | None:
        value: CaseView | None = self._cached(f"case:{case_id}", CaseView)
        return value

    def cached_case_id(self, case_uuid: uuid.UUID) -> int | None:
        store = self.store
        found = store.cache_get(f"uuid:{case_uuid}") if store is not None else None
        return int(found[0]) if found is not None else None

    def _cached(self, key: str, kind: type[Any]) -> Any:
        store = self.store
        if store is None:
            return None
        found = store.cache_get(key)
        if found is None:
            return None
        try:
            return from_json(kind, found[0])
        except CodecError as exc:
            log.warning("Cached %s is unreadable (%s); ignored", key, exc)
            return None

    def cached_reference(self) -> ReferenceData | None:
        value: ReferenceData | None = self._cached("reference", ReferenceData)
        return value

    def cached_centre(self) -> CentreInfo | None:
        value: CentreInfo | None = self._cached("centre", CentreInfo)
        return value

    def cached_customer(self, customer_id: int) -> CustomerSummary | None:
        value: CustomerSummary | None = self._cached(f"customer:{customer_id}", CustomerSummary)
        return value

    def cached_customers(self) -> list[CustomerSummary]:
        store = self.store
        if store is None:
            return []
        found = []
        for key in store.cache_keys("customer:"):
            value = self._cached(key, CustomerSummary)
            if value is not None:
                found.append(value)
        return found

    def cached_rows(self) -> list[CaseRow]:
        store = self.store
        if store is None:
            return []
        rows: list[CaseRow] = []
        for key in store.cache_keys("case:"):
            view = self._cached(key, CaseView)
            if view is not None and view.status in OPEN_STATUSES:
                rows.append(_row_of(view))
        rows.sort(key=lambda r: r.opened_at, reverse=True)
        return rows

    def refresh_cache(
        self, cases: CaseService, reference: ReferenceData, centre: CentreInfo | None
    ) -> int:
        """Keep the officer's open cases, the customers on them and the reference data for
        reading offline. Returns how many cases were kept."""
        store = self.store
        if store is None:
            return 0
        page = CaseService.list(cases, CaseQuery(scope=CaseScope.MINE, page_size=CACHED_OPEN_CASES))
        values: dict[str, Any] = {"reference": to_json(reference)}
        if centre is not None:
            values["centre"] = to_json(centre)
        store.cache_put(values)
        kept = 0
        for row in page.rows:
            try:
                view = CaseService.get(cases, row.id)
            except NotFound:
                continue
            self.remember_case(view)
            kept += 1
        return kept

    # --- queueing -----------------------------------------------------------------------------

    def _require_store(self) -> OutboxStore:
        if self.store is None:
            raise DatabaseUnavailable(self.last_error or "The server cannot be reached.")
        return self.store

    def queue(
        self, kind: OpKind, payload: dict[str, Any], *, op_uuid: uuid.UUID | None = None
    ) -> OutboxEntry:
        store = self._require_store()
        op_uuid = op_uuid or uuid.uuid4()
        with self._lock:
            case_uuid = payload.get("case_uuid")
            if kind is OpKind.CASE_SAVE and case_uuid:
                earlier = store.entries(states=frozenset({EntryState.WAITING, *NEEDS_ATTENTION}))
                payload = {
                    **payload,
                    "after_op": chained_after(kind, uuid.UUID(case_uuid), earlier) or None,
                }
            return store.add(kind, payload, op_uuid=op_uuid)

    # --- replay -------------------------------------------------------------------------------

    def replay(self, cases: CaseService, customers: CustomerService) -> ReplayReport:
        """Send what waits, in order. Stops at the first sign the server is still away."""
        store = self.store
        if store is None:
            return ReplayReport(0, 0, 0, self.online)
        sent = 0
        problems: list[str] = []
        with self._lock:
            entries = store.entries(states=frozenset({EntryState.WAITING, *NEEDS_ATTENTION}))
            earlier: list[OutboxEntry] = []
            for entry in entries:
                if entry.state is not EntryState.WAITING:
                    earlier.append(entry)
                    continue
                if blocked_reason(entry, earlier):
                    earlier.append(entry)
                    continue
                try:
                    result = self._send(entry, cases, customers)
                except DatabaseUnavailable as exc:
                    self.went_offline(exc)
                    store.note_attempt(entry.seq, str(exc))
                    break
                except ConflictError as exc:
                    message = _conflict_text(entry, exc)
                    entry = replace(entry, state=EntryState.CONFLICT, error=message)
                    store.mark(entry.seq, EntryState.CONFLICT, error=message, attempted=True)
                    problems.append(message)
                except (DeskError, ValidationError, TransitionRefused) as exc:
                    message = _refusal_text(exc)
                    entry = replace(entry, state=EntryState.FAILED, error=message)
                    store.mark(entry.seq, EntryState.FAILED, error=message, attempted=True)
                    problems.append(message)
                else:
                    self.went_online()
                    if self.after_commit is not None:
                        self.after_commit(entry)
                    store.mark(entry.seq, EntryState.DONE, result=result, attempted=True)
                    entry = replace(entry, state=EntryState.DONE, result=result)
                    sent += 1
                earlier.append(entry)
        status = self.status()
        return ReplayReport(sent, status.waiting, status.attention, self.online, tuple(problems))

    def _send(
        self,
        entry: OutboxEntry,
        cases: CaseService,
        customers: CustomerService,
    ) -> dict[str, Any]:
        store = self._require_store()
        payload = entry.payload
        op = ClientOp(entry.op_uuid, entry.kind.value, entry.recorded_at, offline=True)
        if entry.kind is OpKind.CUSTOMER_CREATE:
            customer_uuid = uuid.UUID(payload["customer_uuid"])
            summary = CustomerService.create(
                customers,
                from_json(CustomerDetails, payload["details"]),
                client_uuid=customer_uuid,
            )
            store.set_server_id(customer_uuid, summary.id)
            return {"id": summary.id}
        if entry.kind is OpKind.CASE_CREATE:
            case_uuid = uuid.UUID(payload["case_uuid"])
            details = self._resolved(from_json(CaseDetails, payload["details"]))
            view = CaseService.create(
                cases,
                details,
                client_uuid=case_uuid,
                refer_to_team_id=payload.get("refer_to_team_id"),
                referral_reason=payload.get("referral_reason", ""),
                customer_mood=Mood(payload["mood"]) if payload.get("mood") else None,
                runs=from_json(tuple[ScriptRunToSave, ...], payload.get("runs", [])),
                provisional_reference=payload.get("provisional_reference"),
                client_op=op,
            )
            store.set_server_id(case_uuid, view.id)
            return {"id": view.id, "version": view.version, "reference": view.reference}
        case_uuid = uuid.UUID(payload["case_uuid"])
        case_id = CaseService.id_of(cases, case_uuid)
        if case_id is None:
            raise NotFound("The case of this change is not on the server.")
        if entry.kind is OpKind.CASE_ENTRY:
            view = CaseService.add_entry(
                cases,
                case_id,
                kind=EventKind(payload["entry_kind"]),
                text=payload["text"],
                channel=Channel(payload["channel"]) if payload.get("channel") else None,
                client_op=op,
            )
            return {"id": view.id, "version": view.version}
        expected = payload.get("expected_version")
        after = payload.get("after_op")
        if after:
            before = store.sent_result(uuid.UUID(after))
            if before is None:
                raise ConflictError("The change this one follows was not sent.")
            expected = before.get("version")
        details_data = payload.get("details")
        mood_value = payload.get("mood", "keep")
        mood: Mood | _Keep | None = (
            KEEP_MOOD if mood_value == "keep" else Mood(mood_value) if mood_value else None
        )
        view = CaseService.save(
            cases,
            case_id,
            self._resolved(from_json(CaseDetails, details_data)) if details_data else None,
            expected_version=expected,
            status=CaseStatus(payload["status"]) if payload.get("status") else None,
            status_note=payload.get("status_note", ""),
            refer_to_team_id=payload.get("refer_to_team_id"),
            referral_reason=payload.get("referral_reason", ""),
            customer_mood=mood,
            runs=from_json(tuple[ScriptRunToSave, ...], payload.get("runs", [])),
            client_op=op,
        )
        recorded = CaseService.op_result(cases, entry.op_uuid)
        version = recorded[1] if recorded is not None else view.version
        return {"id": view.id, "version": version}

    def _resolved(self, details: CaseDetails) -> CaseDetails:
        """The details with a customer made offline replaced by the server's id for them."""
        customer_id = details.customer_id
        if customer_id is None or not is_local_id(customer_id):
            return details
        store = self._require_store()
        server_id = store.server_id(customer_id)
        if server_id is None:
            raise NotFound("The customer of this case is not on the server yet.")
        return replace(details, customer_id=server_id)

    # --- resolving by hand ---------------------------------------------------------------------

    def compare(self, seq: int, cases: CaseService) -> OfflineConflict:
        """The three versions of a case whose offline change met a newer save: the one the
        officer started from, theirs on the server now, and the officer's (their last change
        still waiting, which is built on the earlier ones)."""
        store = self._require_store()
        entries = store.entries()
        entry = next((e for e in entries if e.seq == seq), None)
        if entry is None or entry.state is not EntryState.CONFLICT or entry.case_uuid is None:
            raise NotFound("This change is no longer waiting for a comparison.")
        case_uuid = entry.case_uuid
        case_id = CaseService.id_of(cases, case_uuid)
        if case_id is None:
            raise NotFound("This case is not on the server.")
        theirs = CaseService.get(cases, case_id)
        later = [
            e
            for e in entries
            if e.seq >= seq
            and e.case_uuid == case_uuid
            and e.kind is OpKind.CASE_SAVE
            and e.state in (EntryState.WAITING, EntryState.CONFLICT)
        ]
        local_id = self.cached_case_id(case_uuid)
        base: CaseView | None = self._cached(f"base:{local_id}", CaseView)
        start = base or theirs
        mine = CaseContent(start.details, start.customer_mood, start.status)
        for change in later:
            payload = change.payload
            if payload.get("details"):
                mine = replace(mine, details=from_json(CaseDetails, payload["details"]))
            mood = payload.get("mood", "keep")
            if mood != "keep":
                mine = replace(mine, mood=Mood(mood) if mood else None)
            if payload.get("status"):
                mine = replace(mine, status=CaseStatus(payload["status"]))
        base_content = CaseContent(base.details, base.customer_mood, base.status) if base else None
        return OfflineConflict(
            seqs=tuple(e.seq for e in later),
            base=base_content,
            mine=mine,
            theirs=theirs,
            error=entry.error,
        )

    def resolve(
        self, conflict: OfflineConflict, merged: CaseContent, cases: CaseService
    ) -> CaseView:
        """Save the case as the officer merged it, on their version (refused if it moved on
        again), and settle the offline changes it replaces."""
        theirs = conflict.theirs
        view = CaseService.save(
            cases,
            theirs.id,
            merged.details,
            expected_version=theirs.version,
            status=merged.status if merged.status not in (None, theirs.status) else None,
            customer_mood=merged.mood,
            client_op=ClientOp(uuid.uuid4(), OpKind.CASE_SAVE.value, dt.datetime.now(dt.UTC)),
        )
        self.settle(conflict.seqs, EntryState.DONE, "Merged by you with the newer version.")
        self.remember_case(view)
        return view

    def settle(self, seqs: Sequence[int], state: EntryState, note: str) -> None:
        """The officer merged these entries by hand (DONE) or chose to drop them (DISCARDED)."""
        store = self._require_store()
        for seq in seqs:
            store.mark(seq, state, error=note)

    def retry(self, seqs: Sequence[int]) -> None:
        """Send these entries again (after the officer fixed what the server refused)."""
        store = self._require_store()
        for seq in seqs:
            store.mark(seq, EntryState.WAITING)


def _pending(entry: OutboxEntry) -> PendingChange:
    payload = entry.payload
    return PendingChange(
        seq=entry.seq,
        op_uuid=entry.op_uuid,
        kind=entry.kind,
        state=entry.state,
        recorded_at=entry.recorded_at,
        reference=str(payload.get("reference") or payload.get("provisional_reference") or ""),
        description=describe(entry) if entry.state is not EntryState.QUARANTINED else "",
        error=entry.error,
        case_uuid=entry.case_uuid,
    )


def _conflict_text(entry: OutboxEntry, exc: ConflictError) -> str:
    who = f" by {exc.changed_by}" if exc.changed_by else ""
    reference = entry.payload.get("reference", "")
    return (
        f"{reference} was changed on the server{who} while you were offline. Your changes are "
        "kept here: open them to compare with the newer version before they are saved."
    )


def _refusal_text(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return "The server refused it: " + " ".join(dict(exc.errors).values())
    return str(exc)


def _row_of(view: CaseView) -> CaseRow:
    return CaseRow(
        view.id,
        view.reference,
        view.opened_at,
        view.customer.full_name,
        view.details.kind,
        view.details.channel,
        view.status,
        view.details.priority,
        view.category_name,
        view.assigned_team_name or view.assigned_officer_name,
        view.centre.name,
        " ".join(view.details.customer_words.split())[:200],
    )


class OfflineCases(CaseService):
    """The case service, with new cases, changes and timeline entries kept in the outbox while
    the server is away, and the officer's cases read from the cache meanwhile."""

    def __init__(
        self,
        uow: Callable[..., Any],
        actor: Callable[[], StaffSession],
        offline: Offline,
        reference: Callable[[], ReferenceData],
    ) -> None:
        super().__init__(uow, actor)
        self.offline = offline
        self._reference = reference

    def _active(self) -> bool:
        return self.offline.store is not None

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
        if not self._active() or client_op is not None:
            return super().create(
                details,
                client_uuid=client_uuid,
                refer_to_team_id=refer_to_team_id,
                referral_reason=referral_reason,
                customer_mood=customer_mood,
                runs=runs,
                provisional_reference=provisional_reference,
                client_op=client_op,
            )
        client_uuid = client_uuid or uuid.uuid4()
        local_customer = details.customer_id is not None and is_local_id(details.customer_id)
        if local_customer:
            assert details.customer_id is not None
            store = self.offline.store
            server_id = store.server_id(details.customer_id) if store else None
            if server_id is not None:
                details = replace(details, customer_id=server_id)
                local_customer = False
        sent = self.offline.attempt(
            lambda: super(OfflineCases, self).create(
                details,
                client_uuid=client_uuid,
                refer_to_team_id=refer_to_team_id,
                referral_reason=referral_reason,
                customer_mood=customer_mood,
                runs=runs,
            ),
            self.offline.remember_case,
            when=not local_customer,
        )
        if sent is not None:
            return sent
        return self._queue_create(
            details, client_uuid, refer_to_team_id, referral_reason, customer_mood, runs
        )

    def _queue_create(
        self,
        details: CaseDetails,
        client_uuid: uuid.UUID,
        refer_to_team_id: int | None,
        referral_reason: str,
        customer_mood: Mood | None,
        runs: Sequence[ScriptRunToSave],
    ) -> CaseView:
        reference_data = self.offline.cached_reference()
        currency = reference_data.currency if reference_data else None
        details = details.validate(currency=currency) if currency else details.validate()
        if refer_to_team_id is not None and not referral_reason.strip():
            raise ValidationError({"referral_reason": "Say why the case goes to this team."})
        customer = self._customer(details.customer_id)
        store = self.offline._require_store()
        provisional = provisional_reference(client_uuid)
        local_id = store.new_local_id("case", client_uuid)
        now = dt.datetime.now(dt.UTC)
        actor = self._actor()
        status = (
            CaseStatus.AWAITING_TEAM if refer_to_team_id is not None else initial_status(details)
        )
        self.offline.queue(
            OpKind.CASE_CREATE,
            {
                "case_uuid": str(client_uuid),
                "customer_uuid": self._customer_uuid(details.customer_id),
                "provisional_reference": provisional,
                "reference": provisional,
                "details": to_json(details),
                "refer_to_team_id": refer_to_team_id,
                "referral_reason": referral_reason,
                "mood": customer_mood.value if customer_mood else None,
                "runs": to_json(tuple(runs)),
            },
            op_uuid=client_uuid,
        )
        names = _names(reference_data)
        view = CaseView(
            id=local_id,
            uuid=client_uuid,
            reference=provisional,
            status=status,
            allowed_next=tuple(sorted(workflow.allowed_next(status))),
            details=details,
            customer=customer,
            centre=self.offline.cached_centre() or _unknown_centre(actor),
            category_name=names.get(details.category_id or 0, ""),
            subcategory_name=names.get(details.subcategory_id or 0, ""),
            assigned_officer_name=actor.full_name,
            assigned_team_id=refer_to_team_id,
            assigned_team_name=_team_name(reference_data, refer_to_team_id),
            opened_at=now,
            updated_at=now,
            customer_confirmed_at=now if details.customer_confirmed else None,
            version=0,
            timeline=[
                TimelineEntry(
                    id=-1,
                    at=now,
                    kind=EventKind.CREATED,
                    actor_name=actor.full_name,
                    summary="Recorded offline: waiting to be sent to the server.",
                )
            ],
            customer_mood=customer_mood,
            offline_pending=True,
        )
        self.offline.remember_case(view, local_id=local_id)
        return view

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
        def online(target_id: int, op: ClientOp | None) -> CaseView:
            return super(OfflineCases, self).save(
                target_id,
                details,
                expected_version=expected_version,
                status=status,
                status_note=status_note,
                refer_to_team_id=refer_to_team_id,
                referral_reason=referral_reason,
                customer_mood=customer_mood,
                runs=runs,
                client_op=op,
            )

        if not self._active() or client_op is not None:
            return online(case_id, client_op)
        cached = self.offline.cached_case(case_id)
        op = ClientOp(uuid.uuid4(), OpKind.CASE_SAVE.value, dt.datetime.now(dt.UTC))
        sent = self.offline.attempt(
            lambda: online(self._server_id(case_id), op),
            self.offline.remember_case,
            when=self._may_go_online(case_id, cached),
        )
        if sent is not None:
            return sent
        if cached is None:
            raise self.offline.not_kept("This case")
        reference_data = self.offline.cached_reference()
        if details is not None:
            currency = reference_data.currency if reference_data else None
            details = details.validate(currency=currency) if currency else details.validate()
        new_details = details or cached.details
        target = status or cached.status
        if target != cached.status:
            workflow.check_transition(
                cached.status, target, has_resolution=has_resolution(new_details)
            )
        if refer_to_team_id is not None:
            target = CaseStatus.AWAITING_TEAM
        self.offline.queue(
            OpKind.CASE_SAVE,
            {
                "case_uuid": str(cached.uuid),
                "reference": cached.reference,
                "details": to_json(details) if details is not None else None,
                "expected_version": cached.version if cached.version > 0 else None,
                "status": status.value if status is not None else None,
                "status_note": status_note,
                "refer_to_team_id": refer_to_team_id,
                "referral_reason": referral_reason,
                "mood": "keep"
                if isinstance(customer_mood, _Keep)
                else (customer_mood.value if customer_mood else None),
                "runs": to_json(tuple(runs)),
            },
            op_uuid=op.uuid,
        )
        if not cached.offline_pending:  # what the officer started from, for a comparison
            self.offline.keep(f"base:{cached.id}", cached)
        names = _names(reference_data)
        mood = cached.customer_mood if isinstance(customer_mood, _Keep) else customer_mood
        now = dt.datetime.now(dt.UTC)
        view = replace(
            cached,
            details=new_details,
            status=target,
            allowed_next=tuple(sorted(workflow.allowed_next(target))),
            customer=self._customer(new_details.customer_id)
            if new_details.customer_id != cached.customer.id
            else cached.customer,
            category_name=names.get(new_details.category_id or 0, cached.category_name),
            subcategory_name=names.get(new_details.subcategory_id or 0, ""),
            assigned_team_id=refer_to_team_id or cached.assigned_team_id,
            assigned_team_name=_team_name(reference_data, refer_to_team_id)
            or cached.assigned_team_name,
            updated_at=now,
            customer_mood=mood,
            timeline=[
                TimelineEntry(
                    id=-1,
                    at=now,
                    kind=EventKind.CHANGED,
                    actor_name=self._actor().full_name,
                    summary="Changed offline: waiting to be sent to the server.",
                ),
                *cached.timeline,
            ],
            offline_pending=True,
        )
        self.offline.remember_case(view, local_id=cached.id)
        return view

    def add_entry(
        self,
        case_id: int,
        *,
        kind: EventKind,
        text: str,
        channel: Channel | None = None,
        client_op: ClientOp | None = None,
    ) -> CaseView:
        if not self._active() or client_op is not None:
            return super().add_entry(
                case_id, kind=kind, text=text, channel=channel, client_op=client_op
            )
        cached = self.offline.cached_case(case_id)
        op = ClientOp(uuid.uuid4(), OpKind.CASE_ENTRY.value, dt.datetime.now(dt.UTC))
        sent = self.offline.attempt(
            lambda: super(OfflineCases, self).add_entry(
                self._server_id(case_id), kind=kind, text=text, channel=channel, client_op=op
            ),
            self.offline.remember_case,
            when=self._may_go_online(case_id, cached),
        )
        if sent is not None:
            return sent
        if cached is None:
            raise self.offline.not_kept("This case")
        text = entry_text(kind, text)
        self.offline.queue(
            OpKind.CASE_ENTRY,
            {
                "case_uuid": str(cached.uuid),
                "reference": cached.reference,
                "entry_kind": kind.value,
                "text": text,
                "channel": channel.value if channel else None,
            },
            op_uuid=op.uuid,
        )
        now = dt.datetime.now(dt.UTC)
        view = replace(
            cached,
            timeline=[
                TimelineEntry(
                    id=-1,
                    at=now,
                    kind=kind,
                    actor_name=self._actor().full_name,
                    summary=f"{text} (waiting to be sent to the server)",
                    channel=channel,
                ),
                *cached.timeline,
            ],
            offline_pending=True,
        )
        self.offline.remember_case(view, local_id=cached.id)
        return view

    def get(self, case_id: int) -> CaseView:
        if not self._active():
            return super().get(case_id)
        if is_local_id(case_id):
            store = self.offline.store
            assert store is not None
            server_id = store.server_id(case_id)
            if server_id is None:
                cached = self.offline.cached_case(case_id)
                if cached is None:
                    raise NotFound("This case made offline is no longer kept on this computer.")
                return cached
            case_id = server_id
        cached = self.offline.cached_case(case_id)
        if cached is not None and self.offline.waiting_for(cached.uuid):
            return cached  # the officer's own changes are not on the server yet
        target = case_id
        view = self.offline.attempt(
            lambda: super(OfflineCases, self).get(target), self.offline.remember_case
        )
        if view is not None:
            return view
        if cached is None:
            raise self.offline.not_kept("This case")
        return cached

    def find_by_reference(self, reference: str) -> CaseView:
        if not self._active():
            return super().find_by_reference(reference)
        wanted = reference.strip().upper()
        if self.offline.should_try_server():
            try:
                view = super().find_by_reference(reference)
            except DatabaseUnavailable as exc:
                self.offline.went_offline(exc)
            except NotFound:
                if not is_provisional_reference(wanted):
                    raise
            else:
                self.offline.went_online()
                return view
        for row in self.offline.cached_rows():
            if row.reference == wanted:
                return self.get(row.id)
        raise NotFound(f"No case kept on this computer has the reference {wanted}.")

    def list(self, query: CaseQuery, after: PageCursor | None = None) -> CasePage:
        if not self._active() or self.offline.should_try_server():
            try:
                page = super().list(query, after)
            except DatabaseUnavailable as exc:
                if not self._active():
                    raise
                self.offline.went_offline(exc)
            else:
                if self._active():
                    self.offline.went_online()
                return page
        if after is not None:
            return CasePage([], None)
        words = query.text.strip().lower().split()
        rows = [
            row
            for row in self.offline.cached_rows()
            if (not query.statuses or row.status in query.statuses)
            and all(
                w in f"{row.reference} {row.customer_name} {row.summary}".lower() for w in words
            )
        ]
        return CasePage(rows[: query.page_size], None)

    # --- helpers ------------------------------------------------------------------------------

    def _may_go_online(self, case_id: int, cached: CaseView | None) -> bool:
        if not self.offline.should_try_server():
            return False
        if is_local_id(case_id):
            store = self.offline.store
            if store is None or store.server_id(case_id) is None:
                return False
        return not (cached is not None and self.offline.waiting_for(cached.uuid))

    def _server_id(self, case_id: int) -> int:
        if not is_local_id(case_id):
            return case_id
        store = self.offline._require_store()
        server_id = store.server_id(case_id)
        if server_id is None:
            raise DatabaseUnavailable("This case made offline is not on the server yet.")
        return server_id

    def _customer(self, customer_id: int | None) -> CustomerSummary:
        if customer_id is None:
            raise ValidationError({"customer": "Choose the customer."})
        cached = self.offline.cached_customer(customer_id)
        if cached is None:
            raise self.offline.not_kept("This customer (record them as a new customer meanwhile)")
        return cached

    def _customer_uuid(self, customer_id: int | None) -> str | None:
        if customer_id is None or not is_local_id(customer_id):
            return None
        store = self.offline._require_store()
        found = store.local_uuid(customer_id)
        return str(found) if found else None


class OfflineCustomers(CustomerService):
    """The customer service, with new customers kept in the outbox while the server is away."""

    def __init__(
        self, uow: Callable[..., Any], actor: Callable[[], StaffSession], offline: Offline
    ) -> None:
        super().__init__(uow, actor)
        self.offline = offline

    def create(
        self, details: CustomerDetails, *, client_uuid: uuid.UUID | None = None
    ) -> CustomerSummary:
        if self.offline.store is None or client_uuid is not None:
            return super().create(details, client_uuid=client_uuid)
        client_uuid = uuid.uuid4()
        made = self.offline.attempt(
            lambda: super(OfflineCustomers, self).create(details, client_uuid=client_uuid),
            lambda summary: self.offline.remember_customers([summary]),
        )
        if made is not None:
            return made
        details = details.validate()
        store = self.offline._require_store()
        local_id = store.new_local_id("customer", client_uuid)
        self.offline.queue(
            OpKind.CUSTOMER_CREATE,
            {
                "customer_uuid": str(client_uuid),
                "name": details.full_name,
                "details": to_json(details),
            },
            op_uuid=client_uuid,
        )
        summary = CustomerSummary(
            id=local_id,
            full_name=details.full_name,
            customer_number=details.customer_number,
            identifiers=dict(details.identifiers),
            phone=details.phone,
            email=details.email,
            address=details.address,
            preferred_contact_method=details.preferred_contact_method,
            preferred_language=details.preferred_language,
        )
        store.cache_put({f"customer:{local_id}": to_json(summary)})
        return summary

    def get(self, customer_id: int) -> CustomerSummary:
        if self.offline.store is None:
            return super().get(customer_id)
        if is_local_id(customer_id):
            server_id = self.offline.store.server_id(customer_id)
            if server_id is None:
                cached = self.offline.cached_customer(customer_id)
                if cached is None:
                    raise NotFound("This customer made offline is no longer kept here.")
                return cached
            customer_id = server_id
        target = customer_id
        summary = self.offline.attempt(
            lambda: super(OfflineCustomers, self).get(target),
            lambda found: self.offline.remember_customers([found]),
        )
        if summary is not None:
            return summary
        cached = self.offline.cached_customer(customer_id)
        if cached is None:
            raise self.offline.not_kept("This customer")
        return cached

    def search(self, text: str, limit: int = 10) -> list[CustomerSummary]:
        if self.offline.store is None:
            return super().search(text, limit)
        answer = self.offline.attempt(
            lambda: super(OfflineCustomers, self).search(text, limit),
            self.offline.remember_customers,
        )
        if answer is not None:
            return answer
        words = text.strip().lower().split()
        found = [
            c
            for c in self.offline.cached_customers()
            if all(w in f"{c.full_name} {c.customer_number} {c.phone}".lower() for w in words)
        ]
        found.sort(key=lambda c: c.full_name.lower())
        return found[:limit]


def _names(reference: ReferenceData | None) -> dict[int, str]:
    if reference is None:
        return {}
    return {o.id: o.name for o in [*reference.categories, *reference.subcategories]}


def _team_name(reference: ReferenceData | None, team_id: int | None) -> str:
    if reference is None or team_id is None:
        return ""
    return next((t.name for t in reference.teams if t.id == team_id), "")


def _unknown_centre(actor: StaffSession) -> CentreInfo:
    return CentreInfo(actor.centre_id, actor.centre_name, "", "", "", "")


__all__ = [
    "Offline",
    "OfflineCases",
    "OfflineCustomers",
    "OutboxStatus",
    "PendingChange",
    "ReplayReport",
]
