"""SQLAlchemy 2 typed mappings of the shared schema.

Times are stored as UTC (``UtcDateTime`` refuses naive values); money as integer minor units;
every record a client creates carries a UUID made on that client.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Integer primary keys that are BIGINT on PostgreSQL and the rowid alias on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Desk stores UTC only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        if value.tzinfo is dt.UTC:  # the session's time zone is UTC: nothing to convert (a list
            return value  # page reads hundreds of these)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Setting(Base):
    """Organisation-wide settings (name, currency, ...), one row per key."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ServiceCentre(Base):
    __tablename__ = "service_centres"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Role(Base):
    """A staff role; permissions and authority limits hang off it (see the roles issue)."""

    __tablename__ = "roles"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    rank: Mapped[int] = mapped_column(Integer, default=0)  # position on the competency ladder
    # Bumped on every change, so a second admin editing the same role is told, not overwritten.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200), default="")
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("service_centres.id"))
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # argon2id hash, used on the embedded database only; PostgreSQL authenticates the login role.
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The PostgreSQL login role of this person on a shared database.
    db_role: Mapped[str | None] = mapped_column(String(63), unique=True, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Wrong passwords in a row, and the lock they caused (embedded database only).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Accounts an admin creates (or resets) must choose their own password at the next login.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The language guided scripts are shown in ("es", "pt-BR"); empty: the computer's language.
    language: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # Leave (whole days, both included) and who decides meanwhile (desk.domain.leave).
    away_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    away_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    __mapper_args__ = {"version_id_col": version}

    role: Mapped[Role] = relationship(lazy="joined")
    centre: Mapped[ServiceCentre] = relationship(lazy="joined")


class SpecialistTeam(Base):
    __tablename__ = "specialist_teams"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Category(Base):
    """Case categories; a row with a parent is a subcategory."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    full_name: Mapped[str] = mapped_column(String(200))
    # Lower-cased name for type-ahead prefix search with an ordinary index.
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    customer_number: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)
    national_id: Mapped[str | None] = mapped_column(String(20), index=True, nullable=True)
    account_number: Mapped[str | None] = mapped_column(String(20), index=True, nullable=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    phone_digits: Mapped[str] = mapped_column(String(40), default="", index=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    preferred_contact_method: Mapped[str | None] = mapped_column(String(20), nullable=True)
    preferred_language: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)


class ReferenceCounter(Base):
    """The last case number handed out per year; one locked row keeps references unique."""

    __tablename__ = "reference_counters"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(BigInteger, default=0)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_opened", "opened_at", "id"),
        Index("ix_cases_updated", "updated_at", "id"),
        Index("ix_cases_centre_opened", "centre_id", "opened_at", "id"),
        Index("ix_cases_status_opened", "status", "opened_at", "id"),
        Index("ix_cases_officer_status", "assigned_officer_id", "status", "opened_at"),
        Index("ix_cases_customer", "customer_id", "opened_at"),
        Index("uq_cases_provisional_reference", "provisional_reference", unique=True),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    # The reference printed on a slip made offline (P-XXXXX-XXXXX), still findable after sync.
    provisional_reference: Mapped[str | None] = mapped_column(String(20), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Every UPDATE checks and bumps the version, so nobody overwrites a newer save unseen.
    __mapper_args__ = {"version_id_col": version}
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    social_platform: Mapped[str] = mapped_column(String(60), default="")
    social_handle: Mapped[str] = mapped_column(String(100), default="")
    social_post_url: Mapped[str] = mapped_column(String(500), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), nullable=True)
    subcategory_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), nullable=True)
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    # How the customer came across (calm, anxious, ... aggressive): proposes a guided script.
    customer_mood: Mapped[str | None] = mapped_column(String(20), nullable=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("service_centres.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    assigned_officer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    assigned_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialist_teams.id"), nullable=True, index=True
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    customer_words: Mapped[str] = mapped_column(Text)
    customer_expectation: Mapped[str] = mapped_column(Text, default="")
    officer_understanding: Mapped[str] = mapped_column(Text, default="")
    customer_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    root_cause: Mapped[str] = mapped_column(Text, default="")
    actions_agreed: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    customer_comfortable: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    resolution: Mapped[str] = mapped_column(Text, default="")
    resolution_method: Mapped[str | None] = mapped_column(String(30), nullable=True)
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Reference, customer name and identifiers, and the text fields: indexed for free-text search
    # (FTS5 on SQLite, a tsvector with a GIN index on PostgreSQL; both made by the migration).
    search_text: Mapped[str] = mapped_column(Text, default="")

    customer: Mapped[Customer] = relationship(lazy="joined")
    centre: Mapped[ServiceCentre] = relationship(lazy="joined")
    transactions: Mapped[list[CaseTransaction]] = relationship(
        cascade="all, delete-orphan", order_by="CaseTransaction.position"
    )


class CaseTransaction(Base):
    __tablename__ = "case_transactions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str] = mapped_column(String(40), index=True)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    occurred_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class CaseEvent(Base):
    """One line of a case's timeline: a change, a contact, a note or an update to the customer."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_at", "case_id", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    kind: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str | None] = mapped_column(String(20), nullable=True)
    summary: Mapped[str] = mapped_column(Text)


class AuditEvent(Base):
    """Append-only: staff may insert and read; nobody may update or delete (the database refuses).

    Each row carries the hash of the row before it, so ``desk audit verify`` finds tampering.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50), index=True)
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ScriptRun(Base):
    """One officer's run through a guided script, stored with its case.

    ``record`` is the run's full log as JSON (every step shown, answer, tick and time); the other
    columns are what lists, reports and the closing rule ask about without parsing it.
    """

    __tablename__ = "script_runs"
    __table_args__ = (Index("ix_script_runs_case_started", "case_id", "started_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    script_id: Mapped[str] = mapped_column(String(100), index=True)
    script_version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(30), nullable=True)
    # The step on which the run ended (for "where do runs turn into escalations").
    last_step_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    safety_incident: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set when the safety incident has been reported; a case cannot close before that.
    incident_reported_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    incident_report: Mapped[str] = mapped_column(Text, default="", server_default="")
    record: Mapped[str] = mapped_column(Text)
    # For a run that ended in an escalation: the question, and the answer, after which it turned
    # (the script's insight report counts them without reading every record).
    turn_script_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    turn_step_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    turn_answer_id: Mapped[str | None] = mapped_column(String(100), nullable=True)


class RolePermission(Base):
    """Which role holds which permission of the catalogue in ``desk.domain.authority``."""

    __tablename__ = "role_permissions"
    role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )
    permission: Mapped[str] = mapped_column(String(40), primary_key=True)


class RequestKind(Base):
    """A kind of request a role may grant up to its limit: waiver, claim, refund, or an admin's."""

    __tablename__ = "request_kinds"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    # The permission that lets a person grant this kind on the spot, within their limit.
    grant_permission: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AuthorityLimit(Base):
    """The largest amount (minor units) a role grants on its own for a kind of request."""

    __tablename__ = "authority_limits"
    role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )
    kind_id: Mapped[int] = mapped_column(
        ForeignKey("request_kinds.id", ondelete="CASCADE"), primary_key=True
    )
    limit_minor: Mapped[int] = mapped_column(BigInteger)


