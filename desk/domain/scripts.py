"""Guided scripts for difficult situations: the model, the TOML loader and its validation.

A script is data (a TOML file under ``resources/scripts/``): an ordered list of steps the officer
follows one at a time. Every text is a table of languages (``text.en = "…"``, ``text.es = "…"``);
the default language must always be there, the panel shows the officer's language when the script
has it. Files are checked when they are loaded and a broken one is refused with messages that name
the file, the step and the field; the rest of the library still loads.

File layout::

    id = "last"                      # letters, digits and underscores
    version = 1                      # a positive whole number
    default_language = "en"
    moods = ["frustrated", "angry"]  # the moods it suits, best first
    proposed_for = ["frustrated"]    # optional: the moods for which the panel proposes it first
    title.en = "L.A.S.T."
    summary.en = "…"                 # optional

    [[steps]]
    id = "listen"
    kind = "guidance"                # guidance, say, ask, check, action or end
    text.en = "Let them speak."
    next = "apologise"               # optional: the following step in the file

    [[steps]]
    id = "apologise"
    kind = "say"
    text.en = "Say sorry for how this has felt."
    phrases = [{ en = "I'm sorry, {customer_name}." }]

    [[steps]]
    id = "solved"
    kind = "ask"
    text.en = "Could it be solved here?"
    answers = [
      { id = "yes", text.en = "Yes", goto = "thank" },
      { id = "no", text.en = "No", script = "cannot_grant" },
    ]

    [[steps]]
    kind = "check"                   # text is the item to tick
    kind = "action"                  # action = "escalation" | "referral" | "approval_request"
                                     #          | "safety_alert"
    kind = "end"                     # outcome = "calmed_and_resolved" | "escalated"
                                     #           | "customer_left" | "safety_incident"

The run engine (:mod:`desk.domain.script_run`) walks a script; this module only knows its shape.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 256 * 1024
PLACEHOLDERS: frozenset[str] = frozenset({"customer_name", "officer_name", "case_ref"})
MAX_STEPS = 200

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_FORMATTER = string.Formatter()


class Mood(StrEnum):
    CALM = "calm"
    ANXIOUS = "anxious"
    FRUSTRATED = "frustrated"
    ANGRY = "angry"
    DISTRESSED = "distressed"
    AGGRESSIVE = "aggressive"


class StepKind(StrEnum):
    GUIDANCE = "guidance"
    SAY = "say"
    ASK = "ask"
    CHECK = "check"
    ACTION = "action"
    END = "end"


class ActionKind(StrEnum):
    ESCALATION = "escalation"
    REFERRAL = "referral"
    APPROVAL_REQUEST = "approval_request"
    SAFETY_ALERT = "safety_alert"


class Outcome(StrEnum):
    CALMED_AND_RESOLVED = "calmed_and_resolved"
    ESCALATED = "escalated"
    CUSTOMER_LEFT = "customer_left"
    SAFETY_INCIDENT = "safety_incident"


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(member.value for member in enum)


# --- the model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One text in several languages; ``default`` is the language that is always there."""

    by_language: Mapping[str, str]
    default: str

    def in_language(self, language: str) -> str:
        """The text in ``language`` ("es" or "es-MX": the region falls back to the language),
        else in the script's default language."""
        for candidate in (language, language.split("-")[0].split("_")[0]):
            if candidate in self.by_language:
                return self.by_language[candidate]
        return self.by_language[self.default]

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self.by_language)


@dataclass(frozen=True)
class Answer:
    """One answer of an ask step: it leads to a step of this script or to another script."""

    id: str
    text: Text
    goto: str | None = None
    script: str | None = None


@dataclass(frozen=True)
class Step:
    id: str
    kind: StepKind
    text: Text
    next: str | None = None  # guidance, say, check, action
    phrases: tuple[Text, ...] = ()  # say
    answers: tuple[Answer, ...] = ()  # ask
    action: ActionKind | None = None  # action
    outcome: Outcome | None = None  # end

    def targets(self) -> Iterator[str]:
        """The steps of the same script this step can lead to."""
        if self.next is not None:
            yield self.next
        for answer in self.answers:
            if answer.goto is not None:
                yield answer.goto

    def answer(self, answer_id: str) -> Answer:
        for answer in self.answers:
            if answer.id == answer_id:
                return answer
        raise KeyError(f"step {self.id!r} has no answer {answer_id!r}")


