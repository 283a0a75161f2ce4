"""An action step of the guided script opens what it names, prefilled: a referral waits in the
case form with its reason written; an approval request opens the waiver/claim dialog."""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.gui.test_script_panel import focused, pick_script, step_forward, wait_for_scripts
from ui.main_window import MainWindow

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def test_the_referral_step_writes_the_reason_and_waits_on_the_team(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = wait_for_scripts(qtbot, window)
    form = window.form
    assert form is not None
    qtbot.keyClick(focused(), Qt.Key.Key_G, CTRL_SHIFT)
    pick_script(qtbot, panel, "distressed_customer")
    answers = deque(["at_risk"])
    run = panel.run
    assert run is not None
    while run.step.id != "urgent_referral":
        step_forward(qtbot, panel, answers)
    assert focused().objectName() == "scriptActionButton"
    qtbot.keyClick(focused(), Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.referral_team, timeout=5_000)
    assert form.referral_reason.text().startswith("Refer them now to the team")
    assert "choose the team" in window.statusBar().currentMessage()
    qtbot.keyClick(focused(), Qt.Key.Key_G, CTRL_SHIFT)  # back into the script
    assert panel.isAncestorOf(focused())
    assert run.step.id == "urgent_referral", "the script waits where it was"


def test_a_reason_the_officer_wrote_is_kept(qtbot: QtBot, window: MainWindow) -> None:
    wait_for_scripts(qtbot, window)
    form = window.form
    assert form is not None
    form.referral_reason.setText("Housing emergency, needs a bed tonight")
    form.prepare_referral("Refer them now to the team that deals with urgent need.")
    assert form.referral_reason.text() == "Housing emergency, needs a bed tonight"