class ApprovalRequest(Base):
    """A waiver, claim or refund: granted on the spot within the officer's limit, or asked of
    someone whose limit covers it and decided by them (never by the person who asked)."""

    __tablename__ = "approval_requests"
    __table_args__ = (
        Index("ix_approval_requests_customer_kind", "customer_id", "kind_id", "status"),
        Index("ix_approval_requests_status_requested", "status", "requested_at"),
        # The cases a request was sent to a person about (the row-level policy's lookup).
        Index("ix_approval_requests_assigned_case", "assigned_to_id", "case_id"),
        # The inbox: one person's (or the pool's) waiting items, oldest first.
        Index(
            "ix_approval_requests_assignee_pending",
            "assigned_to_id",
            "requested_at",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind_id: Mapped[int] = mapped_column(ForeignKey("request_kinds.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")
    recommendation: Mapped[str] = mapped_column(Text, default="")
    alternatives_offered: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[str] = mapped_column(Text, default="")
    # pending, granted (on the spot), approved, rejected, returned, withdrawn
    status: Mapped[str] = mapped_column(String(20))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    # Whom it waits for: the lowest person up the chain whose limit covers it.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    decided_amount_minor: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class LibraryScript(Base):
    """A guided script of the shared library: its published versions, its draft, its moods."""

    __tablename__ = "scripts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The moods the panel proposes it for, comma-separated, as an admin chose; None: the file's.
    proposed_for: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    retired_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": revision}


class ScriptVersion(Base):
    """A published version: never changed or deleted (a trigger refuses it on every database),
    so a recorded run always finds the words it followed."""

    __tablename__ = "script_versions"
    __table_args__ = (UniqueConstraint("script_id", "version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    script_id: Mapped[str] = mapped_column(ForeignKey("scripts.id"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # None: shipped with Desk.
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)


class ScriptDraft(Base):
    """The one work-in-progress version of a script, checked on every save, not yet in use."""

    __tablename__ = "script_drafts"
    script_id: Mapped[str] = mapped_column(ForeignKey("scripts.id"), primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    based_on_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": revision}


class SafetyAlert(Base):
    """A safety alert an officer raised with one key: it reaches the supervisors of the centre at
    once, and stays on their screens until one of them acknowledges it."""

    __tablename__ = "safety_alerts"
    __table_args__ = (Index("ix_safety_alerts_centre_open", "centre_id", "acknowledged_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("service_centres.id"))
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), nullable=True
    )
    case_reference: Mapped[str] = mapped_column(String(30), default="", server_default="")
    script_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    step_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    raised_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)


class WorkItem(Base):
    """What else reaches a supervisor's inbox besides approval requests: a customer's (or the
    officer's) request for a supervisor's review, a reply to vet before it is sent, a compliment
    about a member of staff. Exactly one decision stands (the version and a row lock)."""

    __tablename__ = "work_items"
    __table_args__ = (
        Index("ix_work_items_assignee_status", "assigned_to_id", "status", "requested_at"),
        Index("ix_work_items_requester", "requested_by_id", "requested_at"),
        Index("ix_work_items_subject", "subject_staff_id", "decided_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(20))  # review, reply, compliment
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # A compliment: the member of staff it is about.
    subject_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    # A review: who asked for it (customer_asked, cannot_resolve).
    origin: Mapped[str] = mapped_column(String(20), default="", server_default="")
    body: Mapped[str] = mapped_column(Text)  # the reason, the draft reply, the compliment
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    # pending, returned (for more information), done, withdrawn
    status: Mapped[str] = mapped_column(String(20))
    # review: upheld, changed; reply: approved; compliment: acknowledged
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The reason, the approved (possibly edited) reply, the recognition note.
    response: Mapped[str] = mapped_column(Text, default="", server_default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # A vetted reply: when the officer marked it as sent (only once approved).
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # A compliment's recognition note: when the staff member read it.
    seen_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}


class ClientOperation(Base):
    """A change a client made offline and sent later, by the UUID the client gave it: written in
    the same transaction as the change, so sending it again (after a crash before the client
    noted it was sent) finds it here and records nothing twice."""

    __tablename__ = "client_operations"
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # The case's version after the change: a later change made offline is built on it.
    case_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # the client's clock
    applied_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # the server's
