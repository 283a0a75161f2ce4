"""Load test: many counters and a few supervisors at once on one PostgreSQL, beside a plain SQL
client doing the same inserts (the floor), then a reconciliation of everything the clients logged.

    python -m bench.bench_load --clients 40 --supervisors 4 --seconds 60

Each counter is its own process (multiprocessing, spawn) and its own member of staff: a counter
officer added through ``desk.admin.add_staff`` by the demo administrator, logged in as their own
PostgreSQL login role (so row-level security and the database's checks apply). Without pause it
records a case (``desk.cases.create`` with a client UUID), adds a contact to it
(``desk.cases.add_entry``, a unique token in the text) and, for every other case, sends an approval
request above the officer's limit (``desk.grants.request`` with a client UUID), which the
application routes to the officer's supervisor. Each supervisor is a demo supervisor in its own
process: it takes the oldest item of its inbox (``desk.inbox.page``) and decides it
(``desk.grants.decide``: approve four in five, reject the rest); one time in four it helps its
centre instead, opening the centre's cases awaiting a decision (``desk.cases.list`` and
``desk.grants.for_case``), so two supervisors of a centre sometimes decide the same request at
once. Exactly one wins; the other is told who decided (a ``ConflictError``): a lost race, not a
failure.

The floor: the same number of processes on the bare psycopg driver as the database owner (no
row-level security, the authority trigger lets the owner through), writing the same rows with the
same columns, one transaction each: the case row (with its reference from the same counter row),
the contact's event row, the request row, and the decision as one UPDATE of the request row.
What the application adds over it: the timeline lines, the case status, the audit trail (one
hash-chained entry per write, under one lock for the whole database), the routing and authority
reads, and the view it reads back after each write.

Every client logs each operation it completed (kind, key, latency) to its own JSON-lines file.
Afterwards the harness reports throughput and p50/p95/p99 latency per operation for both, and
reconciles: every case, contact, request and decision a client logged as done is in the database
exactly once (and nothing is there that no client logged); the audit trail's hash chain is whole.
The exit status is 1 when anything is missing or duplicated. The run replaces the results part of
the "Load test" section of docs/benchmarks.md unless ``--no-write``. Never part of the test run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
SERVER = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_DATABASE = "desk_load_1"

STAFF_PASSWORD = "demo"  # the demo staff's login roles, as tests/conftest.py makes them
OFFICER_PASSWORD = "Counter-2026-load-test"
OFFICER_PREFIX = "load"
HELP_SHARE = 0.25  # how often a supervisor decides from the centre's cases instead of its inbox
APPROVE_SHARE = 0.8
IDLE_SECONDS = 0.02  # a supervisor with nothing to decide looks again after this
# Above a counter officer's limit (waiver 50.00, claim and refund 100.00), well within a
# supervisor's (1,000.00 and 2,000.00): routed to the officer's supervisor.
AMOUNTS = {"waiver": (6_000, 9_000), "claim": (11_000, 19_000), "refund": (11_000, 19_000)}
KINDS = tuple(AMOUNTS)

CREATE, CONTACT, REQUEST, DECIDE, FIND = (
    "create_case",
    "add_contact",
    "request_approval",
    "decide",
    "find_work",
)
OPERATIONS = (CREATE, CONTACT, REQUEST, DECIDE, FIND)
LABELS = {
    CREATE: "create case",
    CONTACT: "add contact",
    REQUEST: "request approval",
    DECIDE: "decide",
    FIND: "find work (supervisor; for information)",
}
TOKEN = {"app": "LTA", "floor": "LTF"}  # + 32 hex digits: a contact's token, per run

START, END = "<!-- load-results:start -->", "<!-- load-results:end -->"
SECTION = "## Load test: many counters on one PostgreSQL"


# --- the plan: who does what ---------------------------------------------------------------------


@dataclass(frozen=True)
class CounterPlan:
    username: str
    password: str
    staff_id: int
    centre_id: int
    supervisor_id: int
    customer_ids: tuple[int, ...]
    category_ids: tuple[int, ...]
    kind_ids: dict[str, int]


@dataclass(frozen=True)
class SupervisorPlan:
    username: str
    password: str
    staff_id: int
    centre_id: int
    centre_supervisor_ids: tuple[int, ...]  # this one and its colleagues under load


@dataclass(frozen=True)
class Setup:
    url: str  # the owner's SQLAlchemy URL of the database
    database: str
    counters: tuple[CounterPlan, ...]
    supervisors: tuple[SupervisorPlan, ...]

    @property
    def conninfo(self) -> str:
        """The owner's address for the bare driver."""
        from sqlalchemy.engine import make_url

        url = make_url(self.url).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)