@dataclass(frozen=True)
class Script:
    id: str
    version: int
    title: Text
    moods: tuple[Mood, ...]
    default_language: str
    steps: tuple[Step, ...]
    summary: Text | None = None
    source: str = ""
    proposed_for: tuple[Mood, ...] = ()

    @property
    def first(self) -> Step:
        return self.steps[0]

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"script {self.id!r} has no step {step_id!r}")

    def index(self, step_id: str) -> int:
        return [s.id for s in self.steps].index(step_id)

    @property
    def languages(self) -> frozenset[str]:
        found = set(self.title.languages)
        for step in self.steps:
            found |= step.text.languages
        return frozenset(found)

    def linked_scripts(self) -> frozenset[str]:
        return frozenset(
            answer.script
            for step in self.steps
            for answer in step.answers
            if answer.script is not None
        )

    def outcomes(self) -> frozenset[Outcome]:
        return frozenset(s.outcome for s in self.steps if s.outcome is not None)

    def steps_to_end(self) -> dict[str, int]:
        """For each step, how many steps a typical path still shows, this one included (the
        longest way to an end once loops back are set aside): the "about" of the progress."""
        ids = {s.id: s for s in self.steps}
        order: dict[str, int] = {}
        back_edges: set[tuple[str, str]] = set()

        def visit(start: str) -> None:  # iterative depth-first search, marking loops back
            stack: list[tuple[str, Iterator[str]]] = [(start, ids[start].targets())]
            order[start] = 1
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    order[node] = 2
                    stack.pop()
                elif child not in order:
                    order[child] = 1
                    stack.append((child, ids[child].targets()))
                elif order[child] == 1:
                    back_edges.add((node, child))

        for step in self.steps:
            if step.id not in order:
                visit(step.id)
        memo: dict[str, int] = {}

        def longest(node: str) -> int:
            if node in memo:
                return memo[node]
            pending = [node]
            while pending:
                current = pending[-1]
                children = [c for c in ids[current].targets() if (current, c) not in back_edges]
                missing = [c for c in children if c not in memo]
                if missing:
                    pending.extend(missing)
                    continue
                pending.pop()
                memo[current] = 1 + max((memo[c] for c in children), default=0)
            return memo[node]

        return {s.id: longest(s.id) for s in self.steps}


# --- problems and refusals ------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: the file, the step (if any) and the field (if any)."""

    file: str
    message: str
    step: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.step is not None:
            where.append(f"step {self.step!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}"


@dataclass
class ScriptError(ValueError):
    """A script file that was refused; ``problems`` lists every reason found."""

    problems: tuple[Problem, ...]

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    @property
    def file(self) -> str:
        return self.problems[0].file if self.problems else ""


@dataclass
class _Collector:
    file: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, message: str, *, step: str | None = None, field_name: str | None = None) -> None:
        self.problems.append(Problem(self.file, message, step, field_name))


def placeholders_in(text: str) -> list[str]:
    """The ``{name}`` placeholders of a text; a stray brace raises ValueError."""
    names = []
    for _literal, name, spec, conversion in _FORMATTER.parse(text):
        if name is not None:
            if spec or conversion:
                raise ValueError(f"{{{name}}} may not carry a format or conversion")
            names.append(name)
    return names


def fill(text: str, values: Mapping[str, str]) -> str:
    """Put the values in the placeholders; a placeholder without a value is shown as
    ``[customer name]`` so the officer sees what to say."""
    parts = []
    for literal, name, _spec, _conversion in _FORMATTER.parse(text):
        parts.append(literal)
        if name is not None:
            value = values.get(name, "")
            parts.append(value if value else f"[{name.replace('_', ' ')}]")
    return "".join(parts)


# --- parsing ------------------------------------------------------------------------------------

_COMMON_FIELDS = {"id", "kind", "text"}
_KIND_FIELDS: dict[StepKind, set[str]] = {
    StepKind.GUIDANCE: {"next"},
    StepKind.SAY: {"next", "phrases"},
    StepKind.ASK: {"answers"},
    StepKind.CHECK: {"next"},
    StepKind.ACTION: {"next", "action"},
    StepKind.END: {"outcome"},
}
_SCRIPT_FIELDS = {
    "id",
    "version",
    "title",
    "summary",
    "moods",
    "proposed_for",
    "default_language",
    "steps",
}
_ANSWER_FIELDS = {"id", "text", "goto", "script"}


