"""Identifiers are masked on the case form; a supervisor may reveal them (recorded), an officer
is not offered to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytestqt.qtbot import QtBot

from desk.domain.customer import mask_identifier
from tests.integration.test_cases_service import new_customer
from ui.main_window import MainWindow


def test_an_officer_sees_masked_identifiers_and_no_reveal(
    qtbot: QtBot, window: MainWindow, gui_desk: Any
) -> None:
    customer = new_customer(gui_desk)
    form = window.form
    assert form is not None
    form.set_customer(gui_desk.customers.get(customer.id))
    national_id = f"NX{customer.customer_number}"
    assert mask_identifier(national_id) in form.customer_chosen.text()
    assert national_id not in form.customer_chosen.text()
    assert not form.reveal_button.isVisible()


def test_a_supervisor_reveals_them_and_the_reveal_is_audited(
    qtbot: QtBot, make_window: Callable[[], MainWindow], gui_desk: Any
) -> None:
    customer = new_customer(gui_desk)
    gui_desk.login("supervisor", "demo")
    window = make_window()
    form = window.form
    assert form is not None
    form.set_customer(gui_desk.customers.get(customer.id))
    assert form.reveal_button.isVisible()
    before, _ = gui_desk.verify_audit_trail()
    form.reveal_button.click()
    national_id = f"NX{customer.customer_number}"
    qtbot.waitUntil(lambda: national_id in form.customer_chosen.text(), timeout=10_000)
    assert not form.reveal_button.isVisible()
    assert form.customer is not None and national_id not in str(form.customer.identifiers)
    after, broken = gui_desk.verify_audit_trail()
    assert broken is None and after == before + len(form.customer.identifiers)
