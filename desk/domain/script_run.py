"""One officer's run through a guided script: where they are, how they got there, what they
answered and ticked, and how it ended. Pure: the caller passes every time (no wall clock here).

State moves forward with :meth:`ScriptRun.next` and :meth:`ScriptRun.choose`, and back with
:meth:`ScriptRun.back`, which undoes the last move exactly (the answer that made it, and what was
ticked on the step left). The log of what happened (including the moves back and every safety
alert) is never undone: it is what :meth:`ScriptRun.record` hands over to be stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from desk.domain.scripts import (
    Library,
    Outcome,
    Script,
    Step,
    StepKind,
    Text,
    fill,
)


class RunError(ValueError):
    """A move the current step does not allow (a programming error of the caller)."""


@dataclass(frozen=True)
class Frame:
    """One step on the current path: the step shown, when, and what was done on it."""

    script_id: str
    step_id: str
    shown_at: dt.datetime
    ticked_at: dt.datetime | None = None  # when the item of a check step was ticked
    answer_id: str | None = None
    answered_at: dt.datetime | None = None

    @property
    def ticked(self) -> bool:
        return self.ticked_at is not None


@dataclass(frozen=True)
class Event:
    """One thing that happened, in order: shown, answered, ticked, unticked, back, action,
    safety_alert, ended."""

    kind: str
    at: dt.datetime
    script_id: str
    step_id: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "at": self.at.isoformat(),
            "script_id": self.script_id,
            "step_id": self.step_id,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class RunRecord:
    """A finished (or abandoned) run as plain values, ready to be stored with its case."""

    script_id: str
    script_version: int
    language: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    outcome: Outcome | None
    scripts: tuple[tuple[str, int], ...]  # every script the run went through, with its version
    steps_shown: tuple[tuple[str, str, dt.datetime], ...]  # script, step, when
    answers: tuple[tuple[str, str, str, dt.datetime], ...]  # script, step, answer, when
    ticks: tuple[tuple[str, str, dt.datetime], ...]  # script, step, when (still ticked)
    safety_alerts: tuple[tuple[str, str, dt.datetime], ...]
    events: tuple[Event, ...]

    def as_dict(self) -> dict[str, Any]:
        def when(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "script_id": self.script_id,
            "script_version": self.script_version,
            "language": self.language,
            "started_at": when(self.started_at),
            "ended_at": when(self.ended_at),
            "outcome": self.outcome.value if self.outcome else None,
            "scripts": [{"id": s, "version": v} for s, v in self.scripts],
            "steps_shown": [
                {"script_id": s, "step_id": p, "at": when(t)} for s, p, t in self.steps_shown
            ],
            "answers": [
                {"script_id": s, "step_id": p, "answer_id": a, "at": when(t)}
                for s, p, a, t in self.answers
            ],
            "ticks": [{"script_id": s, "step_id": p, "at": when(t)} for s, p, t in self.ticks],
            "safety_alerts": [
                {"script_id": s, "step_id": p, "at": when(t)} for s, p, t in self.safety_alerts
            ],
            "events": [e.as_dict() for e in self.events],
        }


@dataclass(frozen=True)
class RunState:
    """What Back restores: the path taken, with answers and ticks, and any early end."""

    path: tuple[Frame, ...]
    ended_early: Outcome | None


@dataclass
class ScriptRun:
    library: Library | Mapping[str, Script]
    script_id: str
    started_at: dt.datetime
    language: str = "en"
    values: Mapping[str, str] = field(default_factory=dict)
    _path: list[Frame] = field(init=False, default_factory=list)
    _events: list[Event] = field(init=False, default_factory=list)
    _ended_early: Outcome | None = field(init=False, default=None)
    _ended_at: dt.datetime | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        script = self._script(self.script_id)
        self._show(script.id, script.first.id, self.started_at)

    # --- where we are ------------------------------------------------------------------------

    def _script(self, script_id: str) -> Script:
        try:
            return self.library[script_id]
        except KeyError:
            raise RunError(f"there is no script {script_id!r}") from None

    @property
    def script(self) -> Script:
        """The script of the current step (a branch may have moved to another script)."""
        return self._script(self._path[-1].script_id)

    @property
    def step(self) -> Step:
        return self.script.step(self._path[-1].step_id)

    @property
    def frame(self) -> Frame:
        return self._path[-1]

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    @property
    def outcome(self) -> Outcome | None:
        if self._ended_early is not None:
            return self._ended_early
        return self.step.outcome if self.step.kind is StepKind.END else None

    @property
    def can_go_back(self) -> bool:
        return len(self._path) > 1 or self._ended_early is not None

    @property
    def position(self) -> int:
        """Which step this is on the path (1 for the first)."""
        return len(self._path)

    @property
    def about_total(self) -> int:
        """About how many steps the run will have: those shown plus a typical way to the end."""
        return self.position - 1 + self.script.steps_to_end()[self.step.id]

    def state(self) -> RunState:
        return RunState(tuple(self._path), self._ended_early)

    def render(self, text: Text) -> str:
        """The text in the officer's language (else the script's default), placeholders filled."""
        return fill(text.in_language(self.language), self.values)

    # --- moving ------------------------------------------------------------------------------

    def _log(self, kind: str, at: dt.datetime, detail: str = "") -> None:
        frame = self._path[-1]
        self._events.append(Event(kind, at, frame.script_id, frame.step_id, detail))

    def _show(self, script_id: str, step_id: str, at: dt.datetime) -> None:
        self._path.append(Frame(script_id, step_id, at))
        self._log("shown", at)

    def _require_open(self) -> None:
        if self.finished:
            raise RunError("the run has ended; go back first to change it")

    def next(self, at: dt.datetime) -> None:
        """Go on from a guidance, say, check or action step."""
        self._require_open()
        step = self.step
        if step.next is None:
            raise RunError(f"step {step.id!r} ({step.kind}) is answered, not followed by Next")
        self._show(self.frame.script_id, step.next, at)

    def choose(self, answer_id: str, at: dt.datetime) -> None:
        """Answer an ask step: go to its step, or to the first step of another script."""
        self._require_open()
        step = self.step
        if step.kind is not StepKind.ASK:
            raise RunError(f"step {step.id!r} is not a question")
        try:
            answer = step.answer(answer_id)
        except KeyError as exc:
            raise RunError(str(exc)) from None
        self._path[-1] = replace(self.frame, answer_id=answer.id, answered_at=at)
        self._log("answered", at, answer.id)
        if answer.script is not None:
            target = self._script(answer.script)
            self._show(target.id, target.first.id, at)
        else:
            assert answer.goto is not None
            self._show(self.frame.script_id, answer.goto, at)

    def tick(self, ticked: bool, at: dt.datetime) -> None:
        """Tick (or untick) the item of a check step."""
        self._require_open()
        if self.step.kind is not StepKind.CHECK:
            raise RunError(f"step {self.step.id!r} has nothing to tick")
        if self.frame.ticked == ticked:
            return
        self._path[-1] = replace(self.frame, ticked_at=at if ticked else None)
        self._log("ticked" if ticked else "unticked", at)

    def note_action(self, at: dt.datetime) -> None:
        """The officer opened what an action step offers (escalation, referral …)."""
        step = self.step
        if step.action is None:
            raise RunError(f"step {step.id!r} offers no action")
        self._log("action", at, step.action.value)

    def raise_safety_alert(self, at: dt.datetime) -> None:
        """Available from every step, even after the end; never undone by Back."""
        self._log("safety_alert", at)

    def end_now(self, outcome: Outcome, at: dt.datetime) -> None:
        """End before the script does (the customer walked away, a safety incident)."""
        self._require_open()
        self._ended_early = outcome
        self._ended_at = at
        self._log("ended", at, outcome.value)

    def back(self, at: dt.datetime) -> None:
        """Undo the last move exactly."""
        if self._ended_early is not None:
            self._ended_early = None
            self._ended_at = None
            self._log("back", at)
            return
        if len(self._path) < 2:
            raise RunError("this is the first step")
        self._path.pop()
        self._path[-1] = replace(self._path[-1], answer_id=None, answered_at=None)
        self._log("back", at)

    # --- the record ----------------------------------------------------------------------------

    def record(self) -> RunRecord:
        first = self._script(self.script_id)
        scripts = tuple(
            dict.fromkeys((f.script_id, self._script(f.script_id).version) for f in self._path)
        )
        ended_at = self._ended_at
        if ended_at is None and self.finished:
            ended_at = self.frame.shown_at
        return RunRecord(
            script_id=first.id,
            script_version=first.version,
            language=self.language,
            started_at=self.started_at,
            ended_at=ended_at,
            outcome=self.outcome,
            scripts=scripts,
            steps_shown=tuple(
                (e.script_id, e.step_id, e.at) for e in self._events if e.kind == "shown"
            ),
            answers=tuple(
                (f.script_id, f.step_id, f.answer_id, f.answered_at)
                for f in self._path
                if f.answer_id is not None and f.answered_at is not None
            ),
            ticks=tuple((f.script_id, f.step_id, f.ticked_at) for f in self._path if f.ticked_at),
            safety_alerts=tuple(
                (e.script_id, e.step_id, e.at) for e in self._events if e.kind == "safety_alert"
            ),
            events=tuple(self._events),
        )