class _Parser:
    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.c = _Collector(source)
        self.default_language = "en"

    def text(
        self, value: Any, *, step: str | None, field_name: str, required: bool = True
    ) -> Text | None:
        if value is None:
            if required:
                self.c.add("is missing", step=step, field_name=field_name)
            return None
        if isinstance(value, str):
            value = {self.default_language: value}
        if not isinstance(value, dict) or not value:
            self.c.add(
                'must be a table of languages, such as { en = "…" }',
                step=step,
                field_name=field_name,
            )
            return None
        ok = True
        texts: dict[str, str] = {}
        for language, text in value.items():
            where = f"{field_name}.{language}"
            if not _LANGUAGE.match(str(language)):
                self.c.add(
                    f"{language!r} is not a language code (such as en or es)",
                    step=step,
                    field_name=where,
                )
                ok = False
                continue
            if not isinstance(text, str) or not text.strip():
                self.c.add("must be a text that is not empty", step=step, field_name=where)
                ok = False
                continue
            try:
                unknown = [n for n in placeholders_in(text) if n not in PLACEHOLDERS]
            except ValueError as exc:
                self.c.add(
                    f"has a stray brace or a malformed placeholder ({exc})",
                    step=step,
                    field_name=where,
                )
                ok = False
                continue
            if unknown:
                known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
                self.c.add(
                    f"unknown placeholder {{{unknown[0]}}}; use {known}",
                    step=step,
                    field_name=where,
                )
                ok = False
                continue
            texts[language] = text.strip()
        if self.default_language not in value:
            self.c.add(
                f"has no text in the default language {self.default_language!r}",
                step=step,
                field_name=field_name,
            )
            ok = False
        return Text(texts, self.default_language) if ok else None

    def identifier(self, value: Any, *, step: str | None, field_name: str) -> str | None:
        if value is None:
            self.c.add("is missing", step=step, field_name=field_name)
            return None
        if not isinstance(value, str) or not _ID.match(value):
            self.c.add(
                f"{value!r} is not a valid id: use lower-case letters, digits and underscores, "
                "starting with a letter",
                step=step,
                field_name=field_name,
            )
            return None
        return value

    def enum(self, enum: type[StrEnum], value: Any, *, step: str | None, field_name: str) -> Any:
        if value is None:
            self.c.add(
                f"is missing; choose one of {_choices(enum)}", step=step, field_name=field_name
            )
            return None
        try:
            return enum(value)
        except ValueError:
            self.c.add(
                f"{value!r} is not known; choose one of {_choices(enum)}",
                step=step,
                field_name=field_name,
            )
            return None

    def unknown_fields(
        self, table: Mapping[str, Any], allowed: set[str], *, step: str | None, prefix: str = ""
    ) -> None:
        for name in table:
            if name not in allowed:
                self.c.add(
                    f"is not a field here (allowed: {', '.join(sorted(allowed))})",
                    step=step,
                    field_name=prefix + name,
                )

    def script(self) -> Script:
        d = self.data
        self.unknown_fields(d, _SCRIPT_FIELDS, step=None)
        language = d.get("default_language")
        if language is None:
            self.c.add("is missing", field_name="default_language")
        elif not isinstance(language, str) or not _LANGUAGE.match(language):
            self.c.add(f"{language!r} is not a language code", field_name="default_language")
        else:
            self.default_language = language
        script_id = self.identifier(d.get("id"), step=None, field_name="id")
        version = d.get("version")
        if version is None:
            self.c.add("is missing", field_name="version")
        elif not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self.c.add(f"{version!r} is not a positive whole number", field_name="version")
        title = self.text(d.get("title"), step=None, field_name="title")
        summary = self.text(d.get("summary"), step=None, field_name="summary", required=False)
        moods: list[Mood] = []
        raw_moods = d.get("moods")
        if not isinstance(raw_moods, list) or not raw_moods:
            self.c.add(f"must list at least one of {_choices(Mood)}", field_name="moods")
        else:
            for i, raw in enumerate(raw_moods):
                mood = self.enum(Mood, raw, step=None, field_name=f"moods[{i}]")
                if mood is not None:
                    moods.append(mood)
        proposed: list[Mood] = []
        raw_proposed = d.get("proposed_for", [])
        if not isinstance(raw_proposed, list):
            self.c.add("must be a list of moods", field_name="proposed_for")
        else:
            for i, raw in enumerate(raw_proposed):
                mood = self.enum(Mood, raw, step=None, field_name=f"proposed_for[{i}]")
                if mood is not None and moods and mood not in moods:
                    self.c.add(
                        f"{mood.value!r} is not among the moods the script suits",
                        field_name=f"proposed_for[{i}]",
                    )
                elif mood is not None:
                    proposed.append(mood)
        steps = self.steps(d.get("steps"))
        if self.c.problems:
            raise ScriptError(tuple(self.c.problems))
        assert script_id is not None and title is not None and isinstance(version, int)
        script = Script(
            script_id,
            version,
            title,
            tuple(dict.fromkeys(moods)),
            self.default_language,
            tuple(steps),
            summary,
            self.c.file,
            tuple(dict.fromkeys(proposed)),
        )
        self.check_graph(script)
        if self.c.problems:
            raise ScriptError(tuple(self.c.problems))
        return script

    def steps(self, raw_steps: Any) -> list[Step]:
        if not isinstance(raw_steps, list) or not raw_steps:
            self.c.add("must hold at least one [[steps]] table", field_name="steps")
            return []
        if len(raw_steps) > MAX_STEPS:
            self.c.add(
                f"has {len(raw_steps)} steps, at most {MAX_STEPS} allowed", field_name="steps"
            )
            return []
        steps: list[Step] = []
        seen: set[str] = set()
        for position, raw in enumerate(raw_steps, start=1):
            label = f"#{position}"
            if not isinstance(raw, dict):
                self.c.add("must be a table", step=label)
                continue
            step_id = self.identifier(raw.get("id"), step=label, field_name="id")
            if step_id is not None:
                if step_id in seen:
                    self.c.add("is used by an earlier step too", step=step_id, field_name="id")
                seen.add(step_id)
                label = step_id
            step = self.step(raw, label, step_id, raw_steps, position)
            if step is not None:
                steps.append(step)
        return steps

    def step(
        self,
        raw: dict[str, Any],
        label: str,
        step_id: str | None,
        raw_steps: list[Any],
        position: int,
    ) -> Step | None:
        kind = self.enum(StepKind, raw.get("kind"), step=label, field_name="kind")
        text = self.text(raw.get("text"), step=label, field_name="text")
        if kind is None:
            return None
        self.unknown_fields(raw, _COMMON_FIELDS | _KIND_FIELDS[kind], step=label)
        next_id: str | None = None
        phrases: list[Text] = []
        answers: list[Answer] = []
        action: ActionKind | None = None
        outcome: Outcome | None = None
        if kind in (StepKind.GUIDANCE, StepKind.SAY, StepKind.CHECK, StepKind.ACTION):
            if "next" in raw:
                next_id = self.identifier(raw["next"], step=label, field_name="next")
            elif position < len(raw_steps):
                following = raw_steps[position]
                next_id = following.get("id") if isinstance(following, dict) else None
                if not isinstance(next_id, str):
                    next_id = None
            else:
                self.c.add(
                    "is missing: the last step must be an end, or say which step comes next",
                    step=label,
                    field_name="next",
                )
        if kind is StepKind.SAY:
            raw_phrases = raw.get("phrases")
            if not isinstance(raw_phrases, list) or not raw_phrases:
                self.c.add("must list at least one phrase", step=label, field_name="phrases")
            else:
                for i, raw_phrase in enumerate(raw_phrases):
                    phrase = self.text(raw_phrase, step=label, field_name=f"phrases[{i}]")
                    if phrase is not None:
                        phrases.append(phrase)
        elif kind is StepKind.ASK:
            answers = self.answers(raw.get("answers"), label)
        elif kind is StepKind.ACTION:
            action = self.enum(ActionKind, raw.get("action"), step=label, field_name="action")
        elif kind is StepKind.END:
            outcome = self.enum(Outcome, raw.get("outcome"), step=label, field_name="outcome")
        if step_id is None or text is None:
            return None
        return Step(step_id, kind, text, next_id, tuple(phrases), tuple(answers), action, outcome)

    def answers(self, raw_answers: Any, label: str) -> list[Answer]:
        if not isinstance(raw_answers, list) or not raw_answers:
            self.c.add("must list at least one answer", step=label, field_name="answers")
            return []
        answers: list[Answer] = []
        seen: set[str] = set()
        for i, raw in enumerate(raw_answers):
            where = f"answers[{i}]"
            if not isinstance(raw, dict):
                self.c.add("must be a table", step=label, field_name=where)
                continue
            self.unknown_fields(raw, _ANSWER_FIELDS, step=label, prefix=f"{where}.")
            answer_id = self.identifier(raw.get("id"), step=label, field_name=f"{where}.id")
            if answer_id is not None and answer_id in seen:
                self.c.add(
                    "is used by another answer of this step", step=label, field_name=f"{where}.id"
                )
            if answer_id is not None:
                seen.add(answer_id)
            text = self.text(raw.get("text"), step=label, field_name=f"{where}.text")
            goto, script = raw.get("goto"), raw.get("script")
            if (goto is None) == (script is None):
                self.c.add(
                    "needs exactly one of goto (a step) or script (another script)",
                    step=label,
                    field_name=where,
                )
                continue
            if goto is not None:
                goto = self.identifier(goto, step=label, field_name=f"{where}.goto")
            if script is not None:
                script = self.identifier(script, step=label, field_name=f"{where}.script")
            if answer_id is not None and text is not None and (goto or script):
                answers.append(Answer(answer_id, text, goto, script))
        return answers

    def check_graph(self, script: Script) -> None:
        ids = {s.id for s in script.steps}
        dangling = False
        for step in script.steps:
            if step.next is not None and step.next not in ids:
                self.c.add(
                    f"leads to a step {step.next!r} that does not exist",
                    step=step.id,
                    field_name="next",
                )
                dangling = True
            for i, answer in enumerate(step.answers):
                if answer.goto is not None and answer.goto not in ids:
                    self.c.add(
                        f"leads to a step {answer.goto!r} that does not exist",
                        step=step.id,
                        field_name=f"answers[{i}].goto",
                    )
                    dangling = True
                if answer.script == script.id:
                    self.c.add(
                        "leads back to this same script; use goto for its steps",
                        step=step.id,
                        field_name=f"answers[{i}].script",
                    )
        if dangling:
            return
        ending = _steps_that_end({script.id: script}, {}, leaving_counts=True)
        for step in script.steps:
            if (script.id, step.id) not in ending:
                self.c.add(
                    "never reaches an end: every way on from here goes round in a loop "
                    "with no way out",
                    step=step.id,
                )