def _owner_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def recreate_database(url: str) -> None:
    """Drop the database and its login roles, and create it empty."""
    import psycopg
    from sqlalchemy.engine import make_url

    from desk.adapters.database import make_engine
    from desk.adapters.pg_roles import drop_database_roles

    parsed = make_url(url)
    name = parsed.database
    assert name, "the URL names no database"
    maintenance = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(maintenance.render_as_string(hide_password=False), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine = make_engine(maintenance.set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            drop_database_roles(conn, name)
            conn.commit()
    finally:
        engine.dispose()
    with psycopg.connect(maintenance.render_as_string(hide_password=False), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')


def prepare(
    url: str,
    *,
    clients: int,
    supervisors: int,
    demo_cases: int = 2_000,
    fresh: bool = True,
    progress: Callable[[str], None] = print,
) -> Setup:
    """A migrated demo database with login roles, ``clients`` counter officers of their own
    (added by the demo administrator through the admin service) and the first ``supervisors``
    demo supervisors, two per centre; the officers report to them in turn."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from desk.adapters.database import make_engine, upgrade
    from desk.adapters.pg_roles import create_login_role
    from desk.bootstrap import Desk
    from desk.services.admin import NewStaff
    from desk.services.demo import generate_demo

    if clients < 1 or supervisors < 1:
        raise ValueError("at least one counter and one supervisor")
    url = _owner_url(url)
    database = str(make_url(url).database)
    if fresh:
        progress(f"creating a fresh database {database}")
        recreate_database(url)
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            staff_count = conn.execute(text("SELECT count(*) FROM staff")).scalar_one()
        if staff_count == 0:
            progress(f"loading the demo organisation with {demo_cases:,} cases")
            generate_demo(engine, cases=demo_cases, seed=1)
        with engine.connect() as conn:
            missing = conn.execute(
                text("SELECT username FROM staff WHERE db_role IS NULL ORDER BY id")
            ).scalars()
            for username in list(missing):
                create_login_role(conn, username, STAFF_PASSWORD)
            conn.commit()
            chosen = conn.execute(
                text(
                    "SELECT s.id, s.username, s.centre_id, c.code FROM staff s "
                    "JOIN roles r ON r.id = s.role_id JOIN service_centres c ON c.id = s.centre_id "
                    "WHERE r.name = 'Supervisor' AND s.active ORDER BY s.centre_id, s.id"
                )
            ).all()[:supervisors]
        if len(chosen) < supervisors:
            raise SystemExit(f"the demo organisation has only {len(chosen)} supervisors")

        officers = [
            (f"{OFFICER_PREFIX}{i + 1:03d}", chosen[i % len(chosen)]) for i in range(clients)
        ]
        admin = Desk.open(url)
        try:
            admin.login("admin", STAFF_PASSWORD)
            have = {s.username for s in admin.admin.staff()}
            to_add = [(name, boss) for name, boss in officers if name not in have]
            if to_add:
                progress(f"adding {len(to_add)} counter officers through the admin service")
            for name, boss in to_add:
                admin.admin.add_staff(
                    NewStaff(
                        username=name,
                        full_name=f"Load Officer {name[len(OFFICER_PREFIX) :]}",
                        role="Counter Officer",
                        centre_code=str(boss.code),
                        supervisor=str(boss.username),
                    ),
                    OFFICER_PASSWORD,
                )
        finally:
            admin.close()

        with engine.begin() as conn:
            # A kept database may have had another number of supervisors: report as planned.
            for name, boss in officers:
                conn.execute(
                    text(
                        "UPDATE staff SET supervisor_id = :boss, centre_id = :centre "
                        "WHERE username = :name AND (supervisor_id IS DISTINCT FROM :boss "
                        "OR centre_id <> :centre)"
                    ),
                    {"boss": boss.id, "centre": boss.centre_id, "name": name},
                )
            ids = dict(
                conn.execute(
                    text("SELECT username, id FROM staff WHERE username = ANY(:names)"),
                    {"names": [name for name, _ in officers]},
                ).all()
            )
            customers = [
                int(c) for c in conn.execute(text("SELECT id FROM customers ORDER BY id")).scalars()
            ]
            categories = tuple(
                int(c)
                for c in conn.execute(
                    text("SELECT id FROM categories WHERE parent_id IS NULL AND active ORDER BY id")
                ).scalars()
            )
            kind_ids = {
                str(code): int(kid)
                for code, kid in conn.execute(
                    text("SELECT code, id FROM request_kinds WHERE code = ANY(:codes)"),
                    {"codes": list(KINDS)},
                ).all()
            }
    finally:
        engine.dispose()
    if len(customers) < clients:
        raise SystemExit(f"{len(customers)} customers for {clients} counters: load more cases")
    by_centre: dict[int, list[int]] = defaultdict(list)
    for row in chosen:
        by_centre[int(row.centre_id)].append(int(row.id))
    counters = tuple(
        CounterPlan(
            username=name,
            password=OFFICER_PASSWORD,
            staff_id=int(ids[name]),
            centre_id=int(boss.centre_id),
            supervisor_id=int(boss.id),
            # Customers of its own, so that no customer's rolling total outgrows a supervisor.
            customer_ids=tuple(customers[i::clients]),
            category_ids=categories,
            kind_ids=kind_ids,
        )
        for i, (name, boss) in enumerate(officers)
    )
    supervisor_plans = tuple(
        SupervisorPlan(
            username=str(row.username),
            password=STAFF_PASSWORD,
            staff_id=int(row.id),
            centre_id=int(row.centre_id),
            centre_supervisor_ids=tuple(by_centre[int(row.centre_id)]),
        )
        for row in chosen
    )
    return Setup(url, database, counters, supervisor_plans)


# --- the clients (each in a process of its own) --------------------------------------------------


class _Log:
    """One JSON line per operation, with the end time relative to the common start."""

    def __init__(self, out: TextIO, started: float) -> None:
        self.out = out
        self.started = started

    def write(self, op: str, ok: bool, ms: float, **extra: Any) -> None:
        record = {"op": op, "ok": ok, "ms": round(ms, 3), "t": time.time() - self.started}
        record.update(extra)
        self.out.write(json.dumps(record) + "\n")


def _timed(log: _Log, op: str, call: Callable[[], Any], **extra: Any) -> Any:
    """Run one operation and log it: done, refused (a DeskError), or a bug (anything else).
    Returns its result, or None when it did not complete."""
    from desk.services.errors import DeskError

    begin = time.perf_counter()
    try:
        result = call()
    except DeskError as exc:
        ms = (time.perf_counter() - begin) * 1000
        log.write(op, False, ms, error=f"{type(exc).__name__}: {exc}", **extra)
        return None
    except Exception as exc:  # a bug in the application: logged, and the client goes on
        ms = (time.perf_counter() - begin) * 1000
        detail = traceback.format_exc(limit=4)
        log.write(op, False, ms, error=f"{type(exc).__name__}: {exc}", bug=detail, **extra)
        return None
    log.write(op, True, (time.perf_counter() - begin) * 1000, **extra)
    return result


def _amount(rng: random.Random, kind: str) -> int:
    low, high = AMOUNTS[kind]
    return rng.randrange(low, high) // 100 * 100


class AppCounter:
    def __init__(self, plan: CounterPlan, url: str, seed: int) -> None:
        self.plan = plan
        self.url = url
        self.rng = random.Random(seed)

    def connect(self) -> None:
        from desk.bootstrap import Desk

        self.desk = Desk.open(self.url)
        self.desk.login(self.plan.username, self.plan.password)

    def cycle(self, log: _Log, n: int) -> None:
        from desk.domain.case import CaseDetails
        from desk.domain.model import CaseKind, Channel, EventKind

        plan, rng, desk = self.plan, self.rng, self.desk
        case_uuid = uuid.uuid4()
        details = CaseDetails(
            customer_id=plan.customer_ids[n % len(plan.customer_ids)],
            kind=CaseKind.COMPLAINT,
            channel=Channel.WALK_IN,
            category_id=rng.choice(plan.category_ids) if plan.category_ids else None,
            customer_words=f"Charged twice for the March water bill (load {case_uuid.hex[:8]})",
            customer_expectation="A corrected bill",
            officer_understanding="The March bill was debited twice",
            next_steps="The billing team will look into it.",
        )
        case = _timed(
            log,
            CREATE,
            lambda: desk.cases.create(details, client_uuid=case_uuid),
            key=str(case_uuid),
        )
        if case is None:
            return
        token = TOKEN["app"] + uuid.uuid4().hex
        _timed(
            log,
            CONTACT,
            lambda: desk.cases.add_entry(
                case.id,
                kind=EventKind.CONTACT,
                text=f"The customer phoned to ask how it is going ({token})",
                channel=Channel.PHONE,
            ),
            key=token,
        )
        if n % 2 == 0:
            kind = KINDS[(n // 2) % len(KINDS)]
            request_uuid = uuid.uuid4()
            amount = _amount(rng, kind)
            _timed(
                log,
                REQUEST,
                lambda: desk.grants.request(
                    case.id,
                    kind,
                    amount,
                    "Debited twice; the customer asks for the second debit back",
                    client_uuid=request_uuid,
                ),
                key=str(request_uuid),
            )

    def close(self) -> None:
        self.desk.close()


class AppSupervisor:
    def __init__(self, plan: SupervisorPlan, url: str, seed: int) -> None:
        self.plan = plan
        self.url = url
        self.rng = random.Random(seed)
        self.today = dt.date.today()

    def connect(self) -> None:
        from desk.bootstrap import Desk

        self.desk = Desk.open(self.url)
        self.desk.login(self.plan.username, self.plan.password)

    def _own(self) -> tuple[int, int | None] | None:
        from desk.services.inbox import InboxQuery

        page = self.desk.inbox.page(InboxQuery(page_size=5))
        return (page.items[0].id, page.items[0].version) if page.items else None

    def _centre(self) -> tuple[int, int | None] | None:
        """The oldest request waiting in the centre, found as a person would: the centre's
        cases awaiting a decision, then the case's requests."""
        from desk.domain.model import CaseStatus
        from desk.services.dto import CaseQuery, CaseScope

        rows = self.desk.cases.list(
            CaseQuery(
                scope=CaseScope.CENTRE,
                statuses=(CaseStatus.AWAITING_DECISION,),
                opened_from=self.today,
                descending=False,
                page_size=5,
            )
        ).rows
        for row in rows:
            for request in self.desk.grants.for_case(row.id):
                if request.status == "pending":
                    return request.id, None
        return None

    def cycle(self, log: _Log, n: int) -> None:
        from desk.services.errors import ConflictError, DeskError
        from desk.services.grants import Outcome

        helping = self.rng.random() < HELP_SHARE
        found = _timed(
            log,
            FIND,
            self._centre if helping else self._own,
            where="centre" if helping else "inbox",
        )
        if found is None and helping:
            found = _timed(log, FIND, self._own, where="inbox")
        if found is None:
            time.sleep(IDLE_SECONDS)
            return
        request_id, version = found
        approve = self.rng.random() < APPROVE_SHARE
        outcome = Outcome.APPROVE if approve else Outcome.REJECT
        reason = "" if approve else "The second debit was a different bill; explained"
        begin = time.perf_counter()
        try:
            view = self.desk.grants.decide(
                request_id, outcome, reason=reason, expected_version=version
            )
        except ConflictError as exc:
            ms = (time.perf_counter() - begin) * 1000
            log.write(DECIDE, False, ms, key=request_id, lost_race=True, error=str(exc))
            return
        except DeskError as exc:
            ms = (time.perf_counter() - begin) * 1000
            log.write(DECIDE, False, ms, key=request_id, error=f"{type(exc).__name__}: {exc}")
            return
        except Exception as exc:
            ms = (time.perf_counter() - begin) * 1000
            detail = traceback.format_exc(limit=4)
            log.write(DECIDE, False, ms, key=request_id, error=repr(exc), bug=detail)
            return
        ms = (time.perf_counter() - begin) * 1000
        log.write(
            DECIDE,
            True,
            ms,
            key=request_id,
            status=view.status,
            by=self.plan.staff_id,
            helping=helping,
        )

    def close(self) -> None:
        self.desk.close()


class FloorCounter:
    """The same rows on the bare driver, as the owner, one transaction each."""

    def __init__(self, plan: CounterPlan, conninfo: str, seed: int) -> None:
        self.plan = plan
        self.conninfo = conninfo
        self.rng = random.Random(seed)

    def connect(self) -> None:
        import psycopg

        self.conn = psycopg.connect(self.conninfo, autocommit=True)

    def cycle(self, log: _Log, n: int) -> None:
        from desk.domain.case import format_reference

        plan, rng, conn = self.plan, self.rng, self.conn
        case_uuid = uuid.uuid4()
        customer = plan.customer_ids[n % len(plan.customer_ids)]
        category = rng.choice(plan.category_ids) if plan.category_ids else None
        words = f"Charged twice for the March water bill (load {case_uuid.hex[:8]})"

        def create() -> int:
            now = dt.datetime.now(dt.UTC)
            with conn.transaction():
                number = conn.execute(
                    "INSERT INTO reference_counters (year, last_number) VALUES (%s, 1) "
                    "ON CONFLICT (year) DO UPDATE "
                    "SET last_number = reference_counters.last_number + 1 RETURNING last_number",
                    (now.year,),
                ).fetchone()
                assert number is not None
                reference = format_reference(now.year, int(number[0]))
                row = conn.execute(
                    "INSERT INTO cases (uuid, reference, version, kind, channel, social_platform, "
                    "social_handle, social_post_url, category_id, priority, status, centre_id, "
                    "customer_id, assigned_officer_id, created_by_id, customer_words, "
                    "customer_expectation, officer_understanding, customer_confirmed, "
                    "root_cause, actions_agreed, next_steps, resolution, opened_at, updated_at, "
                    "search_text) VALUES (%s, %s, 1, 'complaint', 'walk_in', '', '', '', %s, "
                    "'normal', 'new', %s, %s, %s, %s, %s, 'A corrected bill', "
                    "'The March bill was debited twice', false, '', '', "
                    "'The billing team will look into it.', '', %s, %s, %s) RETURNING id",
                    (
                        case_uuid,
                        reference,
                        category,
                        plan.centre_id,
                        customer,
                        plan.staff_id,
                        plan.staff_id,
                        words,
                        now,
                        now,
                        f"{reference} {words} A corrected bill The March bill was debited twice",
                    ),
                ).fetchone()
                assert row is not None
                return int(row[0])

        case_id = _timed(log, CREATE, create, key=str(case_uuid))
        if case_id is None:
            return
        token = TOKEN["floor"] + uuid.uuid4().hex
        _timed(
            log,
            CONTACT,
            lambda: conn.execute(
                "INSERT INTO case_events (uuid, case_id, at, actor_id, kind, channel, summary) "
                "VALUES (%s, %s, %s, %s, 'contact', 'phone', %s)",
                (
                    uuid.uuid4(),
                    case_id,
                    dt.datetime.now(dt.UTC),
                    plan.staff_id,
                    f"The customer phoned to ask how it is going ({token})",
                ),
            ),
            key=token,
        )
        if n % 2 == 0:
            kind = KINDS[(n // 2) % len(KINDS)]
            request_uuid = uuid.uuid4()
            _timed(
                log,
                REQUEST,
                lambda: conn.execute(
                    "INSERT INTO approval_requests (uuid, case_id, customer_id, kind_id, "
                    "amount_minor, reason, recommendation, alternatives_offered, evidence, "
                    "status, requested_by_id, requested_at, assigned_to_id, decision_reason, "
                    "version) VALUES (%s, %s, %s, %s, %s, %s, '', '', '', 'pending', %s, %s, "
                    "%s, '', 1)",
                    (
                        request_uuid,
                        case_id,
                        customer,
                        plan.kind_ids[kind],
                        _amount(rng, kind),
                        "Debited twice; the customer asks for the second debit back",
                        plan.staff_id,
                        dt.datetime.now(dt.UTC),
                        plan.supervisor_id,
                    ),
                ),
                key=str(request_uuid),
            )

    def close(self) -> None:
        self.conn.close()


class FloorSupervisor:
    """Takes the oldest of its own pending requests (or, one time in four, of its centre's
    supervisors) and decides it with one UPDATE that only a pending request passes."""

    def __init__(self, plan: SupervisorPlan, conninfo: str, seed: int) -> None:
        self.plan = plan
        self.conninfo = conninfo
        self.rng = random.Random(seed)

    def connect(self) -> None:
        import psycopg

        self.conn = psycopg.connect(self.conninfo, autocommit=True)

    def _oldest(self, ids: Sequence[int]) -> tuple[int, int | None] | None:
        row = self.conn.execute(
            "SELECT id FROM approval_requests WHERE assigned_to_id = ANY(%s) "
            "AND status = 'pending' ORDER BY requested_at, id LIMIT 1",
            (list(ids),),
        ).fetchone()
        return (int(row[0]), None) if row else None

    def cycle(self, log: _Log, n: int) -> None:
        plan = self.plan
        helping = self.rng.random() < HELP_SHARE
        ids = plan.centre_supervisor_ids if helping else (plan.staff_id,)
        found = _timed(log, FIND, lambda: self._oldest(ids), where="centre" if helping else "inbox")
        if found is None:
            time.sleep(IDLE_SECONDS)
            return
        request_id = found[0]
        approve = self.rng.random() < APPROVE_SHARE
        status = "approved" if approve else "rejected"
        reason = "" if approve else "The second debit was a different bill; explained"
        begin = time.perf_counter()
        cursor = self.conn.execute(
            "UPDATE approval_requests SET status = %s, decided_by_id = %s, decided_at = now(), "
            "decided_amount_minor = CASE WHEN %s THEN amount_minor END, decision_reason = %s, "
            "version = version + 1 WHERE id = %s AND status = 'pending'",
            (status, plan.staff_id, approve, reason, request_id),
        )
        ms = (time.perf_counter() - begin) * 1000
        if cursor.rowcount == 1:
            log.write(DECIDE, True, ms, key=request_id, status=status, by=plan.staff_id)
        else:
            log.write(DECIDE, False, ms, key=request_id, lost_race=True, error="not pending")

    def close(self) -> None:
        self.conn.close()


_CLIENTS: dict[str, Any] = {
    "app-counter": AppCounter,
    "app-supervisor": AppSupervisor,
    "floor-counter": FloorCounter,
    "floor-supervisor": FloorSupervisor,
}


def _client_main(
    kind: str,
    plan: CounterPlan | SupervisorPlan,
    address: str,
    log_path: str,
    seconds: float,
    think_ms: float,
    seed: int,
    ready: Any,
    go: Any,
    start: Any,
) -> None:
    """A client process: connect (log in), say so, wait for the common start, work until the
    end, log every operation."""
    client = _CLIENTS[kind](plan, address, seed)
    try:
        client.connect()
    except BaseException as exc:
        ready.put((plan.username, f"{type(exc).__name__}: {exc}"))
        return
    ready.put((plan.username, None))
    try:
        if not go.wait(timeout=900):
            return
        started = float(start.value)
        time.sleep(max(0.0, started - time.time()))
        deadline = started + seconds
        with open(log_path, "w", encoding="utf-8") as out:
            log = _Log(out, started)
            n = 0
            while time.time() < deadline:
                client.cycle(log, n)
                n += 1
                if think_ms > 0:
                    time.sleep(think_ms / 1000)
    finally:
        with contextlib.suppress(Exception):
            client.close()


# --- running and measuring -----------------------------------------------------------------------


@dataclass
class OpStats:
    op: str
    done: int
    errors: int
    lost_races: int
    per_second: float
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None


@dataclass
class Run:
    label: str  # "app" or "floor"
    seconds: float
    records: list[dict[str, Any]]
    started_at: dt.datetime  # wall clock at the common start (UTC)

    @property
    def elapsed(self) -> float:
        return max([self.seconds, *(float(r["t"]) for r in self.records)])

    def stats(self) -> list[OpStats]:
        out = []
        for op in OPERATIONS:
            mine = [r for r in self.records if r["op"] == op]
            done = sorted(float(r["ms"]) for r in mine if r["ok"])
            lost = sum(1 for r in mine if not r["ok"] and r.get("lost_race"))
            errors = sum(1 for r in mine if not r["ok"] and not r.get("lost_race"))
            out.append(
                OpStats(
                    op,
                    len(done),
                    errors,
                    lost,
                    len(done) / self.elapsed,
                    pct(done, 0.50),
                    pct(done, 0.95),
                    pct(done, 0.99),
                    done[-1] if done else None,
                )
            )
        return out

    def errors(self) -> Counter[str]:
        """The refusals and failures by message (lost races are not errors)."""
        return Counter(
            f"{LABELS[r['op']]}: {str(r.get('error', ''))[:240]}"
            for r in self.records
            if not r["ok"] and not r.get("lost_race")
        )

    def bugs(self) -> list[str]:
        return [str(r["bug"]) for r in self.records if r.get("bug")]

    def done(self, op: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["op"] == op and r["ok"]]

    def failed(self, op: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["op"] == op and not r["ok"]]


def pct(ordered: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted values (as bench_case_list reports them)."""
    if not ordered:
        return None
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run_clients(
    setup: Setup,
    label: str,
    *,
    seconds: float,
    think_ms: float = 0.0,
    log_dir: Path,
    seed: int = 1,
    progress: Callable[[str], None] = print,
) -> Run:
    """Start one process per counter and supervisor, let them work for ``seconds`` from a
    common start, and collect what they logged."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Queue()
    go = ctx.Event()
    start = ctx.Value("d", 0.0)
    address = setup.url if label == "app" else setup.conninfo
    jobs: list[tuple[str, CounterPlan | SupervisorPlan]] = [
        (f"{label}-counter", plan) for plan in setup.counters
    ]
    jobs += [(f"{label}-supervisor", plan) for plan in setup.supervisors]
    processes = []
    paths = []
    for index, (kind, plan) in enumerate(jobs):
        path = log_dir / f"{label}-{index:03d}-{plan.username}.jsonl"
        paths.append(path)
        process = ctx.Process(
            target=_client_main,
            args=(kind, plan, address, str(path), seconds, think_ms, seed * 1000 + index),
            kwargs={"ready": ready, "go": go, "start": start},
            name=f"{label}-{plan.username}",
            daemon=True,
        )
        processes.append(process)
    try:
        began = time.perf_counter()
        for process in processes:
            process.start()
        problems: list[str] = []
        waiting = len(processes)
        while waiting:
            try:
                username, problem = ready.get(timeout=1)
            except Exception:  # queue.Empty: see that nobody died before saying so
                dead = [p.name for p in processes if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"client processes died while starting: {dead}") from None
                if time.perf_counter() - began > 900:
                    raise RuntimeError("the clients did not start within 15 minutes") from None
                continue
            waiting -= 1
            if problem:
                problems.append(f"{username}: {problem}")
        if problems:
            raise RuntimeError("clients could not start: " + "; ".join(problems))
        progress(
            f"  {label}: {len(processes)} processes connected in "
            f"{time.perf_counter() - began:.0f} s; running for {seconds:g} s"
        )
        start.value = time.time() + 0.5
        started_at = dt.datetime.fromtimestamp(start.value, dt.UTC)
        go.set()
        for process in processes:
            process.join(timeout=seconds + 600)
        hung = [p.name for p in processes if p.exitcode is None]
        if hung:
            raise RuntimeError(f"client processes did not finish: {hung}")
        failed = [f"{p.name} (exit {p.exitcode})" for p in processes if p.exitcode != 0]
        if failed:
            raise RuntimeError(f"client processes failed: {failed}")
    finally:
        go.set()
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=10)
            if process.exitcode is not None:
                process.close()
        ready.close()
        ready.join_thread()
    records: list[dict[str, Any]] = []
    for path in paths:
        if path.exists():
            with path.open(encoding="utf-8") as lines:
                records.extend(json.loads(line) for line in lines if line.strip())
    return Run(label, seconds, records, started_at)


# --- reconciling ---------------------------------------------------------------------------------


@dataclass
class Check:
    """One kind of record: how many clients logged as done, and how many of those the database
    holds exactly once, not at all, or more than once; ``unlogged``: in the database (made by
    the load's staff during the run) though no client logged it done or failed."""

    name: str
    logged: int = 0
    once: int = 0
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unlogged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: str = ""  # instead of the counts, for a check that is not about logged records

    @property
    def ok(self) -> bool:
        return not (self.missing or self.duplicated or self.unlogged)

    def line(self) -> str:
        if self.summary:
            text = self.summary
        else:
            text = (
                f"{self.name}: {self.once:,} of {self.logged:,} logged as done are in the "
                f"database exactly once; missing {len(self.missing)}, duplicated "
                f"{len(self.duplicated)}, unlogged {len(self.unlogged)}"
            )
        for kind, items in (
            ("missing", self.missing),
            ("duplicated", self.duplicated),
            ("unlogged", self.unlogged),
        ):
            if items:
                text += f"\n    {kind}: {', '.join(items[:10])}{' …' if len(items) > 10 else ''}"
        return text + "".join(f"; {note}" for note in self.notes)


def _tally(logged: Iterable[str], counts: dict[str, int], check: Check) -> None:
    keys = list(logged)
    check.logged = len(keys)
    for key, seen in Counter(keys).items():
        if seen > 1:  # two clients (or one twice) logged the same thing done
            check.duplicated.append(f"{key} (logged {seen}×)")
    for key in dict.fromkeys(keys):
        found = counts.get(key, 0)
        if found == 0:
            check.missing.append(key)
        elif found > 1:
            check.duplicated.append(f"{key} ({found}× in the database)")
        else:
            check.once += 1


def reconcile(setup: Setup, run: Run) -> list[Check]:
    import psycopg

    officers = [p.staff_id for p in setup.counters]
    deciders = [p.staff_id for p in setup.supervisors]
    since = run.started_at - dt.timedelta(seconds=1)
    checks: list[Check] = []
    with psycopg.connect(setup.conninfo, autocommit=True) as conn:
        # Cases, by their client UUID.
        cases = Check("cases")
        done = [str(r["key"]) for r in run.done(CREATE)]
        failed = {str(r["key"]) for r in run.failed(CREATE)}
        counts = dict(
            conn.execute(
                "SELECT uuid::text, count(*) FROM cases WHERE uuid = ANY(%s::uuid[]) GROUP BY 1",
                (done,),
            ).fetchall()
        )
        _tally(done, counts, cases)
        made = conn.execute(
            "SELECT uuid::text FROM cases WHERE created_by_id = ANY(%s) AND opened_at >= %s",
            (officers, since),
        ).fetchall()
        cases.unlogged = [u for (u,) in made if u not in counts and u not in failed]
        recorded_failures = len({u for (u,) in made} & failed)
        if failed:
            cases.notes.append(f"{len(failed)} failed, of which {recorded_failures} were recorded")
        checks.append(cases)

        if run.label == "app":
            # Each case's timeline starts with exactly one "created" line.
            created = Check("'case recorded' timeline lines")
            counts = dict(
                conn.execute(
                    "SELECT c.uuid::text, count(e.id) FROM cases c "
                    "LEFT JOIN case_events e ON e.case_id = c.id AND e.kind = 'created' "
                    "WHERE c.uuid = ANY(%s::uuid[]) GROUP BY 1",
                    (done,),
                ).fetchall()
            )
            _tally(done, counts, created)
            checks.append(created)

        # Contacts, by the token in their text.
        contacts = Check("contacts")
        done = [str(r["key"]) for r in run.done(CONTACT)]
        failed = {str(r["key"]) for r in run.failed(CONTACT)}
        pattern = TOKEN[run.label] + "[0-9a-f]{32}"
        counts = dict(
            conn.execute(
                "SELECT substring(summary FROM %s), count(*) FROM case_events "
                "WHERE kind = 'contact' AND actor_id = ANY(%s) AND at >= %s AND summary ~ %s "
                "GROUP BY 1",
                (pattern, officers, since, pattern),
            ).fetchall()
        )
        _tally(done, counts, contacts)
        contacts.unlogged = [t for t in counts if t not in set(done) and t not in failed]
        if failed:
            recorded = len(set(counts) & failed)
            contacts.notes.append(f"{len(failed)} failed, of which {recorded} were recorded")
        checks.append(contacts)

        # Requests, by their client UUID.
        requests = Check("approval requests")
        done = [str(r["key"]) for r in run.done(REQUEST)]
        failed = {str(r["key"]) for r in run.failed(REQUEST)}
        counts = dict(
            conn.execute(
                "SELECT uuid::text, count(*) FROM approval_requests WHERE uuid = ANY(%s::uuid[]) "
                "GROUP BY 1",
                (done,),
            ).fetchall()
        )
        _tally(done, counts, requests)
        made = conn.execute(
            "SELECT uuid::text FROM approval_requests WHERE requested_by_id = ANY(%s) "
            "AND requested_at >= %s",
            (officers, since),
        ).fetchall()
        requests.unlogged = [u for (u,) in made if u not in counts and u not in failed]
        if failed:
            requests.notes.append(f"{len(failed)} failed")
        checks.append(requests)

        # Decisions: the request says what the winner logged, and (app) the audit trail holds
        # exactly one decision for it; every lost race was decided by someone else.
        decisions = Check("decisions")
        won = run.done(DECIDE)
        ids = [int(r["key"]) for r in won]
        rows = {
            int(i): (str(s), d)
            for i, s, d in conn.execute(
                "SELECT id, status, decided_by_id FROM approval_requests WHERE id = ANY(%s)",
                (ids,),
            ).fetchall()
        }
        audited: dict[int, int] = {}
        if run.label == "app":
            audited = {
                int(i): int(n)
                for i, n in conn.execute(
                    "SELECT entity_id::bigint, count(*) FROM audit_events "
                    "WHERE entity = 'approval_request' AND action LIKE 'decision%%' "
                    "AND entity_id = ANY(%s) GROUP BY 1",
                    ([str(i) for i in ids],),
                ).fetchall()
            }
        counts = {}
        for r in won:
            request_id = int(r["key"])
            status, by = rows.get(request_id, ("", None))
            if status != r["status"] or by != r["by"]:
                counts[str(request_id)] = 0  # not what the winner was told
            elif run.label == "app":
                counts[str(request_id)] = audited.get(request_id, 0)
            else:
                counts[str(request_id)] = 1
        _tally([str(i) for i in ids], counts, decisions)
        decided_by_load = conn.execute(
            "SELECT id FROM approval_requests WHERE decided_by_id = ANY(%s) AND decided_at >= %s "
            "AND status IN ('approved', 'rejected')",
            (deciders, since),
        ).fetchall()
        logged_ids = set(ids) | {int(r["key"]) for r in run.failed(DECIDE)}
        decisions.unlogged = [str(i) for (i,) in decided_by_load if i not in logged_ids]
        lost = [int(r["key"]) for r in run.failed(DECIDE) if r.get("lost_race")]
        if lost:
            pending = conn.execute(
                "SELECT id FROM approval_requests WHERE id = ANY(%s) AND status = 'pending'",
                (lost,),
            ).fetchall()
            decisions.missing += [f"{i} (lost a race, yet still pending)" for (i,) in pending]
            decisions.notes.append(f"{len(lost)} lost races, each decided by another")
        checks.append(decisions)

    if run.label == "app":
        checks.append(_audit_chain(setup))
    return checks


def _audit_chain(setup: Setup) -> Check:
    from desk.adapters.database import make_engine
    from desk.adapters.unit_of_work import UnitOfWork
    from desk.services import audit

    engine = make_engine(setup.url)
    try:
        checked, broken = audit.verify(lambda: UnitOfWork(engine, read_only=True))
    finally:
        engine.dispose()
    check = Check("audit trail")
    if broken is None:
        check.summary = f"audit trail: the hash chain of all {checked:,} entries is whole"
    else:
        check.summary = f"audit trail: the hash chain breaks at {broken}"
        check.duplicated.append(str(broken))
    return check


# --- the whole run -------------------------------------------------------------------------------


@dataclass
class LoadResult:
    setup: Setup
    app: Run
    floor: Run | None
    app_checks: list[Check]
    floor_checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in (*self.app_checks, *self.floor_checks))


def run_load(
    url: str,
    *,
    clients: int = 40,
    supervisors: int = 4,
    seconds: float = 60,
    think_ms: float = 0.0,
    demo_cases: int = 2_000,
    fresh: bool = True,
    floor: bool = True,
    keep_logs: Path | None = None,
    progress: Callable[[str], None] = print,
) -> LoadResult:
    """Prepare, run the application's clients, reconcile, then the floor's, reconcile."""
    setup = prepare(
        url,
        clients=clients,
        supervisors=supervisors,
        demo_cases=demo_cases,
        fresh=fresh,
        progress=progress,
    )
    log_dir = Path(tempfile.mkdtemp(prefix="desk-load-"))
    try:
        progress(f"application: {clients} counters and {supervisors} supervisors")
        app = run_clients(
            setup, "app", seconds=seconds, think_ms=think_ms, log_dir=log_dir, progress=progress
        )
        app_checks = reconcile(setup, app)
        floor_run = None
        floor_checks: list[Check] = []
        if floor:
            progress(f"floor: {clients} + {supervisors} processes on the bare driver")
            floor_run = run_clients(
                setup,
                "floor",
                seconds=seconds,
                think_ms=think_ms,
                log_dir=log_dir,
                progress=progress,
            )
            floor_checks = reconcile(setup, floor_run)
    finally:
        if keep_logs is not None:
            keep_logs.mkdir(parents=True, exist_ok=True)
            for path in log_dir.iterdir():
                shutil.copy2(path, keep_logs / path.name)
        shutil.rmtree(log_dir, ignore_errors=True)
    return LoadResult(setup, app, floor_run, app_checks, floor_checks)


# --- report --------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def table(run: Run) -> str:
    out = [
        "| operation | done | ops/s | p50 ms | p95 ms | p99 ms | max ms | lost races | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in run.stats():
        out.append(
            f"| {LABELS[s.op]} | {s.done:,} | {s.per_second:.1f} | {_ms(s.p50)} | {_ms(s.p95)} "
            f"| {_ms(s.p99)} | {_ms(s.max)} | {s.lost_races if s.op == DECIDE else ''} "
            f"| {s.errors} |"
        )
    return "\n".join(out)


def ratio(x: float | None, y: float | None) -> str:
    return "–" if not x or not y else f"{x / y:.2f}×"


def ratios(app: Run, floor: Run) -> str:
    out = [
        "| operation | throughput app/floor | p50 app/floor | p95 app/floor |",
        "|---|---:|---:|---:|",
    ]
    floor_stats = {s.op: s for s in floor.stats()}
    for a in app.stats():
        if a.op == FIND:
            continue
        f = floor_stats[a.op]
        out.append(
            f"| {LABELS[a.op]} | {ratio(a.per_second, f.per_second)} | {ratio(a.p50, f.p50)} "
            f"| {ratio(a.p95, f.p95)} |"
        )
    return "\n".join(out)


def machine_note(conninfo: str) -> str:
    import psycopg
    import sqlalchemy

    with psycopg.connect(conninfo) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        settings = conn.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', "
            "'max_connections', 'synchronous_commit', 'fsync') ORDER BY name"
        ).fetchall()
    pg = f"PostgreSQL {version[0] if version else '?'} (" + ", ".join(
        f"{n}={s}{u or ''}" for n, s, u in settings
    )
    return (
        f"{os.cpu_count()} CPUs (nproc; the clients, the floor and PostgreSQL share them, and "
        f"other work ran on the machine), Python {platform.python_version()}, SQLAlchemy "
        f"{sqlalchemy.__version__}, psycopg {psycopg.__version__}, {pg})"
    )


def _revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "desk"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes in desk/" if dirty else "")


def report(result: LoadResult, command: str, revision: str | None = None) -> str:
    app, floor = result.app, result.floor
    setup = result.setup
    lines = [
        f"Run of {app.started_at:%Y-%m-%d %H:%M} UTC at {revision or _revision()}:",
        "",
        "```sh",
        command,
        "```",
        "",
        f"Machine: {machine_note(setup.conninfo)}.",
        "",
        f"**Application** ({len(setup.counters)} counters, {len(setup.supervisors)} "
        f"supervisors, {app.seconds:g} s; ops/s over {app.elapsed:.1f} s):",
        "",
        table(app),
    ]
    if floor is not None:
        lines += [
            "",
            f"**Floor** (bare psycopg as the owner, the same number of processes, "
            f"{floor.seconds:g} s; ops/s over {floor.elapsed:.1f} s):",
            "",
            table(floor),
            "",
            ratios(app, floor),
        ]
    for run, checks in ((app, result.app_checks), (floor, result.floor_checks)):
        if run is None:
            continue
        errors = run.errors()
        if errors:
            lines += ["", f"{run.label.capitalize()} errors (not lost races), by message:", ""]
            lines += [f"- {n}× {message}" for message, n in errors.most_common(8)]
        verdict = "clean" if all(c.ok for c in checks) else "**PROBLEMS**"
        lines += ["", f"Reconciliation ({run.label}): {verdict}.", ""]
        lines += [f"- {c.line()}" for c in checks]
    return "\n".join(lines) + "\n"


def write_results(path: Path, results: str) -> None:
    """Replace the generated part of the load-test section, or add the section at the end."""
    page = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if START not in page or END not in page:
        page = page.rstrip("\n") + f"\n\n{SECTION}\n\n{START}\n{END}\n"
    head, rest = page.split(START, 1)
    _old, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{results}{END}{tail}", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=40, help="counter processes")
    parser.add_argument("--supervisors", type=int, default=4, help="supervisor processes")
    parser.add_argument("--seconds", type=float, default=60, help="how long each run lasts")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="desk_load_* name")
    parser.add_argument("--server", default=SERVER, help="the server, as its owner")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database and its data (default: fresh)"
    )
    parser.add_argument("--demo-cases", type=int, default=2_000)
    parser.add_argument(
        "--think-ms", type=float, default=0.0, help="pause after each cycle (default: none)"
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the bare-driver floor")
    parser.add_argument("--keep-logs", type=Path, help="copy the clients' JSON-lines logs here")
    parser.add_argument("--no-write", action="store_true", help="leave docs/benchmarks.md alone")
    parser.add_argument("--docs", type=Path, default=DOCS, help="the page to write the results to")
    parser.add_argument(
        "--revision", help="how to name the code measured (default: git's HEAD, noting changes)"
    )
    args = parser.parse_args(argv)
    if not args.database.startswith("desk_load_"):
        parser.error("the database's name starts with desk_load_")
    url = f"{args.server.rstrip('/')}/{args.database}"
    result = run_load(
        url,
        clients=args.clients,
        supervisors=args.supervisors,
        seconds=args.seconds,
        think_ms=args.think_ms,
        demo_cases=args.demo_cases,
        fresh=not args.reuse,
        floor=not args.no_floor,
        keep_logs=args.keep_logs,
    )
    shown = ["python", "-m", "bench.bench_load", *(argv if argv is not None else sys.argv[1:])]
    text = report(result, shlex.join(shown), args.revision)
    print()
    print(text)
    bugs = result.app.bugs() + (result.floor.bugs() if result.floor else [])
    for detail in bugs[:3]:
        print(detail, file=sys.stderr)
    if not args.no_write:
        write_results(args.docs, text)
        print(f"results written to {args.docs}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
