"""Case list, deep page, free-text search and start-up, each beside its floor.

The application side goes through the real service (``Desk.open`` → ``login`` →
``desk.cases.list``); the floor is the same rows fetched with hand-written SQL on the bare driver
(psycopg / sqlite3), or, for start-up, a bare PySide6 window started the same way. The ratio of the
two is what the targets are about: the service may add overhead, but not much.

    python -m bench.bench_case_list --pg-cases 1000000 --sqlite-cases 200000 --runs 30 --reuse

Start-up alone, on small databases of its own (the login window does not depend on their size):

    python -m bench.bench_case_list --startup-only --pg-cases 2000 --sqlite-cases 2000 \
        --startup-runs 30 --startup-mode login-window --reuse --no-write

Never part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy
from sqlalchemy import func, select, text

from desk.adapters.database import make_engine, upgrade
from desk.adapters.orm import Case
from desk.services.demo import generate_demo

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
USERNAME, PASSWORD = "officer", "demo"
# A common word of the descriptions (~3 % of cases) and a surname (~0.5 %): the planner treats
# the two very differently (see docs/benchmarks.md).
SEARCH_WORDS = ("streetlight", "lindqvist")
DEEP_OFFSET = 50_000
PAGE_SIZE = 100  # CaseQuery's default page size
ROOT = Path(__file__).resolve().parent.parent

# --- the floor: the case list query written by hand ----------------------------------------------
# Same columns, joins, filter, order and limit (page size + 1) as CaseService.list.

_SELECT = """
SELECT c.id, c.reference, c.opened_at, cu.full_name AS customer_name, c.kind, c.channel,
       c.status, c.priority, cat.name AS category_name, o.full_name AS officer_name,
       t.name AS team_name, ce.name AS centre_name, substr(c.customer_words, 1, 160) AS summary,
       c.opened_at AS sort_value
FROM cases c
JOIN customers cu ON cu.id = c.customer_id
JOIN service_centres ce ON ce.id = c.centre_id
LEFT JOIN categories cat ON cat.id = c.category_id
LEFT JOIN staff o ON o.id = c.assigned_officer_id
LEFT JOIN specialist_teams t ON t.id = c.assigned_team_id
WHERE c.centre_id = {p}
"""
_ORDER = " ORDER BY c.opened_at DESC, c.id DESC LIMIT {limit}"


def raw_sql(backend: str, *, keyset: bool, search: bool) -> str:
    """The floor statement; parameters are typed on PostgreSQL as SQLAlchemy types them."""
    pg = backend == "postgresql"
    p = "%s" if pg else "?"
    sql = _SELECT.format(p=f"{p}::bigint" if pg else p)
    if keyset:
        if pg:
            sql += f" AND (c.opened_at, c.id) < ({p}::timestamptz, {p}::bigint)"
        else:
            sql += f" AND (c.opened_at, c.id) < ({p}, {p})"
    if search:
        if backend == "postgresql":
            sql += f" AND c.search_vector @@ to_tsquery('simple', {p})"
        else:
            sql += f" AND c.id IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH {p})"
    return sql + _ORDER.format(limit=PAGE_SIZE + 1)


def search_term(backend: str, word: str) -> str:
    """The text match the service builds for one word (a prefix match on both backends)."""
    return f"{word}:*" if backend == "postgresql" else f'"{word}"*'


# --- measuring -----------------------------------------------------------------------------------


def timed_pair(
    app: Callable[[], Any], floor: Callable[[], Any], runs: int, warmup: int = 3
) -> tuple[list[float], list[float], Any, Any]:
    """Milliseconds per call for both, interleaved so that load from elsewhere hits both alike.

    A few warm-up calls first (OS and PostgreSQL caches, the pool, prepared statements).
    """
    app_result = floor_result = None
    for _ in range(warmup):
        app_result, floor_result = app(), floor()
    app_ms: list[float] = []
    floor_ms: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        floor_result = floor()
        floor_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        app_result = app()
        app_ms.append((time.perf_counter() - start) * 1000)
    return app_ms, floor_ms, app_result, floor_result


def pct(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Line:
    backend: str
    measure: str
    app: list[float]
    floor: list[float]
    limit_ms: float | None
    max_ratio: float | None  # None: reported for information, no target
    ratio_on: str  # "p50" or "p95"
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        q = 0.5 if self.ratio_on == "p50" else 0.95
        return pct(self.app, q) / max(pct(self.floor, q), 1e-9)

    @property
    def verdict(self) -> str:
        if self.max_ratio is None:
            return "info"
        ok = self.ratio <= self.max_ratio
        if self.limit_ms is not None:
            ok = ok and pct(self.app, 0.95) <= self.limit_ms
        return "met" if ok else "MISSED"

    def target(self) -> str:
        if self.max_ratio is None:
            return "none (for information)"
        limit = f", app p95 < {self.limit_ms:g} ms" if self.limit_ms is not None else ""
        return f"{self.ratio_on} ratio ≤ {self.max_ratio:g}×{limit}"


# --- loading -------------------------------------------------------------------------------------


def db_name(cases: int) -> str:
    if cases % 1_000_000 == 0:
        return f"desk_bench_{cases // 1_000_000}m"
    if cases % 1_000 == 0:
        return f"desk_bench_{cases // 1_000}k"
    return f"desk_bench_{cases}"


def case_count(url: str) -> int | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Case)).scalar_one())
    except Exception:
        return None
    finally:
        engine.dispose()


def upgrade_reused(url: str) -> None:
    """A kept database gets the schema of this checkout (new indexes included), as the
    application's own upgrade would give it."""
    engine = make_engine(url)
    try:
        upgrade(engine, progress=lambda text: print(f"  {text}", flush=True))
    finally:
        engine.dispose()


