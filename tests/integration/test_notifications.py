"""News of a change reaches other clients without any user action: on PostgreSQL through
LISTEN/NOTIFY, on the embedded database by a light poll. Tested across two processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from desk.adapters.notifications import CONFIGURATION, REQUESTS, Listener, Notification

ROOT = Path(__file__).resolve().parents[2]

OTHER_CLIENT = """
import sys
from desk.bootstrap import Desk
from tests.integration.test_cases_service import new_customer, walk_in_case

desk = Desk.open(sys.argv[1])
desk.login("officer", "demo")
customer = new_customer(desk)
case = desk.cases.create(walk_in_case(desk, customer.id, "Fee charged twice"))
request = desk.grants.request(case.id, "waiver", 90_000, "Charged twice by the new system")
print(request.id)
desk.close()
"""


class Inbox:
    def __init__(self) -> None:
        self.received: list[Notification] = []
        self.arrived = threading.Condition()

    def deliver(self, note: Notification) -> None:
        with self.arrived:
            self.received.append(note)
            self.arrived.notify_all()

    def wait_for(self, predicate: Any, timeout: float = 15.0) -> Notification:
        with self.arrived:
            self.arrived.wait_for(lambda: any(predicate(n) for n in self.received), timeout)
            found = [n for n in self.received if predicate(n)]
        assert found, f"nothing arrived; got {self.received}"
        return found[0]


def test_a_request_made_in_another_process_is_heard(desk: Any, database_url: str) -> None:
    inbox = Inbox()
    listener = Listener(desk.engine, inbox.deliver).start()
    try:
        assert listener.wait_ready()
        done = subprocess.run(
            [sys.executable, "-c", OTHER_CLIENT, database_url],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        request_id = int(done.stdout.strip().splitlines()[-1])
        note = inbox.wait_for(lambda n: n.channel == REQUESTS)
        if desk.backend == "postgresql":  # the notification says which request and for whom
            note = inbox.wait_for(lambda n: n.payload.get("id") == request_id)
            assert note.payload["status"] == "pending" and note.payload["assigned_to"]
    finally:
        listener.stop()


def test_a_change_of_limits_is_heard(desk_factory: Any) -> None:
    officer = desk_factory("officer")
    admin = desk_factory("admin")
    inbox = Inbox()
    listener = Listener(officer.engine, inbox.deliver).start()
    try:
        assert listener.wait_ready()
        admin.admin.set_limit("Counter Officer", "refund", "100.01")
        inbox.wait_for(lambda n: n.channel == CONFIGURATION)
    finally:
        admin.admin.set_limit("Counter Officer", "refund", "100")
        listener.stop()
