"""The guided-script library in the shared database: what every client runs, and what an admin
does to it (import, edit a draft, publish, retire, assign moods, export) and learns from it.

Published versions are immutable (the database refuses a change, on PostgreSQL and SQLite alike);
a recorded run names the version it followed, and ``published()`` hands the timeline every
version, not only the newest. Each script has at most one draft, checked on every save exactly as
a file is checked when it is loaded, so a draft can always be previewed and published.

On PostgreSQL the tables are writable only with the permission ``manage_scripts`` (a trigger checks
it); this service checks it first, to explain the refusal in a sentence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import defer
from sqlalchemy.orm.exc import StaleDataError

from desk.adapters import orm
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain.authority import Permission
from desk.domain.scripts import (
    MAX_FILE_BYTES,
    Library,
    Mood,
    Outcome,
    Problem,
    Script,
    ScriptError,
    build_library,
    leading_to,
    load_script_file,
    new_script_source,
    parse_script_text,
    with_version,
)
from desk.services import audit
from desk.services.dto import StaffSession
from desk.services.errors import (
    ConflictError,
    DatabaseUnavailable,
    DeskError,
    NotFound,
    PermissionRefused,
)
from desk.services.permissions import held_permissions

SHIPPED_BY = "Desk (shipped)"
UNFINISHED = "unfinished"  # a run stored before it ended (the officer moved on)


class ScriptRefused(DeskError):
    """A script (or a change to the library) that cannot be taken; ``problems`` say where."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)

    def __str__(self) -> str:
        lines = [self.args[0], *(str(p) for p in self.problems)]
        return "\n".join(lines)


@dataclass(frozen=True)
class ScriptEntry:
    """One line of the admin's library list."""

    script_id: str
    title: str  # in the script's default language, of the newest version (the draft's if none)
    published_version: int | None
    published_at: dt.datetime | None
    published_by: str
    has_draft: bool
    draft_updated_at: dt.datetime | None
    draft_updated_by: str
    draft_revision: int
    retired: bool
    moods: tuple[str, ...]  # the moods it suits
    proposed_for: tuple[str, ...]  # the moods the panel proposes it for
    moods_assigned: bool  # an admin chose ``proposed_for`` (else the file's)
    runs: int
    languages: tuple[str, ...]
    linked_from: tuple[str, ...]  # live scripts with an answer leading to this one

    @property
    def live(self) -> bool:
        return self.published_version is not None and not self.retired


@dataclass(frozen=True)
class ScriptDraft:
    script_id: str
    source: str
    revision: int  # 0: nothing stored yet (the text is the published version's)
    based_on_version: int | None
    stored: bool


@dataclass(frozen=True)
class VersionInfo:
    version: int
    title: str
    published_at: dt.datetime
    published_by: str
    runs: int


