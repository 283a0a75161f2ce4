"""The supervisor inbox's first page with 100,000 pending requests among 1,000,000 cases.

Application side: ``Desk.open`` → ``login("supervisor", "demo")`` (the supervisor's own login
role, so the row-level policies apply) → ``desk.inbox.page(InboxQuery())``. Floor: the very
statement the service runs, compiled to SQL text, on the bare psycopg driver as the same login
role (so the policies cost both sides alike) — what is measured is the service's own overhead.

    python -m bench.bench_inbox --database desk_bench_1m --pending 100000 --runs 30

Needs the 1,000,000-case database of ``bench.bench_case_list`` (``--reuse`` keeps it). The
requests are added once, as the owner (the authority trigger lets the owner write), spread over
the organisation's supervisors and managers and the centres' pools. Never part of the test run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import psycopg

from desk.adapters.database import make_engine, upgrade

SERVER = "postgresql://{user}@127.0.0.1:5432/{db}"
USERNAME, PASSWORD = "supervisor", "demo"


def add_pending(db: str, wanted: int) -> int:
    """Make sure ``wanted`` pending requests exist; returns how many there are."""
    with psycopg.connect(SERVER.format(user="postgres", db=db), autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM approval_requests WHERE status = 'pending'")
        count = int(have.fetchone()[0])  # type: ignore[index]
        if count >= wanted:
            return count
        missing = wanted - count
        print(f"adding {missing:,} pending requests…", flush=True)
        # Deciders: supervisors and managers; every tenth request waits in a centre's pool.
        conn.execute(
            """
            WITH deciders AS (
                SELECT s.id, row_number() OVER (ORDER BY s.id) - 1 AS n, count(*) OVER () AS total
                FROM staff s JOIN roles r ON r.id = s.role_id
                WHERE r.name IN ('Supervisor', 'Manager') AND s.active
            ), picked AS (
                SELECT c.id AS case_id, c.customer_id, c.created_by_id,
                       row_number() OVER (ORDER BY random()) AS k
                FROM cases c
                WHERE NOT EXISTS (SELECT 1 FROM approval_requests a WHERE a.case_id = c.id)
                LIMIT %(missing)s
            )
            INSERT INTO approval_requests (uuid, case_id, customer_id, kind_id, amount_minor,
                reason, recommendation, alternatives_offered, evidence, status, requested_by_id,
                requested_at, assigned_to_id, decision_reason, version)
            SELECT gen_random_uuid(), p.case_id, p.customer_id,
                   (SELECT id FROM request_kinds ORDER BY id LIMIT 1 OFFSET (p.k %% 3)),
                   1000 + (p.k * 7919) %% 400000, 'Benchmark request', '', '', '', 'pending',
                   p.created_by_id, now() - make_interval(mins => (p.k %% 20000)::int),
                   CASE WHEN p.k %% 10 = 0 THEN NULL
                        ELSE (SELECT d.id FROM deciders d WHERE d.n = p.k %% d.total) END,
                   '', 1
            FROM picked p
            """,
            {"missing": missing},
        )
        conn.execute("ANALYZE approval_requests")
        have = conn.execute("SELECT count(*) FROM approval_requests WHERE status = 'pending'")
        return int(have.fetchone()[0])  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="desk_bench_1m")
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from desk.adapters.pg_roles import create_login_role
    from desk.bootstrap import Desk
    from desk.services.inbox import InboxQuery

    url = SERVER.format(user="postgres", db=args.database)
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.begin() as conn:
            create_login_role(conn, USERNAME, PASSWORD)
    finally:
        engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        # A kept database migrated to 0006 before the inbox index and jit=off joined 0006.
        conn.execute(
            "CREATE INDEX IF NOT EXISTS ix_approval_requests_assignee_pending ON approval_requests "
            "(assigned_to_id, requested_at, id) WHERE status = 'pending'"
        )
        conn.execute(
            "CREATE INDEX IF NOT EXISTS ix_approval_requests_assigned_case ON approval_requests "
            "(assigned_to_id, case_id)"
        )
        conn.execute(f'ALTER DATABASE "{args.database}" SET jit = off')
    pending = add_pending(args.database, args.pending)

    desk = Desk.open(url, upgrade=False)
    desk.login(USERNAME, PASSWORD)
    query = InboxQuery()
    statement = desk.inbox._page_statement(query, query.page_size, paged=False)
    from sqlalchemy.dialects import postgresql

    compiled = statement.compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    sql = str(compiled)
    raw: Any = psycopg.connect(
        SERVER.format(user=f"{args.database}__{USERNAME}", db=args.database), autocommit=True
    )

    def app() -> list[int]:
        return [item.id for item in desk.inbox.page(query).items]

    def floor() -> list[int]:
        return [int(row[0]) for row in raw.execute(sql).fetchall()][: query.page_size]

    for _ in range(3):
        app_ids, floor_ids = app(), floor()
    if app_ids != floor_ids:
        raise SystemExit("the floor returns other rows than the inbox")
    app_ms: list[float] = []
    floor_ms: list[float] = []
    for _ in range(args.runs):
        start = time.perf_counter()
        floor()
        floor_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        app()
        app_ms.append((time.perf_counter() - start) * 1000)
    raw.close()
    desk.close()

    def p(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1]

    ratio = statistics.median(app_ms) / statistics.median(floor_ms)
    print(
        f"inbox first page ({pending:,} pending, {len(app_ids)} rows for {USERNAME}): "
        f"app p50 {statistics.median(app_ms):.2f} p95 {p(app_ms, 95):.2f} ms | "
        f"floor p50 {statistics.median(floor_ms):.2f} p95 {p(floor_ms, 95):.2f} ms | "
        f"ratio {ratio:.2f}× (target ≤ 2× and p95 < 100 ms: "
        f"{'met' if ratio <= 2 and p(app_ms, 95) < 100 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