def _steps_that_end(
    scripts: Mapping[str, Script], firsts: Mapping[str, str], *, leaving_counts: bool
) -> set[tuple[str, str]]:
    """The (script, step) pairs from which some path reaches an end step. A branch to another
    script counts as an end when ``leaving_counts`` (one file checked on its own); otherwise it
    leads to the first step of that script (the whole library)."""
    predecessors: dict[tuple[str, str], list[tuple[str, str]]] = {}
    ending: deque[tuple[str, str]] = deque()
    for script in scripts.values():
        for step in script.steps:
            node = (script.id, step.id)
            if step.kind is StepKind.END:
                ending.append(node)
            for target in step.targets():
                predecessors.setdefault((script.id, target), []).append(node)
            for answer in step.answers:
                if answer.script is None:
                    continue
                if leaving_counts:
                    ending.append(node)
                elif answer.script in firsts:
                    predecessors.setdefault((answer.script, firsts[answer.script]), []).append(node)
    reached = set(ending)
    while ending:
        node = ending.popleft()
        for before in predecessors.get(node, ()):
            if before not in reached:
                reached.add(before)
                ending.append(before)
    return reached


def parse_script(data: Mapping[str, Any], source: str = "<script>") -> Script:
    """Build and check a script from parsed TOML; raises ScriptError listing every problem."""
    return _Parser(data, source).script()


