"""The door between widgets and services: off the GUI thread, errors routed by kind."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from desk.domain.validation import ValidationError
from desk.services.errors import NotFound
from ui.operations import Operations, is_user_error


class FakeDesk:
    """Records which thread each call ran on; the window must never call it on its own."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def where(self) -> str:
        self.threads.append(threading.current_thread().name)
        return threading.current_thread().name

    def close(self) -> None:
        self.threads.append("closed")


@pytest.fixture
def fake_ops(qtbot: QtBot) -> Any:
    desk = FakeDesk()
    operations = Operations(desk)  # type: ignore[arg-type]
    yield operations, desk
    qtbot.waitUntil(lambda: not operations.busy)
    operations.shutdown()
    assert desk.threads[-1] == "closed", "the desk is closed on its own worker thread"


def test_services_run_on_the_worker_and_results_arrive_on_the_gui_thread(
    qtbot: QtBot, fake_ops: Any
) -> None:
    ops, _desk = fake_ops
    got: list[tuple[str, str]] = []
    ops.query(
        lambda d: d.where(),
        on_success=lambda name: got.append((name, threading.current_thread().name)),
    )
    qtbot.waitUntil(lambda: bool(got))
    assert got == [("desk-db", threading.main_thread().name)]


def test_a_write_tells_every_screen_to_refresh(qtbot: QtBot, fake_ops: Any) -> None:
    ops, _desk = fake_ops
    with qtbot.waitSignal(ops.changed, timeout=5_000):
        ops.write(lambda d: d.where())
    with qtbot.assertNotEmitted(ops.changed, wait=100):
        ops.query(lambda d: d.where())
        qtbot.waitUntil(lambda: not ops.busy)


def test_user_errors_go_to_the_caller_with_their_message(qtbot: QtBot, fake_ops: Any) -> None:
    ops, _desk = fake_ops
    errors: list[BaseException] = []

    def refuse(_d: Any) -> None:
        raise ValidationError({"full_name": "The customer's name is required."})

    ops.write(refuse, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ValidationError)
    assert errors[0].errors == {"full_name": "The customer's name is required."}

    def missing(_d: Any) -> None:
        raise NotFound("No case has the reference C-2026-999999.")

    with qtbot.waitSignal(ops.errorReported, timeout=5_000) as reported:
        ops.query(missing)  # nobody handles it: shown as is, not as a bug
    assert reported.args == ["No case has the reference C-2026-999999.", False]


def test_a_bug_is_logged_with_its_traceback_and_shown_politely(
    qtbot: QtBot, fake_ops: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ops, _desk = fake_ops
    called: list[Any] = []

    def broken(_d: Any) -> None:
        raise KeyError("oops")

    with (
        caplog.at_level(logging.ERROR, logger="ui.operations"),
        qtbot.waitSignal(ops.errorReported, timeout=5_000) as reported,
    ):
        ops.query(broken, on_error=called.append)
    message, is_bug = reported.args
    assert is_bug and message.startswith("Something went wrong. Details are in ")
    assert message.endswith("desk.log")
    # The caller still hears of it (or its screen would stay waiting); it is told apart as a bug.
    qtbot.waitUntil(lambda: bool(called))
    assert len(called) == 1 and isinstance(called[0], KeyError)
    assert not is_user_error(called[0])
    assert "Traceback" in caplog.text and "KeyError" in caplog.text


def test_superseded_type_ahead_searches_are_dropped(qtbot: QtBot, fake_ops: Any) -> None:
    ops, _desk = fake_ops
    gate = threading.Event()
    results: list[str] = []
    ops.query(lambda d: gate.wait(5) and d.where())  # keeps the worker busy
    for text in ("a", "an", "ann"):
        ops.query(lambda d, t=text: t, on_success=results.append, key="search")
    gate.set()
    qtbot.waitUntil(lambda: not ops.busy)
    assert results == ["ann"]


def test_results_for_a_deleted_widget_are_dropped(qtbot: QtBot, fake_ops: Any) -> None:
    ops, _desk = fake_ops
    owner = QObject()
    gate = threading.Event()
    got: list[Any] = []
    ops.query(lambda d: gate.wait(5), on_success=got.append, owner=owner)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _alive(owner))
    gate.set()
    qtbot.waitUntil(lambda: not ops.busy)
    assert got == []


def _alive(obj: QObject) -> bool:
    import shiboken6

    return bool(shiboken6.isValid(obj))
