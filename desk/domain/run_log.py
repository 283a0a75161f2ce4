"""Reading a stored run back: the record as it was saved (``RunRecord.as_dict``) and where the run
stood when it was saved. Pure: no database, no clock.

The run engine (:mod:`desk.domain.script_run`) writes the record; this module reads it, so the
timeline can show a supervisor exactly what happened and the services can tell where a run ended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from desk.domain.script_run import Event, RunRecord
from desk.domain.scripts import Outcome


class RecordError(ValueError):
    """A stored run log that cannot be read (written by another version, or damaged)."""


def _when(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, str):
        raise RecordError(f"{field} is not a time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(f"{field} is not a time: {value!r}") from None
    if parsed.tzinfo is None:
        raise RecordError(f"{field} has no time zone: {value!r}")
    return parsed.astimezone(dt.UTC)


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise RecordError(f"{field} is not a text")
    return value


def _rows(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    rows = data.get(key, [])
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise RecordError(f"{key} is not a list of entries")
    return rows


def record_from_dict(data: Any) -> RunRecord:
    """The inverse of ``RunRecord.as_dict``; raises RecordError for anything else."""
    if not isinstance(data, Mapping):
        raise RecordError("the run log is not a table")
    try:
        version = data["script_version"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise RecordError("script_version is not a whole number")
        outcome_value = data.get("outcome")
        ended = data.get("ended_at")
        scripts = []
        for i, row in enumerate(_rows(data, "scripts")):
            script_version = row["version"]
            if not isinstance(script_version, int) or isinstance(script_version, bool):
                raise RecordError(f"scripts[{i}].version is not a whole number")
            scripts.append((_text(row["id"], f"scripts[{i}].id"), script_version))
        return RunRecord(
            script_id=_text(data["script_id"], "script_id"),
            script_version=version,
            language=_text(data["language"], "language"),
            started_at=_when(data["started_at"], "started_at"),
            ended_at=_when(ended, "ended_at") if ended is not None else None,
            outcome=Outcome(outcome_value) if outcome_value is not None else None,
            scripts=tuple(scripts),
            steps_shown=tuple(
                (
                    _text(r["script_id"], "script_id"),
                    _text(r["step_id"], "step_id"),
                    _when(r["at"], "at"),
                )
                for r in _rows(data, "steps_shown")
            ),
            answers=tuple(
                (
                    _text(r["script_id"], "script_id"),
                    _text(r["step_id"], "step_id"),
                    _text(r["answer_id"], "answer_id"),
                    _when(r["at"], "at"),
                )
                for r in _rows(data, "answers")
            ),
            ticks=tuple(
                (
                    _text(r["script_id"], "script_id"),
                    _text(r["step_id"], "step_id"),
                    _when(r["at"], "at"),
                )
                for r in _rows(data, "ticks")
            ),
            safety_alerts=tuple(
                (
                    _text(r["script_id"], "script_id"),
                    _text(r["step_id"], "step_id"),
                    _when(r["at"], "at"),
                )
                for r in _rows(data, "safety_alerts")
            ),
            events=tuple(
                Event(
                    kind=_text(r["kind"], "kind"),
                    at=_when(r["at"], "at"),
                    script_id=_text(r["script_id"], "script_id"),
                    step_id=_text(r["step_id"], "step_id"),
                    detail=_text(r.get("detail", ""), "detail"),
                )
                for r in _rows(data, "events")
            ),
        )
    except KeyError as exc:
        raise RecordError(f"the run log has no {exc.args[0]}") from None
    except ValueError as exc:  # an unknown outcome
        if isinstance(exc, RecordError):
            raise
        raise RecordError(str(exc)) from None


def current_step(record: RunRecord) -> tuple[str, str] | None:
    """The (script, step) the run stood on when it was recorded: its events replayed, Back
    undoing the last move (or the early end) exactly as the run engine does."""
    path: list[tuple[str, str]] = []
    ended_early = False
    for event in record.events:
        if event.kind == "shown":
            path.append((event.script_id, event.step_id))
        elif event.kind == "ended":
            ended_early = True
        elif event.kind == "back":
            if ended_early:
                ended_early = False
            elif len(path) > 1:
                path.pop()
    return path[-1] if path else None


def is_safety_incident(record: RunRecord) -> bool:
    """A run is a safety incident when a safety alert was raised on it or it ended in one."""
    return bool(record.safety_alerts) or record.outcome is Outcome.SAFETY_INCIDENT


def escalation_turn(record: RunRecord) -> tuple[str, str, str] | None:
    """For a run that ended in an escalation, the question and answer after which it turned
    (script, step, answer): the last answer on the path it ended on. None for other runs, or
    when it was escalated without a question being answered."""
    if record.outcome is not Outcome.ESCALATED or not record.answers:
        return None
    script_id, step_id, answer_id, _at = record.answers[-1]
    return script_id, step_id, answer_id
