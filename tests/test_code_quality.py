"""Lint, types and layering are checked by the test run itself, so they cannot drift."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_the_core() -> None:
    result = _run("mypy", "--no-incremental")
    assert result.returncode == 0, result.stdout + result.stderr


def _imports(folder: str, pattern: str) -> list[str]:
    regex = re.compile(rf"^\s*(import|from)\s+{pattern}\b", re.MULTILINE)
    return [
        str(path.relative_to(ROOT))
        for path in (ROOT / folder).rglob("*.py")
        if regex.search(path.read_text(encoding="utf-8"))
    ]


def test_the_core_never_imports_qt() -> None:
    assert _imports("desk", "PySide6") == []


def test_the_domain_never_imports_sqlalchemy() -> None:
    assert _imports("desk/domain", "sqlalchemy") == []


def test_the_window_never_imports_sqlalchemy() -> None:
    assert _imports("ui", "sqlalchemy") == []
