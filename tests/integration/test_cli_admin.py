"""The operator's staff, roles and limits commands: the same service and checks as the console."""

from __future__ import annotations

import io
import uuid

import pytest

from desk.cli import main

GOOD = "a long temporary one"


def test_staff_add_list_disable_and_reset(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    username = "cli" + uuid.uuid4().hex[:6]
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD + "\n"))
    assert (
        main(
            [
                "staff",
                "add",
                username,
                "--name",
                "Cli Person",
                "--role",
                "Counter Officer",
                "--centre",
                "CEN",
                "--supervisor",
                "supervisor",
                "--password-stdin",
                "--database",
                database_url,
            ]
        )
        == 0
    )
    assert "choose their own password" in capsys.readouterr().out
    assert main(["staff", "list", "--database", database_url]) == 0
    listing = capsys.readouterr().out
    line = next(row for row in listing.splitlines() if row.startswith(username))
    assert "Counter Officer" in line and "must change password" in line
    assert main(["staff", "disable", username, "--database", database_url]) == 0
    assert "disabled" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("another long one here\n"))
    assert (
        main(["staff", "reset-password", username, "--password-stdin", "--database", database_url])
        == 0
    )
    assert main(["staff", "enable", username, "--database", database_url]) == 0


def test_bad_staff_input_is_refused_with_a_message(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD + "\n"))
    code = main(
        [
            "staff",
            "add",
            "x" + uuid.uuid4().hex[:6],
            "--name",
            "X",
            "--role",
            "Wizard",
            "--centre",
            "CEN",
            "--password-stdin",
            "--database",
            database_url,
        ]
    )
    assert code == 1
    assert "There is no role 'Wizard'" in capsys.readouterr().err


def test_roles_and_limits(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["roles", "list", "--database", database_url]) == 0
    out = capsys.readouterr().out
    assert "Supervisor" in out and "decide_approvals" in out
    assert main(["limits", "show", "--database", database_url]) == 0
    out = capsys.readouterr().out
    officer = next(row for row in out.splitlines() if row.startswith("Counter Officer"))
    assert "50.00" in officer
    assert (
        main(["limits", "set", "Counter Officer", "waiver", "12.345", "--database", database_url])
        == 1
    )
    assert "decimal places" in capsys.readouterr().err
    assert (
        main(["limits", "set", "Counter Officer", "waiver", "60", "--database", database_url]) == 0
    )
    assert (
        main(["limits", "set", "Counter Officer", "waiver", "50", "--database", database_url]) == 0
    )
