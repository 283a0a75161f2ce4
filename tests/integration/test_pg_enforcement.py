"""On the shared PostgreSQL database the database itself is the authority: a staff member connected
with their own login (psql, a modified client) still cannot go beyond their role.

Every attempt here is plain SQL over psycopg as a real staff login role, as a person bypassing the
application would try it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.adapters.pg_roles import login_role_name
from desk.domain.authority import GrantRequest, RoleLimit, decide_authority
from tests.conftest import PostgresServer, _prepare_demo_database

REFUSED = (psycopg.errors.InsufficientPrivilege, psycopg.errors.RaiseException)


@pytest.fixture(scope="module")
def database(postgres: PostgresServer) -> Iterator[str]:
    """A private demo database: these tests write grants that would disturb shared ones."""
    name = postgres.create_database("desk_test_enforce")
    _prepare_demo_database(postgres.url(name), login_roles=True)
    yield name
    postgres.drop_database(name)


def _connect(postgres: PostgresServer, database: str, user: str | None) -> psycopg.Connection[Any]:
    url = postgres.admin_url
    role = login_role_name(database, user) if user else url.username
    return psycopg.connect(
        host=url.host, port=url.port or 5432, user=role, dbname=database, autocommit=True
    )


@pytest.fixture(scope="module")
def owner(postgres: PostgresServer, database: str) -> Iterator[psycopg.Connection[Any]]:
    with _connect(postgres, database, None) as conn:
        yield conn


@pytest.fixture
def login(postgres: PostgresServer, database: str) -> Iterator[Any]:
    opened: list[psycopg.Connection[Any]] = []

    def connect(username: str) -> psycopg.Connection[Any]:
        conn = _connect(postgres, database, username)
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        conn.close()


def _one(conn: psycopg.Connection[Any], sql: str, *args: Any) -> Any:
    row = conn.execute(sql, args).fetchone()
    assert row is not None
    return row[0]


def _staff(owner: psycopg.Connection[Any], username: str) -> tuple[int, int]:
    row = owner.execute(
        "SELECT id, centre_id FROM staff WHERE username = %s", (username,)
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _kind(owner: psycopg.Connection[Any], code: str) -> int:
    return int(_one(owner, "SELECT id FROM request_kinds WHERE code = %s", code))


def _fresh_case(owner: psycopg.Connection[Any], username: str) -> tuple[int, int]:
    """A case of a new customer at the person's centre: (case id, customer id)."""
    staff_id, centre_id = _staff(owner, username)
    customer_id = _one(
        owner,
        "INSERT INTO customers (uuid, full_name, name_key, customer_number, phone, phone_digits, "
        "email, address, preferred_language, created_at) VALUES (%s, 'Test Customer', "
        "'test customer', NULL, '', '', '', '', 'en', now()) RETURNING id",
        uuid.uuid4(),
    )
    reference = f"T-{uuid.uuid4().hex[:12]}"
    case_id = _one(
        owner,
        "INSERT INTO cases (uuid, reference, version, kind, channel, social_platform, "
        "social_handle, social_post_url, priority, status, centre_id, customer_id, "
        "assigned_officer_id, created_by_id, customer_words, customer_expectation, "
        "officer_understanding, customer_confirmed, root_cause, actions_agreed, next_steps, "
        "resolution, opened_at, updated_at, search_text) VALUES (%s, %s, 1, 'complaint', "
        "'walk_in', '', '', '', 'normal', 'new', %s, %s, %s, %s, 'words', '', '', false, '', '', "
        "'', '', now(), now(), '') RETURNING id",
        uuid.uuid4(),
        reference,
        centre_id,
        customer_id,
        staff_id,
        staff_id,
    )
    return int(case_id), int(customer_id)


def _grant_sql(status: str = "granted") -> str:
    return (
        "INSERT INTO approval_requests (uuid, case_id, customer_id, kind_id, amount_minor, "
        "reason, recommendation, alternatives_offered, evidence, status, requested_by_id, "
        "requested_at, decided_by_id, decided_amount_minor, decision_reason, version) "
        f"VALUES (%s, %s, %s, %s, %s, 'r', '', '', '', '{status}', %s, now(), %s, %s, '', 1) "
        "RETURNING id"
    )


