"""The shared script library as an officer's open window lives with it: a script an admin
publishes or retires reaches the panel within moments; a run recorded with an older version is
still told in that version's words; the officer's own language, set by an admin, is the panel's."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pytestqt.qtbot import QtBot

from desk.domain.case import CaseDetails
from desk.domain.customer import CustomerDetails
from desk.domain.script_run import ScriptRun
from desk.services.dto import ScriptRunToSave
from ui.main_window import MainWindow
from ui.timeline import SUMMARY_ROLE

SCRIPT = """
id = "{id}"
version = 1
default_language = "en"
moods = ["calm"]
title.en = "{title}"

[[steps]]
id = "first"
kind = "guidance"
text.en = "{words}"

[[steps]]
id = "done"
kind = "end"
outcome = "calmed_and_resolved"
text.en = "Thank them."
"""


def publish(admin: Any, script_id: str, title: str, words: str, *, new: bool) -> None:
    source = SCRIPT.format(id=script_id, title=title, words=words)
    if new:
        admin.scripts.save_draft(source)
    else:
        draft = admin.scripts.draft(script_id)
        admin.scripts.save_draft(source, script_id=script_id, expected_revision=draft.revision)
    admin.scripts.publish([script_id])


def choices(window: MainWindow) -> list[str]:
    combo = window.script_panel.script_choice
    return [combo.itemData(i) for i in range(combo.count())]


def test_a_published_script_reaches_the_open_panel_and_a_retired_one_leaves_it(
    qtbot: QtBot, window: MainWindow, desk_factory: Any
) -> None:
    admin = desk_factory("admin")
    script_id = "t_live_" + uuid.uuid4().hex[:8]
    qtbot.waitUntil(lambda: window.script_panel.library is not None, timeout=10_000)
    assert script_id not in choices(window)
    publish(admin, script_id, "Lost property", "Ask where it was lost.", new=True)
    qtbot.waitUntil(lambda: script_id in choices(window), timeout=15_000)

    window.script_panel.choose_script(script_id)
    run = window.script_panel.run
    assert run is not None and run.script_id == script_id
    admin.scripts.retire(script_id)
    qtbot.waitUntil(
        lambda: (
            window.script_panel.library is not None and script_id not in window.script_panel.library
        ),
        timeout=15_000,
    )
    assert window.script_panel.run is run, "a run under way is never cut short"
    assert window.script_panel.script_choice.currentData() == script_id


def test_a_run_is_told_in_the_words_of_the_version_it_followed(
    qtbot: QtBot, window: MainWindow, desk_factory: Any, gui_desk: Any
) -> None:
    admin = desk_factory("admin")
    script_id = "t_words_" + uuid.uuid4().hex[:8]
    publish(admin, script_id, "Words", "Old words for the first step.", new=True)
    library = gui_desk.scripts.published()
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    run = ScriptRun(library, script_id, start, language="en")
    run.next(start + dt.timedelta(seconds=20))
    customer = gui_desk.customers.create(CustomerDetails(full_name="Words Tester"))
    case = gui_desk.cases.create(
        CaseDetails(
            customer_id=customer.id,
            customer_words="Lost a bag at the counter.",
            officer_understanding="Lost bag",
        )
    )
    gui_desk.cases.script_runs.save_all(case.id, [ScriptRunToSave(uuid.uuid4(), run.record())])
    publish(admin, script_id, "Words", "New words for the first step.", new=False)
    admin.scripts.retire(script_id)

    window.script_panel.reload_library()
    qtbot.waitUntil(
        lambda: (
            window.script_panel.library is not None
            and window.script_panel.library.at_version(script_id, 2) is not None
        ),
        timeout=10_000,
    )
    window.open_case(case.id)

    def told() -> str:
        timeline = window.timeline
        return "\n".join(str(timeline.item(i).data(SUMMARY_ROLE)) for i in range(timeline.count()))

    qtbot.waitUntil(lambda: "Old words for the first step." in told(), timeout=10_000)
    assert "New words" not in told()
    assert "(version 1)" in told()


def test_the_officers_language_set_by_an_admin_becomes_the_panels(
    qtbot: QtBot, window: MainWindow, desk_factory: Any
) -> None:
    admin = desk_factory("admin")
    assert window.session is not None
    me = next(s for s in admin.admin.staff() if s.username == window.session.username)
    changed = admin.admin.update_staff(me.username, expected_version=me.version, language="es")
    try:
        qtbot.waitUntil(lambda: window.script_panel.language == "es", timeout=15_000)
        titles = [
            window.script_panel.script_choice.itemText(i)
            for i in range(window.script_panel.script_choice.count())
        ]
        assert any("E.D.R.A." in t for t in titles), titles
    finally:
        admin.admin.update_staff(
            me.username, expected_version=changed.version, language=me.language
        )
    qtbot.waitUntil(lambda: window.script_panel.language != "es", timeout=15_000)