def load(url: str, cases: int, today: dt.date) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        last = [started]

        def report(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] > 15 or done == total:
                last[0] = now
                print(f"  {done:>9,} / {total:,} cases  ({now - started:,.0f} s)", flush=True)

        generate_demo(engine, cases=cases, seed=1, today=today, progress=report)
        print(f"  loaded {cases:,} cases in {time.perf_counter() - started:,.0f} s", flush=True)
    finally:
        engine.dispose()


def prepare_postgresql(cases: int, reuse: bool, today: dt.date) -> str:
    name = db_name(cases)
    url = f"{PG_SERVER}/{name}"
    if reuse and case_count(url) == cases:
        print(f"PostgreSQL: reusing {name} ({cases:,} cases)")
        upgrade_reused(url)
    else:
        print(f"PostgreSQL: loading {cases:,} cases into a fresh {name}")
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        load(url, cases, today)
    # The officer logs in as their own PostgreSQL role, as on a real shared server.
    from desk.adapters.pg_roles import create_login_role

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            create_login_role(conn, USERNAME, PASSWORD)
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return url


def prepare_sqlite(cases: int, reuse: bool, today: dt.date, data_dir: Path) -> str:
    path = data_dir / f"{db_name(cases)}.sqlite3"
    url = f"sqlite:///{path}"
    if reuse and path.exists() and case_count(url) == cases:
        print(f"SQLite: reusing {path} ({cases:,} cases)")
        upgrade_reused(url)
        for copy in path.parent.glob(f"{path.stem}.before-migration-*"):
            copy.unlink()  # the migration's safety copy: a benchmark database is disposable
        return url
    print(f"SQLite: loading {cases:,} cases into a fresh {path}")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    load(url, cases, today)
    with sqlite3.connect(path) as conn:
        conn.execute("ANALYZE")
    return url


# --- (a)-(c): the case list ----------------------------------------------------------------------