def _grant(
    conn: psycopg.Connection[Any],
    *,
    case: tuple[int, int],
    kind: int,
    amount: int,
    staff_id: int,
    decided_by: int | None = None,
) -> int:
    decided_by = staff_id if decided_by is None else decided_by
    return int(
        _one(
            conn,
            _grant_sql(),
            uuid.uuid4(),
            case[0],
            case[1],
            kind,
            amount,
            staff_id,
            decided_by,
            amount,
        )
    )


def _request(
    conn: psycopg.Connection[Any], *, case: tuple[int, int], kind: int, amount: int, staff_id: int
) -> int:
    return int(
        _one(
            conn,
            _grant_sql("pending"),
            uuid.uuid4(),
            case[0],
            case[1],
            kind,
            amount,
            staff_id,
            None,
            None,
        )
    )


def test_an_officer_grants_a_small_waiver_on_the_spot(owner: Any, login: Any) -> None:
    officer_id, _ = _staff(owner, "officer")
    case = _fresh_case(owner, "officer")
    grant = _grant(
        login("officer"), case=case, kind=_kind(owner, "waiver"), amount=2_000, staff_id=officer_id
    )
    assert _one(owner, "SELECT status FROM approval_requests WHERE id = %s", grant) == "granted"


def test_the_database_refuses_a_waiver_above_the_officers_limit(owner: Any, login: Any) -> None:
    officer_id, _ = _staff(owner, "officer")
    case = _fresh_case(owner, "officer")
    with pytest.raises(REFUSED, match="Above your authority"):
        _grant(
            login("officer"),
            case=case,
            kind=_kind(owner, "waiver"),
            amount=5_001,
            staff_id=officer_id,
        )


def test_splitting_a_waiver_into_small_grants_stops_at_the_limit(owner: Any, login: Any) -> None:
    officer_id, _ = _staff(owner, "officer")
    case = _fresh_case(owner, "officer")
    conn = login("officer")
    waiver = _kind(owner, "waiver")
    for _ in range(2):
        _grant(conn, case=case, kind=waiver, amount=2_500, staff_id=officer_id)
    with pytest.raises(REFUSED, match="already received 5000"):
        _grant(conn, case=case, kind=waiver, amount=1, staff_id=officer_id)


def test_grants_outside_the_rolling_window_do_not_count(owner: Any, login: Any) -> None:
    officer_id, _ = _staff(owner, "officer")
    case = _fresh_case(owner, "officer")
    waiver = _kind(owner, "waiver")
    old = _grant(owner, case=case, kind=waiver, amount=5_000, staff_id=officer_id)
    owner.execute(
        "UPDATE approval_requests SET decided_at = now() - interval '400 days' WHERE id = %s",
        (old,),
    )
    _grant(login("officer"), case=case, kind=waiver, amount=5_000, staff_id=officer_id)


def test_nobody_decides_their_own_request(owner: Any, login: Any) -> None:
    supervisor_id, _ = _staff(owner, "supervisor")
    case = _fresh_case(owner, "supervisor")
    conn = login("supervisor")
    request = _request(
        conn, case=case, kind=_kind(owner, "waiver"), amount=100, staff_id=supervisor_id
    )
    with pytest.raises(REFUSED, match="own request"):
        conn.execute(
            "UPDATE approval_requests SET status = 'approved', decided_by_id = %s, "
            "decided_amount_minor = 100 WHERE id = %s",
            (supervisor_id, request),
        )


def test_a_supervisor_decides_an_officers_request_within_their_own_limit(
    owner: Any, login: Any
) -> None:
    officer_id, _ = _staff(owner, "officer")
    supervisor_id, _ = _staff(owner, "supervisor")
    case = _fresh_case(owner, "officer")
    waiver = _kind(owner, "waiver")
    small = _request(login("officer"), case=case, kind=waiver, amount=80_000, staff_id=officer_id)
    large = _request(login("officer"), case=case, kind=waiver, amount=90_000, staff_id=officer_id)
    supervisor = login("supervisor")
    supervisor.execute(
        "UPDATE approval_requests SET status = 'approved', decided_by_id = %s, "
        "decided_amount_minor = amount_minor WHERE id = %s",
        (supervisor_id, small),
    )
    with pytest.raises(REFUSED, match="Above your authority"):  # 80,000 + 90,000 > 100,000
        supervisor.execute(
            "UPDATE approval_requests SET status = 'approved', decided_by_id = %s, "
            "decided_amount_minor = amount_minor WHERE id = %s",
            (supervisor_id, large),
        )
    # A decision is never changed afterwards, not even by the person who took it.
    with pytest.raises(REFUSED, match="already approved"):
        supervisor.execute(
            "UPDATE approval_requests SET decided_amount_minor = 1 WHERE id = %s", (small,)
        )


