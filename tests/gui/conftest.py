"""GUI fixtures: the operations door over a logged-in demo officer, and a ready main window.

The window is driven on both databases: ``gui_desk`` is the top-level ``desk`` fixture, which is
parametrised over SQLite and PostgreSQL. The top-level conftest sets QT_QPA_PLATFORM=offscreen,
private XDG directories and the keyring.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desk.drafts import DraftStore
from desk.services.dto import CaseQuery, CaseScope
from ui.main_window import MainWindow
from ui.operations import Operations

_OFFSCREEN_NOISE = (
    "This plugin does not support propagateSizeHints",
    "This plugin does not support raise",
    "This plugin does not support grabbing the keyboard",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The offscreen platform warns that it cannot do some window-manager things (size hints,
    raising a popup, grabbing the keyboard); that is the platform talking, not our code, so it
    must not fail the strict Qt-warning check. Every other Qt warning still fails the test."""
    for item in items:
        if "tests/gui/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(*_OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings, drafts and logs written by a GUI test stay with that test."""
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / "user" / name.lower()))


@pytest.fixture(autouse=True)
def automatic_gc_restored() -> Iterator[None]:
    """Operations switch Python's automatic collector off (it collects on the GUI thread
    instead); once a test's worker threads are gone, put it back for the rest of the run."""
    was_enabled = gc.isenabled()
    yield
    gc.collect()
    if was_enabled:
        gc.enable()


@pytest.fixture
def gui_desk(desk: Any) -> Any:
    """The demo counter officer, logged in, on SQLite and on PostgreSQL."""
    return desk


@pytest.fixture
def customer(gui_desk: Any) -> Any:
    """A demo customer to look up (the demo data is generated, so ask rather than assume)."""
    page = gui_desk.cases.list(CaseQuery(scope=CaseScope.ALL, page_size=20))
    for row in page.rows:
        if not row.customer_name[:5].isascii():
            continue  # QTest types ASCII only
        found = gui_desk.customers.search(row.customer_name[:5])
        if found and found[0].full_name == row.customer_name:
            return found[0]
    raise AssertionError("no demo customer can be looked up by name")


@pytest.fixture
def ops(qtbot: QtBot, gui_desk: Any) -> Iterator[Operations]:
    """Operations over the logged-in demo officer; fails the test if a bug was reported."""
    operations = Operations(gui_desk)
    reports: list[tuple[str, bool]] = []
    operations.errorReported.connect(lambda message, bug: reports.append((message, bug)))
    yield operations
    qtbot.waitUntil(lambda: not operations.busy, timeout=10_000)
    operations.shutdown(close_desk=False)
    assert not [m for m, bug in reports if bug], f"unexpected errors: {reports}"


@pytest.fixture
def drafts(tmp_path: Path) -> DraftStore:
    return DraftStore(tmp_path / "drafts")


@pytest.fixture
def make_window(qtbot: QtBot, ops: Operations, drafts: DraftStore) -> Callable[[], MainWindow]:
    """Open a main window (as after login) and wait until its screens are built."""

    def make() -> MainWindow:
        window = MainWindow(ops, database_url="sqlite:///test", drafts=drafts)
        qtbot.addWidget(window)
        window.show()
        window.activateWindow()
        qtbot.waitUntil(lambda: window.form is not None, timeout=10_000)
        qtbot.waitUntil(lambda: not ops.busy, timeout=10_000)
        qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
        return window

    return make


@pytest.fixture
def window(make_window: Callable[[], MainWindow]) -> MainWindow:
    return make_window()
