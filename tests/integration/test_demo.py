"""The demo organisation: deterministic, complete, valid, and safe to extend on both backends."""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, insert, select

from desk.adapters.database import make_engine, upgrade
from desk.adapters.orm import (
    Case,
    CaseEvent,
    CaseTransaction,
    Customer,
    ReferenceCounter,
    Role,
    Setting,
    Staff,
)
from desk.domain.case import REFERENCE_PATTERN, CaseDetails, TransactionReference
from desk.domain.model import (
    CaseKind,
    CaseStatus,
    Channel,
    EventKind,
    Priority,
    ResolutionMethod,
)
from desk.domain.wording import find_promises
from desk.services.demo import demo_logins, generate_demo
from desk.services.search_text import build_search_text

TODAY = dt.date(2026, 11, 30)
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql://postgres@127.0.0.1:5432/{name}"


# --- databases -----------------------------------------------------------------------------------


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3):
            return True
    except Exception:
        return False


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


class _Databases:
    """Makes fresh migrated databases of one backend and removes them afterwards."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.engines: list[Engine] = []
        self.pg_names: list[str] = []

    def new(self) -> Engine:
        if self.backend == "sqlite":
            url = f"sqlite:///{self.tmp_path / f'demo{len(self.engines)}.sqlite3'}"
        else:
            name = f"desk_demo_test_{uuid.uuid4().hex[:12]}"
            _pg_admin(f'CREATE DATABASE "{name}"')
            self.pg_names.append(name)
            url = PG_URL.format(name=name)
        engine = make_engine(url)
        self.engines.append(engine)
        upgrade(engine)
        return engine

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()
        for name in self.pg_names:
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ],
    scope="module",
)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not _pg_available():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    return str(request.param)


@pytest.fixture(scope="module")
def databases(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Databases]:
    dbs = _Databases(backend, tmp_path_factory.mktemp(f"demo-{backend}"))
    yield dbs
    dbs.close()


@pytest.fixture(scope="module")
def demo(databases: _Databases) -> Engine:
    """One 200-case demo organisation per backend, shared by the read-only checks."""
    engine = databases.new()
    calls: list[tuple[int, int]] = []
    summary = generate_demo(
        engine, cases=200, seed=7, today=TODAY, progress=lambda d, t: calls.append((d, t))
    )
    assert summary.cases_added == 200
    assert summary.customers_added >= 50
    assert calls and calls[-1] == (200, 200)
    return engine


def _counters(conn: Connection) -> dict[int, int]:
    rows = conn.execute(select(ReferenceCounter.year, ReferenceCounter.last_number)).all()
    return {int(year): int(last) for year, last in rows}


def _cases(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(Case.__table__).order_by(Case.id)))


# --- checks --------------------------------------------------------------------------------------


def test_every_status_channel_and_kind_is_present(demo: Engine) -> None:
    rows = _cases(demo)
    assert len(rows) == 200
    assert {r.status for r in rows} == {s.value for s in CaseStatus}
    assert {r.channel for r in rows} == {c.value for c in Channel}
    assert {r.kind for r in rows} == {k.value for k in CaseKind}
    assert {r.priority for r in rows} <= {p.value for p in Priority}
    for r in rows:
        if r.channel == Channel.SOCIAL_MEDIA:
            assert r.social_platform and r.social_post_url.startswith("https://")
        if r.status == CaseStatus.CLOSED:
            assert r.closed_at is not None and r.resolution and r.resolution_method
        elif r.status == CaseStatus.RESOLVED:
            assert r.closed_at is None and r.resolution and r.resolution_method
        else:
            assert r.closed_at is None and not r.resolution and r.resolution_method is None
        assert r.version == 1
        assert r.assigned_officer_id is not None or r.assigned_team_id is not None


def test_references_are_unique_ordered_and_counters_match(demo: Engine) -> None:
    rows = _cases(demo)
    references = [r.reference for r in rows]
    assert len(set(references)) == len(references)
    by_year: dict[int, list[tuple[dt.datetime, int]]] = {}
    for r in rows:
        match = REFERENCE_PATTERN.match(r.reference)
        assert match, r.reference
        assert int(match.group(1)) == r.opened_at.year
        by_year.setdefault(r.opened_at.year, []).append((r.opened_at, int(match.group(2))))
    with demo.connect() as conn:
        counters = _counters(conn)
    assert set(counters) == set(by_year)
    for year, pairs in by_year.items():
        numbers = [n for _, n in sorted(pairs)]
        assert numbers == list(range(1, len(numbers) + 1))  # numbered in opened_at order
        assert counters[year] == len(numbers)


def test_dates_are_in_the_past_two_years_and_utc(demo: Engine) -> None:
    end = dt.datetime.combine(TODAY, dt.time(0), tzinfo=dt.UTC)
    for r in _cases(demo):
        assert end - dt.timedelta(days=731) <= r.opened_at < end
        assert r.opened_at <= r.updated_at <= end
        if r.closed_at is not None:
            assert r.opened_at <= r.closed_at <= end
        if r.customer_confirmed:
            assert r.customer_confirmed_at is not None


def test_next_steps_promise_nothing(demo: Engine) -> None:
    for r in _cases(demo):
        assert r.next_steps
        assert find_promises(r.next_steps) == [], r.next_steps


def test_every_case_passes_validation_and_search_text_matches(demo: Engine) -> None:
    with demo.connect() as conn:
        txns: dict[int, list[Any]] = {}
        for t in conn.execute(
            select(CaseTransaction.__table__).order_by(
                CaseTransaction.case_id, CaseTransaction.position
            )
        ):
            txns.setdefault(t.case_id, []).append(t)
        customers = {c.id: c for c in conn.execute(select(Customer.__table__))}
    billing_with_txns = 0
    for r in _cases(demo):
        case_txns = txns.get(r.id, [])
        billing_with_txns += bool(case_txns)
        details = CaseDetails(
            customer_id=r.customer_id,
            kind=CaseKind(r.kind),
            channel=Channel(r.channel),
            priority=Priority(r.priority),
            category_id=r.category_id,
            subcategory_id=r.subcategory_id,
            customer_words=r.customer_words,
            customer_expectation=r.customer_expectation,
            officer_understanding=r.officer_understanding,
            customer_confirmed=r.customer_confirmed,
            social_platform=r.social_platform,
            social_handle=r.social_handle,
            social_post_url=r.social_post_url,
            transactions=tuple(
                TransactionReference(t.reference, t.amount_minor, t.occurred_on) for t in case_txns
            ),
            actions_agreed=r.actions_agreed,
            next_steps=r.next_steps,
            customer_comfortable=r.customer_comfortable,
            root_cause=r.root_cause,
            resolution=r.resolution,
            resolution_method=ResolutionMethod(r.resolution_method)
            if r.resolution_method
            else None,
        )
        assert details.validate(today=TODAY) == details  # already normalised
        customer = customers[r.customer_id]
        assert r.search_text == build_search_text(
            reference=r.reference,
            customer_name=customer.full_name,
            customer_number=customer.customer_number or "",
            identifiers=[i for i in (customer.national_id, customer.account_number) if i],
            phone=customer.phone,
            texts=[
                r.customer_words,
                r.customer_expectation,
                r.officer_understanding,
                r.actions_agreed,
                r.next_steps,
                r.resolution,
                r.root_cause,
            ],
            transaction_refs=[t.reference for t in case_txns],
        )
    assert billing_with_txns >= 20


def test_timeline_has_a_created_event_for_every_case(demo: Engine) -> None:
    with demo.connect() as conn:
        case_ids = set(conn.execute(select(Case.id)).scalars())
        events = list(conn.execute(select(CaseEvent.__table__)))
    created = [e.case_id for e in events if e.kind == EventKind.CREATED]
    assert sorted(created) == sorted(case_ids)
    assert {e.kind for e in events} >= {
        EventKind.CREATED.value,
        EventKind.STATUS_CHANGED.value,
        EventKind.CONTACT.value,
        EventKind.CUSTOMER_UPDATE.value,
    }
    assert len({e.uuid for e in events}) == len(events)


def test_customers_are_diverse_and_well_formed(demo: Engine) -> None:
    with demo.connect() as conn:
        customers = list(conn.execute(select(Customer.__table__)))
    assert len(customers) >= 50
    numbers = [c.customer_number for c in customers]
    assert len(set(numbers)) == len(numbers)
    assert all(n and n.isdigit() and 6 <= len(n) <= 10 for n in numbers)
    for c in customers:
        assert c.name_key == c.full_name.casefold()
        assert c.phone_digits == "".join(ch for ch in c.phone if ch.isdigit())
        assert c.phone.startswith("+1 555 01")
        if c.national_id:
            assert c.national_id.isalnum() and c.national_id.isupper()
            assert 6 <= len(c.national_id) <= 20
        if c.account_number:
            assert c.account_number.isdigit() and 6 <= len(c.account_number) <= 16
        if c.preferred_contact_method == "email":
            assert c.email
    names = [c.full_name for c in customers]
    assert any(not n.isascii() for n in names)
    assert any(unicodedata.bidirectional(ch) in ("R", "AL") for n in names for ch in n)
    assert sum(1 for c in customers if c.national_id) > len(customers) / 2


def test_staff_chain_and_demo_logins(demo: Engine) -> None:
    from argon2 import PasswordHasher

    with demo.connect() as conn:
        staff = list(
            conn.execute(
                select(Staff.__table__, Role.name.label("role_name"), Role.rank).join(
                    Role, Role.id == Staff.role_id
                )
            )
        )
        settings = dict(conn.execute(select(Setting.key, Setting.value)).all())
    assert settings["demo"] == "1"
    assert settings["organisation_name"] and settings["currency_code"]
    by_id = {s.id: s for s in staff}
    centres = {s.centre_id for s in staff}
    assert 3 <= len(centres) <= 4
    for centre in centres:
        assert {s.rank for s in staff if s.centre_id == centre} == {1, 2, 3, 4, 5}
    for s in staff:
        assert s.db_role is None
        if s.rank <= 2:
            assert by_id[s.supervisor_id].rank == 3
        if s.rank == 3:
            assert by_id[s.supervisor_id].rank == 4
    logins = demo_logins(demo)
    assert logins == [
        ("officer", "demo", "Counter Officer"),
        ("senior", "demo", "Senior Officer"),
        ("supervisor", "demo", "Supervisor"),
        ("manager", "demo", "Manager"),
        ("admin", "demo", "Administrator"),
    ]
    first_centre = by_id[next(s.id for s in staff if s.username == "officer")].centre_id
    hasher = PasswordHasher()
    for username, password, _role in logins:
        member = next(s for s in staff if s.username == username)
        assert member.centre_id == first_centre
        assert member.password_hash.startswith("$argon2id$")
        assert hasher.verify(member.password_hash, password)


def test_same_seed_gives_the_same_demo(demo: Engine, databases: _Databases) -> None:
    other = databases.new()
    generate_demo(other, cases=200, seed=7, today=TODAY)

    def fingerprint(engine: Engine) -> list[tuple[Any, ...]]:
        with engine.connect() as conn:
            return [
                tuple(row)
                for row in conn.execute(
                    select(
                        Case.reference,
                        Case.uuid,
                        Case.customer_words,
                        Case.status,
                        Customer.full_name,
                        Customer.customer_number,
                    )
                    .join(Customer, Customer.id == Case.customer_id)
                    .order_by(Case.id)
                )
            ]

    assert fingerprint(other) == fingerprint(demo)
    third = databases.new()
    generate_demo(third, cases=50, seed=8, today=TODAY)
    assert fingerprint(third)[:50] != fingerprint(demo)[:50]


def test_adding_cases_continues_numbering(databases: _Databases) -> None:
    engine = databases.new()
    generate_demo(engine, cases=120, seed=3, today=TODAY)
    with engine.connect() as conn:
        before = _counters(conn)
        refs_before = set(conn.execute(select(Case.reference)).scalars())
        staff_before = conn.execute(select(func.count()).select_from(Staff.__table__)).scalar_one()
    summary = generate_demo(engine, cases=80, seed=3, today=TODAY)
    assert summary.cases_added == 80
    with engine.connect() as conn:
        after = _counters(conn)
        refs = list(conn.execute(select(Case.reference)).scalars())
        staff_after = conn.execute(select(func.count()).select_from(Staff.__table__)).scalar_one()
    assert staff_after == staff_before  # the organisation is not created twice
    assert len(refs) == len(set(refs)) == 200
    assert refs_before <= set(refs)
    for year, last in after.items():
        numbers = sorted(
            int(REFERENCE_PATTERN.match(r).group(2))  # type: ignore[union-attr]
            for r in refs
            if r.startswith(f"C-{year}-")
        )
        assert numbers == list(range(1, last + 1))
        assert last >= before.get(year, 0)
    assert sum(after.values()) == 200
    # The ids the demo chose leave the database able to take a real case next.
    with engine.begin() as conn:
        source = conn.execute(select(Case.__table__).limit(1)).mappings().one()
        row = {k: v for k, v in source.items() if k not in ("id", "search_vector")}
        row.update(reference="C-2099-000001", uuid=uuid.uuid4())
        new_id = conn.execute(insert(Case).values(**row).returning(Case.id)).scalar_one()
        assert new_id > source["id"]
        conn.rollback()


def test_demo_logins_empty_on_a_real_database(databases: _Databases) -> None:
    engine = databases.new()
    assert demo_logins(engine) == []


def test_a_failed_batch_is_reported_not_swallowed(databases: _Databases) -> None:
    from sqlalchemy import delete
    from sqlalchemy.exc import IntegrityError

    engine = databases.new()
    generate_demo(engine, cases=60, seed=5, today=TODAY)
    with engine.begin() as conn:  # forget the counters: the next references collide
        conn.execute(delete(ReferenceCounter))
    with pytest.raises(IntegrityError):
        generate_demo(engine, cases=60, seed=5, today=TODAY)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Case.__table__)).scalar_one() == 60