def test_an_officer_cannot_decide_requests_or_record_a_decision_in_anothers_name(
    owner: Any, login: Any
) -> None:
    officer_id, _ = _staff(owner, "officer")
    senior_id, _ = _staff(owner, "senior")
    case = _fresh_case(owner, "senior")
    request = _request(
        login("senior"), case=case, kind=_kind(owner, "waiver"), amount=100, staff_id=senior_id
    )
    officer = login("officer")
    owner.execute("UPDATE cases SET centre_id = centre_id WHERE id = %s", (case[0],))
    with pytest.raises(REFUSED):
        officer.execute(
            "UPDATE approval_requests SET status = 'approved', decided_by_id = %s, "
            "decided_amount_minor = 100 WHERE id = %s",
            (officer_id, request),
        )
    with pytest.raises(REFUSED, match="in the name of the person"):
        _grant(
            officer,
            case=_fresh_case(owner, "officer"),
            kind=_kind(owner, "waiver"),
            amount=100,
            staff_id=officer_id,
            decided_by=_staff(owner, "manager")[0],
        )
    with pytest.raises(REFUSED):
        officer.execute("DELETE FROM approval_requests WHERE id = %s", (request,))


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO role_permissions (role_id, permission) "
        "SELECT role_id, 'view_all_cases' FROM staff WHERE username = 'officer'",
        "UPDATE authority_limits SET limit_minor = 99999999",
        "DELETE FROM role_permissions",
        "UPDATE roles SET name = name || ' (changed)'",
        "UPDATE staff SET role_id = (SELECT id FROM roles WHERE name = 'Manager') "
        "WHERE username = 'officer'",
        "INSERT INTO request_kinds (code, label, grant_permission, active) "
        "VALUES ('bribe', 'Bribe', 'grant_claims', true)",
        "UPDATE settings SET value = '1' WHERE key = 'grant_window_days'",
    ],
)
def test_an_officer_cannot_change_roles_permissions_limits_or_staff(
    login: Any, statement: str
) -> None:
    with pytest.raises(REFUSED, match="needs the permission"):
        login("officer").execute(statement)


def test_an_admin_may_change_limits(owner: Any, login: Any) -> None:
    admin = login("admin")
    admin.execute(
        "UPDATE authority_limits SET limit_minor = limit_minor WHERE role_id = "
        "(SELECT id FROM roles WHERE name = 'Counter Officer')"
    )


def test_an_officer_reads_only_the_cases_of_their_centre(owner: Any, login: Any) -> None:
    _, centre_id = _staff(owner, "officer")
    total = _one(owner, "SELECT count(*) FROM cases")
    elsewhere = _one(owner, "SELECT count(*) FROM cases WHERE centre_id <> %s", centre_id)
    assert elsewhere > 0
    officer = login("officer")
    seen_elsewhere = _one(
        officer,
        "SELECT count(*) FROM cases WHERE centre_id <> %s AND created_by_id <> "
        "(SELECT id FROM staff WHERE username = 'officer') AND (assigned_officer_id IS NULL OR "
        "assigned_officer_id <> (SELECT id FROM staff WHERE username = 'officer'))",
        centre_id,
    )
    assert seen_elsewhere == 0
    assert _one(officer, "SELECT count(*) FROM cases") < total
    # Their timeline lines are hidden too, and an update of an unseen case changes nothing.
    other_case = _one(owner, "SELECT min(id) FROM cases WHERE centre_id <> %s", centre_id)
    assert _one(officer, "SELECT count(*) FROM case_events WHERE case_id = %s", other_case) == 0
    updated = officer.execute(
        "UPDATE cases SET resolution = 'tampered' WHERE id = %s", (other_case,)
    ).rowcount
    assert updated == 0
    # A manager (view all cases) sees every centre.
    assert _one(login("manager"), "SELECT count(*) FROM cases") == total


