"""The safety alert reaches the supervisors: one key at the counter, a red band on every
supervisor's window of the centre within moments, and the officer told who is on the way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desk.drafts import DraftStore
from ui.main_window import MainWindow
from ui.operations import Operations

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


@pytest.fixture
def supervisor_window(qtbot: QtBot, desk_factory: Any, tmp_path: Any) -> Iterator[MainWindow]:
    """A supervisor of the officer's centre, logged in on another computer."""
    supervisor_ops = Operations(desk_factory("supervisor"))
    window = MainWindow(
        supervisor_ops, database_url="sqlite:///supervisor", drafts=DraftStore(tmp_path / "s")
    )
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.form is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not supervisor_ops.busy, timeout=10_000)
    yield window
    qtbot.waitUntil(lambda: not supervisor_ops.busy, timeout=10_000)
    if shiboken6.isValid(window):
        window.close()
    supervisor_ops.shutdown(close_desk=False)


def test_an_alert_raised_at_the_counter_reaches_the_supervisor_who_acknowledges_it(
    qtbot: QtBot, window: MainWindow, supervisor_window: MainWindow
) -> None:
    panel = window.script_panel
    banner = supervisor_window.safety_banner
    qtbot.waitUntil(lambda: panel.library is not None, timeout=10_000)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    assert window.form is not None
    window.form.customer_words.setFocus()
    qtbot.keyClick(focused(), Qt.Key.Key_A, CTRL_SHIFT)

    qtbot.waitUntil(
        lambda: "supervisors have it on their screens" in panel.alert_confirmation.text(),
        timeout=10_000,
    )
    qtbot.waitUntil(banner.isVisible, timeout=15_000)
    assert window.session is not None
    assert window.session.full_name in banner.text.text()
    assert banner.alerts[0].script_id == "aggressive_behaviour", "the safety script started"
    assert not window.safety_banner.isVisible(), "an officer does not receive alerts"

    supervisor_window.activateWindow()
    qtbot.waitUntil(supervisor_window.isActiveWindow, timeout=5_000)
    qtbot.keyClick(focused(), Qt.Key.Key_K, CTRL_SHIFT)
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=10_000)
    assert supervisor_window.session is not None
    qtbot.waitUntil(
        lambda: (
            f"{supervisor_window.session.full_name} is on the way"
            in panel.alert_confirmation.text()
        ),
        timeout=15_000,
    )


def test_an_alert_the_database_refuses_tells_the_officer_to_get_help_in_person(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desk.services.errors import DatabaseUnavailable

    desk = window.ops.desk
    assert desk is not None
    calls: list[object] = []

    def unreachable(**alert: object) -> object:
        calls.append(alert)
        raise DatabaseUnavailable("the server cannot be reached")

    monkeypatch.setattr(desk.safety, "raise_alert", unreachable)
    monkeypatch.setattr("ui.main_window.ALERT_RETRY_MS", 50)
    qtbot.waitUntil(lambda: window.script_panel.library is not None, timeout=10_000)
    window.safety_alert()
    text = window.script_panel.alert_confirmation.text
    qtbot.waitUntil(lambda: "could not reach your supervisors" in text(), timeout=10_000)
    assert "in person" in text()
    qtbot.waitUntil(lambda: len(calls) >= 2, timeout=10_000)  # it keeps trying
    first, second = calls[0], calls[1]
    assert first == second, "the same alert (same UUID) is sent again, never a second one"
    monkeypatch.undo()
    qtbot.waitUntil(lambda: "have it on their screens" in text(), timeout=10_000)
