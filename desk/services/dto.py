"""Plain read-only values the services hand to the window: no ORM objects ever leave a service."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field
from typing import NamedTuple

from desk.domain.case import CaseDetails
from desk.domain.model import (
    CaseKind,
    CaseStatus,
    Channel,
    ContactMethod,
    EventKind,
    IdentifierKind,
    Priority,
)
from desk.domain.money import DEFAULT_CURRENCY, Currency
from desk.domain.safety import RunSafety
from desk.domain.script_run import RunRecord
from desk.domain.scripts import Mood, Outcome


@dataclass(frozen=True)
class StaffSession:
    """Who is logged in; every service call acts as this person."""

    staff_id: int
    username: str
    full_name: str
    role_name: str
    centre_id: int
    centre_name: str
    backend: str  # "sqlite" or "postgresql"
    # What the person's role may do (the catalogue in desk.domain.authority); read at login.
    permissions: frozenset[str] = frozenset()
    # An admin set the password: the person chooses their own before anything else.
    must_change_password: bool = False
    # The language guided scripts are shown in; empty: the computer's.
    language: str = ""

    def can(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass(frozen=True)
class Option:
    """An entry of an admin-editable list (category, subcategory, team, centre)."""

    id: int
    name: str
    parent_id: int | None = None


@dataclass(frozen=True)
class CentreInfo:
    id: int
    name: str
    address: str
    phone: str
    email: str
    opening_hours: str


@dataclass(frozen=True)
class ReferenceData:
    categories: list[Option]
    subcategories: list[Option]  # parent_id is the category
    teams: list[Option]
    centres: list[Option]
    organisation_name: str
    currency: Currency = DEFAULT_CURRENCY
    next_step_templates: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CustomerSummary:
    id: int
    full_name: str
    customer_number: str
    identifiers: dict[IdentifierKind, str]
    phone: str
    email: str
    address: str
    preferred_contact_method: ContactMethod | None
    preferred_language: str


class CaseRow(NamedTuple):
    """One line of the case list (a named tuple: a page builds a hundred of them, and a frozen
    dataclass costs several times as much to build)."""

    id: int
    reference: str
    opened_at: dt.datetime  # aware, UTC
    customer_name: str
    kind: CaseKind
    channel: Channel
    status: CaseStatus
    priority: Priority
    category_name: str
    assigned_to: str  # officer or team name
    centre_name: str
    summary: str  # the start of the customer's own words


class CaseScope(enum.StrEnum):
    MINE = "mine"  # open cases assigned to me
    CENTRE = "centre"
    ALL = "all"


class CaseSort(enum.StrEnum):
    OPENED = "opened_at"
    UPDATED = "updated_at"
    REFERENCE = "reference"
    STATUS = "status"
    PRIORITY = "priority"


@dataclass(frozen=True)
class CaseQuery:
    scope: CaseScope = CaseScope.CENTRE
    text: str = ""
    statuses: tuple[CaseStatus, ...] = ()
    category_id: int | None = None
    channel: Channel | None = None
    kind: CaseKind | None = None
    opened_from: dt.date | None = None
    opened_to: dt.date | None = None
    sort: CaseSort = CaseSort.OPENED
    descending: bool = True
    page_size: int = 100


@dataclass(frozen=True)
class PageCursor:
    """Where the next keyset page starts: the sort value and id of the last row shown."""

    sort_value: str | int | dt.datetime
    id: int


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    next_cursor: PageCursor | None


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    at: dt.datetime  # aware, UTC
    kind: EventKind
    actor_name: str
    summary: str
    channel: Channel | None = None


@dataclass(frozen=True)
class ClientOp:
    """A change's own UUID, made by the client: the server records it with the change, so the
    same change sent twice (a retry after a dropped connection, an outbox replayed after a
    crash) is recorded once. ``offline``: it waited in the outbox; ``recorded_at`` is then the
    client's clock when the officer made it."""

    uuid: uuid.UUID
    kind: str
    recorded_at: dt.datetime
    offline: bool = False


@dataclass(frozen=True)
class ScriptRunToSave:
    """A guided-script run to store with its case; ``uuid`` is made by the client when the run
    starts, so saving it again (or a later state of it) updates the same stored run."""

    uuid: uuid.UUID
    record: RunRecord


@dataclass(frozen=True)
class ScriptRunView:
    """A stored run as the timeline shows it. ``record`` is None when its log cannot be read."""

    uuid: uuid.UUID
    case_id: int
    officer_name: str
    script_id: str
    script_version: int
    language: str
    started_at: dt.datetime  # aware, UTC
    ended_at: dt.datetime | None
    outcome: Outcome | None
    last_step_id: str | None
    safety_incident: bool
    incident_reported_at: dt.datetime | None
    incident_report: str
    record: RunRecord | None

    @property
    def safety(self) -> RunSafety:
        return RunSafety(self.safety_incident, self.incident_reported_at is not None)


@dataclass(frozen=True)
class CaseView:
    """A whole case as the form shows it."""

    id: int
    uuid: uuid.UUID
    reference: str
    status: CaseStatus
    allowed_next: tuple[CaseStatus, ...]
    details: CaseDetails
    customer: CustomerSummary
    centre: CentreInfo
    category_name: str
    subcategory_name: str
    assigned_officer_name: str
    assigned_team_id: int | None
    assigned_team_name: str
    opened_at: dt.datetime
    updated_at: dt.datetime
    customer_confirmed_at: dt.datetime | None
    version: int
    timeline: list[TimelineEntry]
    customer_mood: Mood | None = None
    script_runs: tuple[ScriptRunView, ...] = ()
    # Changes the officer made offline are on this view but not on the server yet.
    offline_pending: bool = False