def bench_list(backend: str, url: str, runs: int, explain: bool) -> list[Line]:
    from desk.bootstrap import Desk
    from desk.services.dto import CaseQuery, PageCursor

    desk = Desk.open(url, upgrade=False)
    session = desk.login(USERNAME, PASSWORD)
    centre = session.centre_id

    if backend == "postgresql":
        raw: Any = psycopg.connect(url, autocommit=True)
    else:
        raw = sqlite3.connect(make_engine(url).url.database or "")
    # On a small database the deep page is half-way down the officer's centre instead.
    in_centre = raw.execute(
        f"SELECT count(*) FROM cases WHERE centre_id = {int(centre)}"
    ).fetchone()[0]
    offset = min(DEEP_OFFSET, in_centre // 2)
    if backend == "postgresql":
        deep_at, deep_id = _pg_deep_cursor(raw, centre, offset)
    else:
        deep_at, deep_id = _sqlite_deep_cursor(raw, centre, offset)
    cursor = PageCursor(sort_value=deep_at, id=deep_id)
    raw_deep_at: Any = deep_at if backend == "postgresql" else _sqlite_time(deep_at)

    def floor(sql: str, params: tuple[Any, ...]) -> Callable[[], list[int]]:
        def run() -> list[int]:
            cur = raw.cursor()
            cur.execute(sql, params)
            ids = [row[0] for row in cur.fetchall()]
            cur.close()
            return ids[:PAGE_SIZE]

        return run

    def app(query: CaseQuery, after: PageCursor | None = None) -> Callable[[], list[int]]:
        def run() -> list[int]:
            return [row.id for row in desk.cases.list(query, after=after).rows]

        return run

    cases = [
        (
            "(a) first page",
            app(CaseQuery()),
            floor(raw_sql(backend, keyset=False, search=False), (centre,)),
            50.0,
            "p50",
        ),
        (
            f"(b) page after {offset:,} rows",
            app(CaseQuery(), cursor),
            floor(raw_sql(backend, keyset=True, search=False), (centre, raw_deep_at, deep_id)),
            50.0,
            "p50",
        ),
    ]
    search_sql = raw_sql(backend, keyset=False, search=True)
    for word in SEARCH_WORDS:
        cases.append(
            (
                f"(c) search “{word}”",
                app(CaseQuery(text=word)),
                floor(search_sql, (centre, search_term(backend, word))),
                100.0,
                "p95",
            )
        )
    lines = []
    for label, app_fn, floor_fn, limit, ratio_on in cases:
        app_ms, floor_ms, app_ids, floor_ids = timed_pair(app_fn, floor_fn, runs)
        if app_ids != floor_ids:
            raise SystemExit(f"{backend} {label}: the floor query returns other rows than the app")
        line = Line(backend, label, app_ms, floor_ms, limit, 2.0, ratio_on)
        line.notes.append(f"{len(app_ids)} rows")
        lines.append(line)
        print(
            f"  {label:<28} app p50 {pct(app_ms, 0.5):7.2f} p95 {pct(app_ms, 0.95):7.2f} ms | "
            f"floor p50 {pct(floor_ms, 0.5):7.2f} p95 {pct(floor_ms, 0.95):7.2f} ms",
            flush=True,
        )
    if explain and backend == "postgresql":
        for sql, params in (
            (raw_sql(backend, keyset=False, search=False), (centre,)),
            (raw_sql(backend, keyset=True, search=False), (centre, deep_at, deep_id)),
            *(
                (raw_sql(backend, keyset=False, search=True), (centre, search_term(backend, w)))
                for w in SEARCH_WORDS
            ),
        ):
            plan = raw.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
            print(textwrap.indent("\n".join(r[0] for r in plan), "    "))
    raw.close()
    desk.close()
    return lines


def _pg_deep_cursor(conn: Any, centre: int, offset: int) -> tuple[dt.datetime, int]:
    row = conn.execute(
        "SELECT opened_at, id FROM cases WHERE centre_id = %s "
        "ORDER BY opened_at DESC, id DESC OFFSET %s LIMIT 1",
        (centre, offset - 1),
    ).fetchone()
    return row[0].astimezone(dt.UTC), int(row[1])


def _sqlite_deep_cursor(
    conn: sqlite3.Connection, centre: int, offset: int
) -> tuple[dt.datetime, int]:
    row = conn.execute(
        "SELECT opened_at, id FROM cases WHERE centre_id = ? "
        "ORDER BY opened_at DESC, id DESC LIMIT 1 OFFSET ?",
        (centre, offset - 1),
    ).fetchone()
    return dt.datetime.fromisoformat(row[0]).replace(tzinfo=dt.UTC), int(row[1])


def _sqlite_time(value: dt.datetime) -> str:
    """The text SQLAlchemy stores a UTC datetime as in SQLite."""
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# --- (d): start-up -------------------------------------------------------------------------------
# Every child is a fresh interpreter with QT_QPA_PLATFORM=offscreen and private, empty user
# directories (no settings, no remembered user: a first login on this computer). "Interactive"
# means more than painted: when the window is shown and the window system has made it the active
# window, the child posts a keystroke to its text field (as the window system would) and prints
# READY once the field holds the character, which proves that the GUI thread's event loop runs and
# takes typing. The bare window does exactly the same.
#
# Both learn that their window is active from QGuiApplication.focusWindowChanged: one Python
# call per window. (An event filter on the application, used before, ran Python for every event
# of the application and wrapped every object that received one, the style object included:
# ~10 ms that only the application paid, the bare window having no filter.)

_PROBE = """
import os
import sys

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit


def ready():
    print("READY", flush=True)
    os._exit(0)  # what happens after the measured moment is not measured (nor waited for)


def when_active(name, then):
    # then(window) once the top-level widget called name is the active window
    app = QApplication.instance()

    def check(_window):
        widget = QApplication.activeWindow()
        if widget is not None and widget.objectName() == name:
            app.focusWindowChanged.disconnect(check)
            then(widget)

    app.focusWindowChanged.connect(check)


def type_into(field, text, then):
    for ch in text:
        key = Qt.Key(ord(ch.upper())) if ch.isalnum() else Qt.Key.Key_Space
        QApplication.postEvent(
            field, QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier, ch)
        )

    def check():
        if field.text().endswith(text):
            then()
        else:
            QTimer.singleShot(1, check)

    QTimer.singleShot(0, check)


def press_return(field):
    QApplication.postEvent(
        field,
        QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier),
    )
"""

BARE_WINDOW = (
    _PROBE
    + """
from PySide6.QtWidgets import QMainWindow

app = QApplication(sys.argv)
window = QMainWindow()
window.setObjectName("bareWindow")
field = QLineEdit()
window.setCentralWidget(field)
window.resize(1280, 860)
when_active("bareWindow", lambda _w: QTimer.singleShot(0, lambda: type_into(field, "x", ready)))
window.show()
app.exec()
"""
)

# The application exactly as ``desk`` starts it (desk.cli.main → ui.app.main); nothing in the
# application is changed. The QApplication is made first (to watch its windows) by the function
# ui.app.main makes it with (``create_application``: Fusion chosen at creation), so main() goes
# on as under ``desk``; a plain QApplication here would make main() switch it to Fusion at run
# time, a path ``desk`` never takes (~10 ms of PySide6 building QStyle's enums).
_APP = (
    _PROBE
    + """
from ui.app import create_application

MODE, URL, USERNAME, PASSWORD = sys.argv[1:5]


def login_shown(dialog):
    username = dialog.findChild(QLineEdit, "username")
    if MODE == "login-window":
        type_into(username, "x", ready)
        return
    when_active("mainWindow", lambda window: window.ready.connect(lambda: main_ready(window)))
    password = dialog.findChild(QLineEdit, "password")
    # Log in as soon as possible: type, then Enter (the dialog runs the login once the database
    # is open, or at once if it already is).
    then_password = lambda: type_into(password, PASSWORD, lambda: press_return(password))  # noqa
    type_into(username, USERNAME, then_password)


def main_ready(window):
    window.case_list.model.loaded.connect(lambda: QTimer.singleShot(0, ready))


app = create_application(sys.argv)
when_active("loginDialog", lambda dialog: QTimer.singleShot(0, lambda: login_shown(dialog)))


def stuck():
    # Never READY within a minute: say where the application stood, then give up.
    import faulthandler

    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == "loginDialog":
            print(
                f"login dialog: visible={widget.isVisible()} ready={widget.ready} "
                f"login_requested={widget.login_requested} status={widget.status.text()!r} "
                f"error={widget.error.text()!r}",
                file=sys.stderr,
            )
        elif widget.objectName() == "mainWindow":
            print(f"main window: visible={widget.isVisible()}", file=sys.stderr)
    print(f"active window: {QApplication.activeWindow()!r}", file=sys.stderr)
    faulthandler.dump_traceback(all_threads=True)
    os._exit(3)


QTimer.singleShot(60_000, stuck)
ENTRY
"""
)

ENTRIES = {
    # What an officer runs: the plain ``desk`` command, its database configured (here by
    # DESK_DATABASE_URL, as the settings file or the environment would on a counter PC).
    "cli": "import os\nos.environ['DESK_DATABASE_URL'] = URL\nfrom desk.cli import main\nmain([])",
    # The window's own entry, without the command line's imports.
    "window": "from ui.app import main\nmain(URL, 'command line')",
}


def startup_code(entry: str) -> str:
    return _APP.replace("ENTRY", ENTRIES[entry])


STARTUP_MODES = {
    "login-window": "(d1) start-up: login window interactive",
    "main-window": "(d2) start-up: main window, first page (auto-login)",
}


def startup_once(code: str, args: Sequence[str], env: dict[str, str]) -> float | None:
    """Wall time from spawning the interpreter to READY (see above); None if it never came
    (the child's report is printed)."""
    with tempfile.TemporaryDirectory(prefix="desk-bench-home-") as home:
        env = dict(env)
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            env[name] = str(Path(home) / name.lower())
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        elapsed = (time.perf_counter() - start) * 1000
        _out, err = proc.communicate(timeout=120)
    if line.strip() != "READY":
        noise = "This plugin does not support"
        report = "\n".join(ln for ln in err.splitlines() if noise not in ln)
        print(f"    a start-up run failed (exit status {proc.returncode}):", flush=True)
        print(textwrap.indent(report[-6000:], "      "), flush=True)
        return None
    return elapsed


def bench_startup(
    label: str,
    url: str,
    runs: int,
    entry: str,
    modes: Sequence[str] = tuple(STARTUP_MODES),
    pycache: Path = Path("/tmp/desk-bench/pycache"),
) -> list[Line]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    env.pop("DESK_DATABASE_URL", None)
    # Both children run from cached bytecode, as an installed Desk does (pip compiles a wheel's
    # modules when it installs them). With PYTHONDONTWRITEBYTECODE in the caller's environment
    # only the application would pay for compiling its sources on every run: the floor's
    # modules (Python's, PySide6's) come with bytecode, this working tree's do not. The cache is
    # kept outside the working tree and filled by the warm-up runs below.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env.setdefault("XDG_RUNTIME_DIR", "/tmp")
    code = startup_code(entry)
    lines = []
    for mode in modes:
        measure = STARTUP_MODES[mode]
        args = [mode, url, USERNAME, PASSWORD]
        for _ in range(2):  # warm the OS file cache for both
            startup_once(BARE_WINDOW, [], env)
            startup_once(code, args, env)
        bare: list[float] = []
        app: list[float] = []
        failed = 0
        for _ in range(runs):  # interleaved so drift hits both alike
            pair = startup_once(BARE_WINDOW, [], env), startup_once(code, args, env)
            if pair[0] is None or pair[1] is None:
                failed += 1  # reported, and left out of both columns
                continue
            bare.append(pair[0])
            app.append(pair[1])
        if not app:
            raise SystemExit(f"{label} {measure}: every start-up run failed")
        target = 1.5 if mode == "login-window" else None  # (d2) is for information
        line = Line(label, measure, app, bare, None, target, "p50")
        if entry != "cli":
            line.measure += f" [entry: {entry}]"
        if failed:
            line.measure += f" ({failed} of {runs} runs failed, see the log)"
        lines.append(line)
        print(
            f"  {line.measure:<60} app p50 {pct(app, 0.5):7.0f} p95 {pct(app, 0.95):7.0f} ms | "
            f"bare p50 {pct(bare, 0.5):7.0f} p95 {pct(bare, 0.95):7.0f} ms",
            flush=True,
        )
    return lines


# --- report --------------------------------------------------------------------------------------


def table(lines: Sequence[Line]) -> str:
    out = [
        "| backend | measure | app p50 ms | app p95 ms | floor p50 ms | floor p95 ms | ratio | "
        "target | result |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for ln in lines:
        out.append(
            f"| {ln.backend} | {ln.measure} | {pct(ln.app, 0.5):.2f} | {pct(ln.app, 0.95):.2f} | "
            f"{pct(ln.floor, 0.5):.2f} | {pct(ln.floor, 0.95):.2f} | {ln.ratio:.2f}× "
            f"({ln.ratio_on}) | {ln.target()} | {ln.verdict} |"
        )
    return "\n".join(out)


def machine(pg_url: str | None) -> dict[str, str]:
    info = {
        "CPUs (nproc)": str(os.cpu_count()),
        "memory": _memory(),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "psycopg": psycopg.__version__,
        "SQLAlchemy": sqlalchemy.__version__,
        "PySide6": _pyside_version(),
        "argon2-cffi": _version("argon2-cffi"),
    }
    if pg_url:
        with psycopg.connect(pg_url) as conn:
            info["PostgreSQL"] = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            settings = conn.execute(
                "SELECT name, setting, unit FROM pg_settings WHERE name IN "
                "('shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost', "
                "'jit') ORDER BY name"
            ).fetchall()
            info["PostgreSQL settings"] = ", ".join(f"{n}={s}{u or ''}" for n, s, u in settings)
    return info


def _pyside_version() -> str:
    import PySide6

    return str(PySide6.__version__)


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


START, END = "<!-- results:start -->", "<!-- results:end -->"


def write_results(path: Path, results: str) -> None:
    """Replace the generated section of the page, keeping the analysis written around it."""
    page = path.read_text(encoding="utf-8") if path.exists() else f"{START}\n{END}\n"
    if START not in page or END not in page:
        page += f"\n{START}\n{END}\n"
    head, rest = page.split(START, 1)
    _old, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{results}{END}{tail}", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--pg-cases", type=int, default=1_000_000)
    parser.add_argument("--sqlite-cases", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--startup-runs", type=int, default=10)
    parser.add_argument(
        "--startup-entry",
        choices=sorted(ENTRIES),
        action="append",
        help="how the application is started: 'cli' (the desk command) and/or "
        "'window' (ui.app.main alone); repeatable; default: both",
    )
    parser.add_argument("--reuse", action="store_true", help="keep databases of the right size")
    parser.add_argument("--explain", action="store_true", help="print PostgreSQL plans")
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument(
        "--startup-only",
        action="store_true",
        help="only the start-up measurements (no case list, deep page or search); the "
        "databases are still prepared, so pass small --pg-cases/--sqlite-cases (or 0 to skip one)",
    )
    parser.add_argument(
        "--startup-mode",
        choices=sorted(STARTUP_MODES),
        action="append",
        help="which start-up measurement: 'login-window' (d1) and/or 'main-window' (d2); "
        "repeatable; default: both",
    )
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/desk-bench"))
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument(
        "--write",
        type=Path,
        default=ROOT / "docs" / "benchmarks.md",
        help="the Markdown page whose results section is replaced (default: docs/benchmarks.md)",
    )
    parser.add_argument("--no-write", dest="write", action="store_const", const=None)
    args = parser.parse_args(argv)
    if args.skip_startup and args.startup_only:
        parser.error("--skip-startup and --startup-only leave nothing to measure")
    args.data_dir.mkdir(parents=True, exist_ok=True)

    pg_url = prepare_postgresql(args.pg_cases, args.reuse, args.today) if args.pg_cases else None
    sqlite_url = (
        prepare_sqlite(args.sqlite_cases, args.reuse, args.today, args.data_dir)
        if args.sqlite_cases
        else None
    )
    lines: list[Line] = []
    for backend, url, count in (
        ("postgresql", pg_url, args.pg_cases),
        ("sqlite", sqlite_url, args.sqlite_cases),
    ):
        if url is None or args.startup_only:
            continue
        print(f"{backend}, {count:,} cases, {args.runs} runs each:", flush=True)
        for line in bench_list(backend, url, args.runs, args.explain):
            line.backend = f"{backend} {count:,}"
            lines.append(line)
    if not args.skip_startup:
        for backend, url, count in (
            ("postgresql", pg_url, args.pg_cases),
            ("sqlite", sqlite_url, args.sqlite_cases),
        ):
            if url is None:
                continue
            for entry in args.startup_entry or ["cli", "window"]:
                print(f"start-up on {backend}, {args.startup_runs} runs each:", flush=True)
                lines.extend(
                    bench_startup(
                        f"{backend} {count:,}",
                        url,
                        args.startup_runs,
                        entry,
                        args.startup_mode or tuple(STARTUP_MODES),
                        args.data_dir / "pycache",
                    )
                )
    report = table(lines)
    print()
    print(report)
    if args.write:
        command = "python -m bench.bench_case_list " + shlex.join(
            list(argv) if argv is not None else sys.argv[1:]
        )
        info = machine(pg_url)
        body = "\n".join(f"- {k}: {v}" for k, v in info.items())
        write_results(
            args.write,
            f"Run of {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.\n\n"
            f"Command: `{command}`\n\n{body}\n\n{report}\n",
        )
        print(f"\nwritten to {args.write}")
    return 0 if all(ln.verdict != "MISSED" for ln in lines) else 1


if __name__ == "__main__":
    raise SystemExit(main())