def parse_script_text(text: str, source: str = "<script>") -> Script:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScriptError((Problem(source, f"is not valid TOML: {exc}"),)) from None
    return parse_script(data, source)


def load_script_file(path: Path, *, limit: int = MAX_FILE_BYTES) -> Script:
    """Read and check one file; a file over ``limit`` bytes is refused without reading it all."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > limit:
            raise ScriptError((Problem(name, _too_big(size, limit)),))
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise ScriptError((Problem(name, f"cannot be read: {exc.strerror or exc}"),)) from None
    if len(raw) > limit:  # it grew after stat
        raise ScriptError((Problem(name, _too_big(len(raw), limit)),))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScriptError((Problem(name, f"is not UTF-8 text ({exc.reason})"),)) from None
    return parse_script_text(text, name)


def _too_big(size: int, limit: int) -> str:
    return f"is too large: {size:,} bytes, at most {limit:,} allowed for a script"


# --- the library ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Library:
    """The scripts that loaded, in file-name order, and the files that were refused."""

    scripts: Mapping[str, Script]
    refusals: tuple[ScriptError, ...] = ()
    # Versions no longer in use (older ones, retired scripts): a recorded run names the version it
    # followed, and its timeline is told with that version's words.
    earlier: Mapping[tuple[str, int], Script] = field(default_factory=dict)

    def at_version(self, script_id: str, version: int) -> Script | None:
        """The script as it was at ``version``; None when the library never had it."""
        current = self.scripts.get(script_id)
        if current is not None and current.version == version:
            return current
        return self.earlier.get((script_id, version))

    def __contains__(self, script_id: object) -> bool:
        return script_id in self.scripts

    def __getitem__(self, script_id: str) -> Script:
        return self.scripts[script_id]

    def __iter__(self) -> Iterator[Script]:
        return iter(self.scripts.values())

    def __len__(self) -> int:
        return len(self.scripts)

    def propose(self, mood: Mood | str | None) -> Script | None:
        """The script that fits the mood best: one proposed for it, else the one that lists it
        earliest among the moods it suits (ties: file order)."""
        if mood is None or mood == "":
            return None
        mood = Mood(mood)
        fitting = [
            (mood not in script.proposed_for, script.moods.index(mood), position, script)
            for position, script in enumerate(self.scripts.values())
            if mood in script.moods
        ]
        return min(fitting, key=lambda item: item[:3])[3] if fitting else None


def build_library(scripts: Iterable[Script], refusals: Iterable[ScriptError] = ()) -> Library:
    """Check what only the whole library can tell (duplicate ids, branches to other scripts,
    loops that run across scripts) and refuse the scripts concerned."""
    refused = list(refusals)
    kept: dict[str, Script] = {}
    for script in scripts:
        if script.id in kept:
            refused.append(
                ScriptError(
                    (
                        Problem(
                            script.source,
                            f"uses the id {script.id!r} of {kept[script.id].source}; "
                            "ids must be unique",
                            field="id",
                        ),
                    )
                )
            )
        else:
            kept[script.id] = script
    while True:
        broken: dict[str, list[Problem]] = {}
        for script in kept.values():
            for step in script.steps:
                for i, answer in enumerate(step.answers):
                    if answer.script is not None and answer.script not in kept:
                        broken.setdefault(script.id, []).append(
                            Problem(
                                script.source,
                                f"leads to a script {answer.script!r} that is not in the library",
                                step.id,
                                f"answers[{i}].script",
                            )
                        )
        if not broken:
            firsts = {s.id: s.first.id for s in kept.values()}
            ending = _steps_that_end(kept, firsts, leaving_counts=False)
            for script in kept.values():
                for step in script.steps:
                    if (script.id, step.id) not in ending:
                        broken.setdefault(script.id, []).append(
                            Problem(
                                script.source,
                                "never reaches an end: the scripts it leads to only lead back "
                                "round in a loop",
                                step.id,
                            )
                        )
        if not broken:
            return Library(kept, tuple(refused))
        for script_id, problems in broken.items():
            del kept[script_id]
            refused.append(ScriptError(tuple(problems)))


def load_library(directory: Path, *, limit: int = MAX_FILE_BYTES) -> Library:
    """Load every ``*.toml`` file of the directory; never raises for one bad file."""
    scripts: list[Script] = []
    refusals: list[ScriptError] = []
    try:
        paths = sorted(p for p in directory.iterdir() if p.suffix == ".toml" and p.is_file())
    except OSError as exc:
        problem = Problem(str(directory), f"cannot be read: {exc.strerror or exc}")
        return Library({}, (ScriptError((problem,)),))
    for path in paths:
        try:
            scripts.append(load_script_file(path, limit=limit))
        except ScriptError as exc:
            refusals.append(exc)
        except RecursionError:  # absurdly nested TOML
            refusals.append(ScriptError((Problem(path.name, "is nested too deeply to read"),)))
    return build_library(scripts, refusals)


def builtin_directory() -> Path:
    """Where the scripts shipped with Desk live (``resources/scripts``)."""
    return Path(str(resources.files("resources.scripts")))


def load_builtin_library() -> Library:
    return load_library(builtin_directory())


# --- the library in the shared database -----------------------------------------------------------

# The value only: a comment after it, and the line ending (CRLF too), stay as they were.
_VERSION_LINE = re.compile(r"^version[ \t]*=[ \t]*[^\s#]*", re.MULTILINE)
_ID_LINE = re.compile(r"^id[ \t]*=[^\n]*\n?", re.MULTILINE)


def with_version(text: str, version: int) -> str:
    """The script's TOML with its ``version`` set: the library numbers published versions, so an
    exported file says which version it is. Only a top-level line (before any table) is changed."""
    top_end = re.search(r"^\s*\[", text, re.MULTILINE)
    head, rest = (text[: top_end.start()], text[top_end.start() :]) if top_end else (text, "")
    line = f"version = {version}"
    if _VERSION_LINE.search(head):
        head = _VERSION_LINE.sub(line, head, count=1)
    else:
        id_line = _ID_LINE.search(head)
        if id_line is not None:
            end = id_line.end()
            prefix = head[:end] if head[:end].endswith("\n") else head[:end] + "\n"
            head = prefix + line + "\n" + head[end:]
        else:
            head = line + "\n" + head
    return head + rest


def check_in_library(script: Script, library: Library) -> tuple[Problem, ...]:
    """What goes wrong if ``script`` joins (or replaces its namesake in) the library: branches to
    scripts that are not there, or loops across scripts with no way out."""
    others = [s for s in library if s.id != script.id]
    built = build_library([*others, script])
    problems: list[Problem] = []
    for refusal in built.refusals:
        problems.extend(refusal.problems)
    return tuple(problems)


def leading_to(script_id: str, library: Library) -> tuple[str, ...]:
    """The scripts of the library with an answer that leads to ``script_id``."""
    return tuple(s.id for s in library if s.id != script_id and script_id in s.linked_scripts())


def new_script_source(script_id: str, title: str, language: str = "en") -> str:
    """A small, valid script to start from: the admin replaces its words and adds steps."""
    # Whatever was typed: one line without control characters or braces (a brace would be read
    # as a placeholder), never empty.
    title = "".join(c for c in title if c.isprintable() or c.isspace())
    title = title.replace("\\", "").replace('"', "'").replace("{", "(").replace("}", ")")
    title = " ".join(title.split()) or "New script"
    return f"""# {title}
id = "{script_id}"
version = 1
default_language = "{language}"
moods = ["frustrated"]
title.{language} = "{title}"
summary.{language} = "When to use this script, in one sentence."

[[steps]]
id = "listen"
kind = "guidance"
text.{language} = "What the officer does first."

[[steps]]
id = "say_sorry"
kind = "say"
text.{language} = "What the officer says, and why."
phrases = [{{ {language} = "I'm sorry this has happened, {{customer_name}}." }}]

[[steps]]
id = "solved"
kind = "ask"
text.{language} = "Did that settle it?"
answers = [
  {{ id = "yes", text.{language} = "Yes", goto = "calmed" }},
  {{ id = "no", text.{language} = "No, a supervisor is needed", goto = "escalate" }},
]

[[steps]]
id = "escalate"
kind = "action"
action = "escalation"
text.{language} = "Pass the case to a supervisor, with what was tried."
next = "escalated"

[[steps]]
id = "calmed"
kind = "end"
outcome = "calmed_and_resolved"
text.{language} = "Thank the customer and write what was agreed in the case."

[[steps]]
id = "escalated"
kind = "end"
outcome = "escalated"
text.{language} = "Tell the customer who will contact them, and by when."
"""