def test_an_officer_cannot_move_a_case_out_of_their_scope(owner: Any, login: Any) -> None:
    _, centre_id = _staff(owner, "officer")
    case_id, _ = _fresh_case(owner, "supervisor")  # same centre, someone else's
    other_centre = _one(owner, "SELECT min(id) FROM service_centres WHERE id <> %s", centre_id)
    owner.execute(
        "UPDATE cases SET created_by_id = %s WHERE id = %s",
        (_staff(owner, "supervisor")[0], case_id),
    )
    with pytest.raises(REFUSED):
        login("officer").execute(
            "UPDATE cases SET centre_id = %s, assigned_officer_id = NULL WHERE id = %s",
            (other_centre, case_id),
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET details = '{}'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
def test_nobody_alters_the_audit_trail(login: Any, statement: str) -> None:
    with pytest.raises((*REFUSED, psycopg.errors.InsufficientPrivilege)):
        login("admin").execute(statement)


# --- The Python rule and the database rule agree ------------------------------------------------

ROLE_OF = {"officer": "Counter Officer", "senior": "Senior Officer", "supervisor": "Supervisor"}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    username=st.sampled_from(sorted(ROLE_OF)),
    limit=st.integers(min_value=0, max_value=20_000),
    history=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=8_000), st.integers(min_value=0, max_value=500)
        ),
        max_size=4,
    ),
    amount=st.integers(min_value=0, max_value=20_000),
    window_days=st.sampled_from([30, 365]),
)
def test_the_python_rule_and_the_database_rule_agree(
    owner: Any,
    login: Any,
    username: str,
    limit: int,
    history: list[tuple[int, int]],
    amount: int,
    window_days: int,
) -> None:
    """Generated cases: role, limit, the customer's earlier grants (amount, days ago), amount."""
    staff_id, _ = _staff(owner, username)
    role = ROLE_OF[username]
    claim = _kind(owner, "claim")
    owner.execute(
        "UPDATE authority_limits SET limit_minor = %s WHERE kind_id = %s AND role_id = "
        "(SELECT id FROM roles WHERE name = %s)",
        (limit, claim, role),
    )
    owner.execute(
        "UPDATE settings SET value = %s WHERE key = 'grant_window_days'", (str(window_days),)
    )
    case = _fresh_case(owner, username)
    for earlier, days_ago in history:
        grant = _grant(owner, case=case, kind=claim, amount=earlier, staff_id=staff_id)
        owner.execute(
            "UPDATE approval_requests SET decided_at = now() - make_interval(days => %s) "
            "WHERE id = %s",
            (days_ago, grant),
        )
    prior = sum(a for a, days_ago in history if days_ago < window_days)
    verdict = decide_authority(
        GrantRequest("claim", amount, staff_id, role, prior_total_minor=prior),
        [RoleLimit(role, 1, {"claim": limit})],
    )
    try:
        _grant(login(username), case=case, kind=claim, amount=amount, staff_id=staff_id)
        allowed = True
    except REFUSED:
        allowed = False
    assert allowed == verdict.allowed, (limit, prior, amount, verdict.reason)


def test_decisions_record_the_servers_time(owner: Any, login: Any) -> None:
    officer_id, _ = _staff(owner, "officer")
    case = _fresh_case(owner, "officer")
    conn = login("officer")
    grant = _one(
        conn,
        _grant_sql().replace("now(), %s, %s", "'2001-01-01', %s, %s"),
        uuid.uuid4(),
        case[0],
        case[1],
        _kind(owner, "waiver"),
        100,
        officer_id,
        officer_id,
        100,
    )
    requested_at, decided_at = owner.execute(
        "SELECT requested_at, decided_at FROM approval_requests WHERE id = %s", (grant,)
    ).fetchone()
    assert requested_at.year >= 2026 and decided_at.year >= 2026
    assert abs(decided_at - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)


def test_a_staff_search_can_use_the_text_index_under_row_level_security(login: Any) -> None:
    """The policy must not stop the search from using its index (a full scan of a million
    cases otherwise); a plan, not a time, is what this checks."""
    officer = login("officer")
    officer.execute("SET enable_seqscan = off")
    plan = "\n".join(
        row[0]
        for row in officer.execute(
            "EXPLAIN SELECT id FROM cases WHERE search_vector @@ to_tsquery('simple', 'bill:*')"
        )
    )
    assert "ix_cases_search_vector" in plan, plan
