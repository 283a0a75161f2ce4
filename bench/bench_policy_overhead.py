"""What the row-level policy costs a staff query: the officer's first-page query against the
owner's (who is not subject to the policy), on the bare driver, interleaved.

    python -m bench.bench_policy_overhead --database desk_bench_1m --runs 300

Needs the benchmark database of ``bench.bench_case_list`` (its officer login role included).
Never part of the test run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg

SQL = (
    "SELECT c.id FROM cases c WHERE c.centre_id = %s::bigint "
    "ORDER BY c.opened_at DESC, c.id DESC LIMIT 101"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="desk_bench_1m")
    parser.add_argument("--server", default="postgresql://{user}@127.0.0.1:5432/{db}")
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    users = {"owner": "postgres", "officer": f"{args.database}__officer"}
    connections = {
        who: psycopg.connect(args.server.format(user=user, db=args.database), autocommit=True)
        for who, user in users.items()
    }
    times: dict[str, list[float]] = {who: [] for who in users}
    try:
        for conn in connections.values():
            for _ in range(20):  # warm-up: caches, prepared statements, the functions' plans
                conn.execute(SQL, (1,)).fetchall()
        for _ in range(args.runs):
            for who, conn in connections.items():
                start = time.perf_counter()
                conn.execute(SQL, (1,)).fetchall()
                times[who].append((time.perf_counter() - start) * 1000)
    finally:
        for conn in connections.values():
            conn.close()
    for who, values in times.items():
        print(f"{who:>8}: p50 {statistics.median(values):.3f} ms")


if __name__ == "__main__":
    main()
