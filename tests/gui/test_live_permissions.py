"""A change of permissions reaches an open window within moments, without a restart."""

from __future__ import annotations

from typing import Any

from pytestqt.qtbot import QtBot

from desk.domain.authority import Permission
from ui.main_window import MainWindow


def test_an_admins_change_of_permissions_reaches_the_officers_window(
    qtbot: QtBot, window: MainWindow, desk_factory: Any
) -> None:
    assert window.session is not None
    assert not window.session.can(Permission.VIEW_ALL_CASES)
    admin = desk_factory("admin")
    role = next(r for r in admin.admin.roles() if r.name == "Counter Officer")
    changed = admin.admin.set_permissions(
        role.name,
        role.permissions | {Permission.VIEW_ALL_CASES.value},
        expected_version=role.version,
    )
    try:
        qtbot.waitUntil(
            lambda: window.session is not None and window.session.can(Permission.VIEW_ALL_CASES),
            timeout=15_000,
        )
    finally:
        admin.admin.set_permissions(role.name, role.permissions, expected_version=changed.version)
    qtbot.waitUntil(
        lambda: window.session is not None and not window.session.can(Permission.VIEW_ALL_CASES),
        timeout=15_000,
    )