@dataclass(frozen=True)
class ImportResult:
    file: str
    script_id: str | None
    problems: tuple[Problem, ...] = ()
    replaced_draft: bool = False
    new_script: bool = False
    unchanged: bool = False  # the same as the version in use: no draft was made

    @property
    def imported(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class EscalationTurn:
    """A question after whose answer runs turned into an escalation, and how often."""

    script_id: str
    step_id: str
    answer_id: str
    question: str
    answer: str
    runs: int


@dataclass(frozen=True)
class ScriptInsight:
    script_id: str
    title: str
    retired: bool
    runs: int
    outcomes: Mapping[str, int]  # Outcome values and "unfinished"
    by_version: tuple[tuple[int, int], ...]  # (version, runs), newest first
    turns: tuple[EscalationTurn, ...] = field(default=())  # most frequent first

    @property
    def escalated(self) -> int:
        return self.outcomes.get(Outcome.ESCALATED.value, 0)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _moods_text(moods: Iterable[str]) -> str:
    return ",".join(moods)


def _moods_of(text: str | None) -> tuple[Mood, ...]:
    return tuple(Mood(m) for m in (text or "").split(",") if m in Mood.__members__.values())


def _with_assigned_moods(script: Script, assigned: str | None) -> Script:
    """The script as the panel uses it: the admin's moods (when chosen) proposed first, and
    counted among the moods it suits."""
    if assigned is None:
        return script
    proposed = _moods_of(assigned)
    return replace(
        script,
        proposed_for=proposed,
        moods=tuple(dict.fromkeys((*proposed, *script.moods))),
    )


class ScriptLibraryService:
    def __init__(
        self, uow: Callable[..., UnitOfWork], actor: Callable[[], StaffSession | None]
    ) -> None:
        self._uow = uow
        self._actor = actor
        # Published versions never change, so each is parsed once per process.
        self._parsed: dict[tuple[str, int], Script | ScriptError] = {}
        self._last_published: Library | None = None

    # --- what every client runs -----------------------------------------------------------------

    def published(self) -> Library:
        """The live library (newest published version of each script not retired, with the moods
        an admin assigned), and every other version for telling recorded runs. While the server
        is away, the library as it was last read (the panel keeps guiding the officer)."""
        try:
            library = self._read_published()
        except DatabaseUnavailable:
            if self._last_published is None:
                raise
            return self._last_published
        self._last_published = library
        return library

    def _read_published(self) -> Library:
        with self._uow(read_only=True) as uow:
            scripts = {s.id: s for s in uow.session.scalars(select(orm.LibraryScript))}
            rows = uow.session.execute(
                select(orm.ScriptVersion.script_id, orm.ScriptVersion.version).order_by(
                    orm.ScriptVersion.script_id, orm.ScriptVersion.version
                )
            ).all()
            missing = [(s, v) for s, v in rows if (s, v) not in self._parsed]
            if missing:
                sources = uow.session.execute(
                    select(
                        orm.ScriptVersion.script_id,
                        orm.ScriptVersion.version,
                        orm.ScriptVersion.source,
                    ).where(orm.ScriptVersion.script_id.in_({s for s, _ in missing}))
                ).all()
                for script_id, version, source in sources:
                    self._parsed.setdefault(
                        (script_id, version), self._parse_stored(script_id, version, source)
                    )
        newest: dict[str, int] = {}
        for script_id, version in rows:
            newest[script_id] = max(version, newest.get(script_id, 0))
        live: list[Script] = []
        refusals: list[ScriptError] = []
        earlier: dict[tuple[str, int], Script] = {}
        for script_id, version in rows:
            parsed = self._parsed[(script_id, version)]
            if isinstance(parsed, ScriptError):
                if version == newest[script_id]:
                    refusals.append(parsed)
                continue
            row = scripts.get(script_id)
            if version == newest[script_id] and row is not None and row.retired_at is None:
                live.append(_with_assigned_moods(parsed, row.proposed_for))
            else:
                earlier[(script_id, version)] = parsed
        # A mood an admin assigned to a script is proposed with that script, not with one whose
        # file proposes it.
        assigned = {
            mood
            for row in scripts.values()
            if row.retired_at is None and row.proposed_for is not None
            for mood in _moods_of(row.proposed_for)
        }
        live = [
            script
            if scripts[script.id].proposed_for is not None
            else replace(
                script, proposed_for=tuple(m for m in script.proposed_for if m not in assigned)
            )
            for script in live
        ]
        live.sort(key=lambda s: (s.title.in_language(s.default_language).casefold(), s.id))
        built = build_library(live, refusals)
        for script in live:  # refused with the library (a branch gone): its runs still read
            if script.id not in built.scripts:
                earlier[(script.id, script.version)] = script
        return replace(built, earlier=earlier)

    def _parse_stored(self, script_id: str, version: int, source: str) -> Script | ScriptError:
        try:
            script = parse_script_text(source, f"{script_id} (version {version})")
        except ScriptError as exc:
            return exc
        # The stored numbering is the truth, whatever the text says.
        return replace(script, id=script_id, version=version)

    # --- the admin's list -----------------------------------------------------------------------

    def entries(self) -> list[ScriptEntry]:
        self._require_read(Permission.MANAGE_SCRIPTS)
        library = self.published()
        with self._uow(read_only=True) as uow:
            names = self._names(uow)
            scripts = list(uow.session.scalars(select(orm.LibraryScript)))
            newest = dict(
                uow.session.execute(
                    select(
                        orm.ScriptVersion.script_id, func.max(orm.ScriptVersion.version)
                    ).group_by(orm.ScriptVersion.script_id)
                ).all()
            )
            newest_rows = (
                select(orm.ScriptVersion.script_id, func.max(orm.ScriptVersion.version).label("v"))
                .group_by(orm.ScriptVersion.script_id)
                .subquery()
            )
            published = {
                (v.script_id, v.version): v
                for v in uow.session.scalars(
                    select(orm.ScriptVersion)
                    .join(
                        newest_rows,
                        (newest_rows.c.script_id == orm.ScriptVersion.script_id)
                        & (newest_rows.c.v == orm.ScriptVersion.version),
                    )
                    .options(defer(orm.ScriptVersion.source))
                )
            }
            drafts = {d.script_id: d for d in uow.session.scalars(select(orm.ScriptDraft))}
            runs = dict(
                uow.session.execute(
                    select(orm.ScriptRun.script_id, func.count()).group_by(orm.ScriptRun.script_id)
                ).all()
            )
        entries = []
        for row in scripts:
            version = newest.get(row.id)
            stored = published.get((row.id, version)) if version is not None else None
            draft = drafts.get(row.id)
            script = self._script_for_entry(row.id, version, draft, library)
            title = (
                script.title.in_language(script.default_language)
                if script is not None
                else (stored.title if stored is not None else row.id)
            )
            entries.append(
                ScriptEntry(
                    script_id=row.id,
                    title=title,
                    published_version=version,
                    published_at=stored.published_at if stored is not None else None,
                    published_by=(
                        names.get(stored.published_by_id, SHIPPED_BY)
                        if stored is not None and stored.published_by_id is not None
                        else (SHIPPED_BY if stored is not None else "")
                    ),
                    has_draft=draft is not None,
                    draft_updated_at=draft.updated_at if draft is not None else None,
                    draft_updated_by=(
                        names.get(draft.updated_by_id, "") if draft and draft.updated_by_id else ""
                    ),
                    draft_revision=draft.revision if draft is not None else 0,
                    retired=row.retired_at is not None,
                    moods=tuple(
                        m.value
                        for m in (
                            library.scripts[row.id].moods
                            if row.id in library.scripts
                            else script.moods
                            if script
                            else ()
                        )
                    ),
                    proposed_for=tuple(
                        m.value
                        for m in (
                            library.scripts[row.id].proposed_for
                            if row.id in library.scripts
                            else _moods_of(row.proposed_for)
                            if row.proposed_for is not None
                            else script.proposed_for
                            if script
                            else ()
                        )
                    ),
                    moods_assigned=row.proposed_for is not None,
                    runs=runs.get(row.id, 0),
                    languages=tuple(sorted(script.languages)) if script else (),
                    linked_from=leading_to(row.id, library),
                )
            )
        entries.sort(key=lambda e: (e.retired, e.title.casefold(), e.script_id))
        return entries

    def _script_for_entry(
        self,
        script_id: str,
        version: int | None,
        draft: orm.ScriptDraft | None,
        library: Library,
    ) -> Script | None:
        if version is not None:
            parsed = self._parsed.get((script_id, version))
            if isinstance(parsed, Script):
                return parsed
        if draft is not None:
            try:
                return parse_script_text(draft.source, f"{script_id} (draft)")
            except ScriptError:
                return None
        return library.scripts.get(script_id)

    def history(self, script_id: str) -> list[VersionInfo]:
        """Every published version, newest first, with the runs that followed it."""
        self._require_read(Permission.MANAGE_SCRIPTS)
        with self._uow(read_only=True) as uow:
            names = self._names(uow)
            runs = dict(
                uow.session.execute(
                    select(orm.ScriptRun.script_version, func.count())
                    .where(orm.ScriptRun.script_id == script_id)
                    .group_by(orm.ScriptRun.script_version)
                ).all()
            )
            rows = uow.session.scalars(
                select(orm.ScriptVersion)
                .where(orm.ScriptVersion.script_id == script_id)
                .order_by(orm.ScriptVersion.version.desc())
            ).all()
            return [
                VersionInfo(
                    version=r.version,
                    title=r.title,
                    published_at=r.published_at,
                    published_by=names.get(r.published_by_id, SHIPPED_BY)
                    if r.published_by_id is not None
                    else SHIPPED_BY,
                    runs=runs.get(r.version, 0),
                )
                for r in rows
            ]

    def version_source(self, script_id: str, version: int) -> str:
        self._require_read(Permission.MANAGE_SCRIPTS)
        with self._uow(read_only=True) as uow:
            source = uow.session.scalar(
                select(orm.ScriptVersion.source).where(
                    orm.ScriptVersion.script_id == script_id,
                    orm.ScriptVersion.version == version,
                )
            )
        if source is None:
            raise NotFound(f"The script {script_id!r} has no version {version}.")
        return source

    # --- drafts ---------------------------------------------------------------------------------

    def new_script_source(self, title: str = "New script") -> str:
        """A valid script to start from, with an id no script uses yet."""
        with self._uow(read_only=True) as uow:
            taken = set(uow.session.scalars(select(orm.LibraryScript.id)))
        base, number = "new_script", 1
        script_id = base
        while script_id in taken:
            number += 1
            script_id = f"{base}_{number}"
        return new_script_source(script_id, title)

    def draft(self, script_id: str) -> ScriptDraft:
        """The stored draft, else the newest published version's text to start one from."""
        self._require_read(Permission.MANAGE_SCRIPTS)
        with self._uow(read_only=True) as uow:
            row = uow.session.get(orm.LibraryScript, script_id)
            if row is None:
                raise NotFound(f"There is no script {script_id!r} in the library.")
            stored = uow.session.get(orm.ScriptDraft, script_id)
            if stored is not None:
                return ScriptDraft(
                    script_id, stored.source, stored.revision, stored.based_on_version, True
                )
            newest = self._newest(uow, script_id)
            if newest is None:
                raise NotFound(f"The script {script_id!r} has neither a draft nor a version.")
            return ScriptDraft(script_id, newest.source, 0, newest.version, False)

    def save_draft(
        self,
        source: str,
        *,
        script_id: str | None = None,
        expected_revision: int = 0,
        source_name: str = "the draft",
    ) -> ScriptDraft:
        """Check and store a draft. ``script_id`` None: a new script (its id must be free);
        otherwise the text must keep that id. ``expected_revision`` guards against overwriting
        someone else's save (0: there was no stored draft)."""
        self._require_read(Permission.MANAGE_SCRIPTS)
        script = self._check_text(source, source_name)
        if script_id is not None and script.id != script_id:
            raise ScriptRefused(
                f"This is the script {script_id!r}, but the text now says id = {script.id!r}. "
                "Keep the id; to make another script, use New script.",
                (Problem(source_name, "must stay " + repr(script_id), field="id"),),
            )
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_SCRIPTS)
            row = uow.session.get(orm.LibraryScript, script.id)
            if script_id is None and row is not None:
                raise ScriptRefused(
                    f"The library already has a script with the id {script.id!r}. Choose another "
                    "id, or open that script to change it.",
                    (Problem(source_name, "is already used by another script", field="id"),),
                )
            if script_id is not None and row is None:
                raise NotFound(f"There is no script {script_id!r} in the library.")
            self._check_links(uow, [script], source_name, with_drafts=True)
            draft = self._store_draft(uow, script.id, source, expected_revision, new=row is None)
            uow.commit()
            return draft

    def _store_draft(
        self, uow: UnitOfWork, script_id: str, source: str, expected_revision: int, *, new: bool
    ) -> ScriptDraft:
        actor = self._actor()
        now = _now()
        if new:
            uow.session.add(orm.LibraryScript(id=script_id, created_at=now))
            self._flush(uow)
        newest = self._newest(uow, script_id)
        next_version = newest.version + 1 if newest is not None else 1
        text = with_version(source, next_version)
        draft = uow.session.get(orm.ScriptDraft, script_id)
        stored_revision = draft.revision if draft is not None else 0
        if expected_revision >= 0 and stored_revision != expected_revision:
            who = ""
            if draft is not None and draft.updated_by_id is not None:
                who = self._names(uow).get(draft.updated_by_id, "")
            raise ConflictError(
                f"{who or 'Someone'} saved this draft after you opened it. Your text is still in "
                "the editor: copy what you need, then reopen the draft.",
                changed_by=who,
                changed_at=draft.updated_at if draft is not None else None,
            )
        if draft is None:
            draft = orm.ScriptDraft(script_id=script_id, source=text)
            uow.session.add(draft)
        draft.source = text
        draft.based_on_version = newest.version if newest is not None else None
        draft.updated_at = now
        draft.updated_by_id = actor.staff_id if actor is not None else None
        self._flush(uow)
        self._audit(
            uow,
            "script.draft_saved",
            script_id,
            {"new_script": new, "next_version": next_version},
        )
        return ScriptDraft(script_id, text, draft.revision, draft.based_on_version, True)

    def discard_draft(self, script_id: str, *, expected_revision: int = -1) -> None:
        """Throw the draft away; a script that was only ever a draft leaves the library."""
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_SCRIPTS)
            draft = uow.session.get(orm.ScriptDraft, script_id)
            if draft is None:
                return
            if expected_revision >= 0 and draft.revision != expected_revision:
                raise ConflictError("Someone saved this draft after you opened it; not discarded.")
            uow.session.delete(draft)
            self._flush(uow)
            if self._newest(uow, script_id) is None:
                uow.session.execute(
                    delete(orm.LibraryScript).where(orm.LibraryScript.id == script_id)
                )
            self._audit(uow, "script.draft_discarded", script_id, {})
            uow.commit()

    # --- publishing -----------------------------------------------------------------------------

    def publish(self, script_ids: Sequence[str]) -> list[int]:
        """Publish the drafts together (scripts that lead to each other can go live at once);
        returns the new version numbers. Runs under way keep the version they started with."""
        if not script_ids:
            return []
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_SCRIPTS)
            candidates: list[Script] = []
            drafts: list[orm.ScriptDraft] = []
            for script_id in dict.fromkeys(script_ids):
                draft = uow.session.get(orm.ScriptDraft, script_id)
                if draft is None:
                    raise NotFound(
                        f"The script {script_id!r} has no draft to publish; it may have been "
                        "published or discarded by someone else."
                    )
                newest = self._newest(uow, script_id)
                version = newest.version + 1 if newest is not None else 1
                source = with_version(draft.source, version)
                script = self._check_text(source, f"{script_id} (draft)")
                candidates.append(replace(script, id=script_id, version=version))
                draft.source = source
                drafts.append(draft)
            self._check_links(uow, candidates, "the draft", with_drafts=False)
            actor = self._actor()
            now = _now()
            versions = []
            for script, draft in zip(candidates, drafts, strict=True):
                uow.session.add(
                    orm.ScriptVersion(
                        script_id=script.id,
                        version=script.version,
                        title=script.title.in_language(script.default_language)[:200],
                        source=draft.source,
                        published_at=now,
                        published_by_id=actor.staff_id if actor is not None else None,
                    )
                )
                uow.session.delete(draft)
                row = uow.session.get(orm.LibraryScript, script.id)
                assert row is not None
                if row.retired_at is not None:  # publishing brings it back into use
                    row.retired_at = None
                    row.retired_by_id = None
                self._flush(uow)
                self._audit(uow, "script.published", script.id, {"version": script.version})
                versions.append(script.version)
            uow.commit()
            return versions

    def retire(self, script_id: str) -> None:
        """Take a script out of use: the panel stops offering it; its runs keep their record."""
        self._require_read(Permission.MANAGE_SCRIPTS)  # before telling what leads to it
        library = self.published()
        leading = leading_to(script_id, library)
        if leading:
            titles = ", ".join(
                library[s].title.in_language(library[s].default_language) for s in leading
            )
            raise ScriptRefused(
                f"Other scripts lead to this one ({titles}). Change or retire them first, so no "
                "answer leads to a script that is gone."
            )
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_SCRIPTS)
            row = self._script_row(uow, script_id)
            if row.retired_at is not None:
                return
            actor = self._actor()
            row.retired_at = _now()
            row.retired_by_id = actor.staff_id if actor is not None else None
            self._flush(uow)
            self._audit(uow, "script.retired", script_id, {})
            uow.commit()

    def restore(self, script_id: str) -> None:
        """Put a retired script back into use (its newest published version)."""
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_SCRIPTS)
            row = self._script_row(uow, script_id)
            if row.retired_at is None:
                return
            newest = self._newest(uow, script_id)
            if newest is None:
                raise ScriptRefused("This script was never published; publish its draft instead.")
            script = self._check_text(newest.source, f"{script_id} (version {newest.version})")
            self._check_links(uow, [script], script_id, with_drafts=False)
            row.retired_at = None
            row.retired_by_id = None
            self._flush(uow)
            self._audit(uow, "script.restored", script_id, {})
            uow.commit()

    def assign_moods(self, script_id: str, moods: Sequence[str] | None) -> None:
        """The moods the panel proposes this script for; None goes back to what the file says."""
        self._require_read(Permission.MANAGE_SCRIPTS)
        chosen: tuple[str, ...] | None = None
        if moods is not None:
            unknown = [m for m in moods if m not in Mood.__members__.values()]
            if unknown:
                raise ScriptRefused(
                    f"Unknown mood(s): {', '.join(unknown)}. The moods are "
                    f"{', '.join(m.value for m in Mood)}."
                )
            chosen = tuple(dict.fromkeys(moods))
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_SCRIPTS)
            row = self._script_row(uow, script_id)
            text = _moods_text(chosen) if chosen is not None else None
            if row.proposed_for == text:
                return
            before = row.proposed_for
            row.proposed_for = text
            self._flush(uow)
            # "(file)": the moods the script's own text proposes; "": proposed for no mood.
            self._audit(
                uow,
                "script.moods_assigned",
                script_id,
                {
                    "before": before if before is not None else "(file)",
                    "after": text if text is not None else "(file)",
                },
            )
            uow.commit()

    # --- files ----------------------------------------------------------------------------------

    def import_files(self, paths: Sequence[Path]) -> list[ImportResult]:
        """Each file becomes a draft (of a new script, or replacing the draft of its namesake);
        a refused file says why and does not stop the others. Files that lead to each other may
        come in together."""
        loaded: list[tuple[Path, Script, str]] = []
        results: dict[Path, ImportResult] = {}
        for path in paths:
            try:
                script = load_script_file(path, limit=MAX_FILE_BYTES)
                loaded.append((path, script, path.read_text(encoding="utf-8")))
            except ScriptError as exc:
                results[path] = ImportResult(path.name, None, exc.problems)
            except (OSError, UnicodeDecodeError) as exc:
                results[path] = ImportResult(path.name, None, (Problem(path.name, str(exc)),))
        seen: dict[str, Path] = {}
        for path, script, _source in loaded:
            if script.id in seen:
                results[path] = ImportResult(
                    path.name,
                    script.id,
                    (Problem(path.name, f"has the same id as {seen[script.id].name}", field="id"),),
                )
            else:
                seen[script.id] = path
        batch = [(p, s, src) for p, s, src in loaded if p not in results]
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_SCRIPTS)
            context = self._link_context(uow, with_drafts=True)
            for _path, script, _source in batch:
                context[script.id] = script
            built = build_library(context.values())
            broken = {r.problems[0].file: r for r in built.refusals if r.problems}
            for path, script, source in batch:
                refusal = broken.get(script.source)
                if refusal is not None:
                    results[path] = ImportResult(path.name, script.id, refusal.problems)
                    continue
                row = uow.session.get(orm.LibraryScript, script.id)
                newest = self._newest(uow, script.id) if row is not None else None
                if newest is not None and with_version(source, newest.version) == newest.source:
                    results[path] = ImportResult(path.name, script.id, unchanged=True)
                    continue
                had_draft = uow.session.get(orm.ScriptDraft, script.id)
                revision = had_draft.revision if had_draft is not None else 0
                self._store_draft(uow, script.id, source, revision, new=row is None)
                results[path] = ImportResult(
                    path.name, script.id, (), had_draft is not None, row is None
                )
            uow.commit()
        return [results[p] for p in paths]

    def export(self, script_id: str, path: Path, *, draft: bool = False) -> Path:
        """Write the newest published version (or the draft) as a TOML file."""
        self._require_read(Permission.MANAGE_SCRIPTS)
        with self._uow(read_only=True) as uow:
            if draft:
                stored = uow.session.get(orm.ScriptDraft, script_id)
                if stored is None:
                    raise NotFound(f"The script {script_id!r} has no draft.")
                source = stored.source
            else:
                newest = self._newest(uow, script_id)
                if newest is None:
                    raise NotFound(f"The script {script_id!r} has no published version.")
                source = newest.source
        self._write(path, source)
        return path

    def export_all(self, directory: Path) -> list[Path]:
        """Every script in use, newest published version, one ``<id>.toml`` each."""
        self._require_read(Permission.MANAGE_SCRIPTS)
        with self._uow(read_only=True) as uow:
            live = [
                s.id
                for s in uow.session.scalars(
                    select(orm.LibraryScript).where(orm.LibraryScript.retired_at.is_(None))
                )
            ]
            sources = [(i, self._newest(uow, i)) for i in live]
        written = []
        for script_id, newest in sources:
            if newest is not None:
                written.append(self._write(directory / f"{script_id}.toml", newest.source))
        return written

    def _write(self, path: Path, source: str) -> Path:
        try:
            path.write_text(source, encoding="utf-8")
        except OSError as exc:
            raise DeskError(f"{path} could not be written: {exc.strerror or exc}") from exc
        return path

    # --- insight --------------------------------------------------------------------------------

    def insight(self, *, since: dt.datetime | None = None) -> list[ScriptInsight]:
        """For each script: how often it was run, how runs ended, and after which question runs
        most often turned into an escalation. Counts the runs of cases the reader may see."""
        actor = self._actor()
        if actor is not None:
            with self._uow(read_only=True) as uow:
                held = held_permissions(uow.session, actor.staff_id)
            if not held & {Permission.VIEW_REPORTS.value, Permission.MANAGE_SCRIPTS.value}:
                raise PermissionRefused(
                    "The script insight report needs the permission 'view_reports' or "
                    "'manage_scripts', which your role does not have."
                )
        library = self.published()
        run = orm.ScriptRun
        period = [run.started_at >= since] if since is not None else []
        with self._uow(read_only=True) as uow:
            outcomes = uow.session.execute(
                select(run.script_id, run.outcome, func.count())
                .where(*period)
                .group_by(run.script_id, run.outcome)
            ).all()
            versions = uow.session.execute(
                select(run.script_id, run.script_version, func.count())
                .where(*period)
                .group_by(run.script_id, run.script_version)
            ).all()
            turns = uow.session.execute(
                select(
                    run.script_id,
                    run.turn_script_id,
                    run.turn_step_id,
                    run.turn_answer_id,
                    func.count(),
                )
                .where(run.turn_step_id.is_not(None), *period)
                .group_by(run.script_id, run.turn_script_id, run.turn_step_id, run.turn_answer_id)
            ).all()
            retired = {
                s.id: s.retired_at is not None
                for s in uow.session.scalars(select(orm.LibraryScript))
            }
        by_script: dict[str, dict[str, int]] = {}
        for script_id, outcome, count in outcomes:
            key = outcome or UNFINISHED
            by_script.setdefault(script_id, {})[key] = count
        by_version: dict[str, list[tuple[int, int]]] = {}
        for script_id, version, count in versions:
            by_version.setdefault(script_id, []).append((version, count))
        turns_of: dict[str, list[EscalationTurn]] = {}
        for script_id, turn_script, step_id, answer_id, count in turns:
            step_id = step_id or ""
            question, answer = self._turn_words(
                library, turn_script or script_id, step_id, answer_id
            )
            turns_of.setdefault(script_id, []).append(
                EscalationTurn(
                    turn_script or script_id, step_id, answer_id or "", question, answer, count
                )
            )
        report = []
        for script_id in sorted(set(by_script) | set(library.scripts)):
            counts = by_script.get(script_id, {})
            script = library.scripts.get(script_id) or self._any_version(library, script_id)
            title = script.title.in_language(script.default_language) if script else script_id
            report.append(
                ScriptInsight(
                    script_id=script_id,
                    title=title,
                    retired=retired.get(script_id, False),
                    runs=sum(counts.values()),
                    outcomes=counts,
                    by_version=tuple(sorted(by_version.get(script_id, []), reverse=True)),
                    turns=tuple(
                        sorted(turns_of.get(script_id, []), key=lambda t: (-t.runs, t.question))
                    ),
                )
            )
        report.sort(key=lambda r: (-r.runs, r.title.casefold()))
        return report

    def _any_version(self, library: Library, script_id: str) -> Script | None:
        versions = [s for (i, _v), s in library.earlier.items() if i == script_id]
        return max(versions, key=lambda s: s.version) if versions else None

    def _turn_words(
        self, library: Library, script_id: str, step_id: str, answer_id: str | None
    ) -> tuple[str, str]:
        """The question and answer in words, from the newest version that has the step."""
        candidates = [
            library.scripts.get(script_id),
            *sorted(
                (s for (i, _v), s in library.earlier.items() if i == script_id),
                key=lambda s: -s.version,
            ),
        ]
        for script in candidates:
            if script is None:
                continue
            try:
                step = script.step(step_id)
            except KeyError:
                continue
            question = step.text.in_language(script.default_language)
            try:
                answer = step.answer(answer_id or "").text.in_language(script.default_language)
            except KeyError:
                answer = answer_id or ""
            return question, answer
        return step_id, answer_id or ""

    # --- helpers --------------------------------------------------------------------------------

    def _check_text(self, source: str, source_name: str) -> Script:
        size = len(source.encode("utf-8"))
        if size > MAX_FILE_BYTES:
            raise ScriptRefused(
                f"The script is too large: {size:,} bytes, at most {MAX_FILE_BYTES:,} allowed.",
                (Problem(source_name, "is too large"),),
            )
        try:
            return parse_script_text(source, source_name)
        except ScriptError as exc:
            raise ScriptRefused(
                "The script has problems; nothing was saved. Each line says where.", exc.problems
            ) from None
        except RecursionError:
            raise ScriptRefused(
                "The script is nested too deeply to read.", (Problem(source_name, "too deep"),)
            ) from None

    def _link_context(self, uow: UnitOfWork, *, with_drafts: bool) -> dict[str, Script]:
        """The scripts others may lead to: the live library, and the drafts when asked."""
        context = dict(self.published().scripts)
        if with_drafts:
            for draft in uow.session.scalars(select(orm.ScriptDraft)):
                try:
                    context[draft.script_id] = parse_script_text(draft.source, draft.script_id)
                except ScriptError:
                    continue
        return context

    def _check_links(
        self, uow: UnitOfWork, scripts: Sequence[Script], source_name: str, *, with_drafts: bool
    ) -> None:
        context = self._link_context(uow, with_drafts=with_drafts)
        for script in scripts:
            context[script.id] = script
        built = build_library(context.values())
        ours = {s.source for s in scripts}
        problems = [p for refusal in built.refusals for p in refusal.problems if p.file in ours]
        if problems:
            hint = (
                " Publish the scripts it leads to first, or together with it."
                if not with_drafts
                else ""
            )
            raise ScriptRefused(
                "The script leads to scripts that are not in the library, or round in a loop "
                "with no way out." + hint,
                problems,
            )

    def _newest(self, uow: UnitOfWork, script_id: str) -> orm.ScriptVersion | None:
        return uow.session.scalar(
            select(orm.ScriptVersion)
            .where(orm.ScriptVersion.script_id == script_id)
            .order_by(orm.ScriptVersion.version.desc())
            .limit(1)
        )

    def _script_row(self, uow: UnitOfWork, script_id: str) -> orm.LibraryScript:
        row = uow.session.get(orm.LibraryScript, script_id)
        if row is None:
            raise NotFound(f"There is no script {script_id!r} in the library.")
        return row

    def _names(self, uow: UnitOfWork) -> dict[int, str]:
        return dict(uow.session.execute(select(orm.Staff.id, orm.Staff.full_name)).all())

    def _require_read(self, permission: Permission) -> None:
        with self._uow(read_only=True) as uow:
            self._require(uow, permission)

    def _require(self, uow: UnitOfWork, permission: Permission) -> None:
        actor = self._actor()
        if actor is None:
            return  # the operator, on the owner's connection or the embedded file
        if permission.value not in held_permissions(uow.session, actor.staff_id):
            raise PermissionRefused(
                f"This needs the permission {permission.value!r}, which your role does not have."
            )

    def _flush(self, uow: UnitOfWork) -> None:
        try:
            uow.session.flush()
        except StaleDataError as exc:
            raise ConflictError(
                "Someone else changed this script at the same moment; reload and try again."
            ) from exc
        except IntegrityError as exc:
            raise ConflictError(
                "Someone else published or changed this script at the same moment; reload and "
                "try again."
            ) from exc
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "42501":
                diag = getattr(exc.orig, "diag", None)
                raise PermissionRefused(
                    str(getattr(diag, "message_primary", None) or exc.orig)
                ) from exc
            raise

    def _audit(
        self, uow: UnitOfWork, action: str, script_id: str, details: Mapping[str, object]
    ) -> None:
        actor = self._actor()
        audit.record(
            uow,
            actor=actor,
            action=action,
            entity="script",
            entity_id=script_id,
            details=details,
            actor_name=None if actor else audit.OPERATOR_NAME,
            at=_now(),
        )
