"""Reading a stored run back: the saved log round-trips exactly, and the step a run stood on is
found again from its events, whatever the officer did (hypothesis walks the built-in scripts)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.domain.run_log import (
    RecordError,
    current_step,
    escalation_turn,
    is_safety_incident,
    record_from_dict,
)
from desk.domain.script_run import ScriptRun
from desk.domain.scripts import Outcome, StepKind, load_builtin_library

LIBRARY = load_builtin_library()
T0 = dt.datetime(2026, 5, 4, 8, 0, tzinfo=dt.UTC)

moves = st.lists(
    st.tuples(
        st.sampled_from(["forward", "back", "tick", "untick", "alert", "leave", "incident"]),
        st.integers(min_value=0, max_value=8),
    ),
    max_size=40,
)


def apply(run: ScriptRun, move: str, pick: int, at: dt.datetime) -> None:
    step = run.step
    if move == "alert":
        run.raise_safety_alert(at)
    elif move == "back":
        if run.can_go_back:
            run.back(at)
    elif run.finished:
        return
    elif move == "forward":
        if step.kind is StepKind.ASK:
            run.choose(step.answers[pick % len(step.answers)].id, at)
        elif step.next is not None:
            run.next(at)
    elif move in ("tick", "untick") and step.kind is StepKind.CHECK:
        run.tick(move == "tick", at)
    elif move == "leave":
        run.end_now(Outcome.CUSTOMER_LEFT, at)
    elif move == "incident":
        run.end_now(Outcome.SAFETY_INCIDENT, at)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(LIBRARY.scripts)), moves)
def test_a_stored_log_reads_back_exactly_and_tells_where_the_run_stood(
    script_id: str, steps: list[tuple[str, int]]
) -> None:
    run = ScriptRun(LIBRARY, script_id, T0, language="en")
    for i, (move, pick) in enumerate(steps, start=1):
        apply(run, move, pick, T0 + dt.timedelta(seconds=7 * i))
        record = run.record()
        stored = json.loads(json.dumps(record.as_dict()))
        assert record_from_dict(stored) == record
        assert current_step(record) == (run.frame.script_id, run.frame.step_id)
        assert is_safety_incident(record) == (
            bool(record.safety_alerts) or run.outcome is Outcome.SAFETY_INCIDENT
        )


def test_times_are_read_back_in_utc_whatever_zone_they_were_written_in() -> None:
    data = ScriptRun(LIBRARY, "last", T0).record().as_dict()
    data["started_at"] = "2026-05-04T10:00:00+02:00"
    assert record_from_dict(data).started_at == T0
    assert record_from_dict(data).started_at.tzinfo is dt.UTC


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.pop("script_id"), "has no script_id"),
        (lambda d: d.update(started_at="yesterday"), "started_at is not a time"),
        (lambda d: d.update(started_at="2026-05-04T08:00:00"), "no time zone"),
        (lambda d: d.update(outcome="exploded"), "exploded"),
        (lambda d: d.update(script_version="1"), "script_version"),
        (lambda d: d.update(events="none"), "events is not a list"),
        (lambda d: d["events"][0].update(step_id=3), "step_id is not a text"),
    ],
)
def test_a_damaged_log_is_refused_with_what_is_wrong(
    damage: Callable[[dict[str, Any]], object], message: str
) -> None:
    data = ScriptRun(LIBRARY, "last", T0).record().as_dict()
    damage(data)
    with pytest.raises(RecordError, match=message):
        record_from_dict(data)
    with pytest.raises(RecordError):
        record_from_dict(["not", "a", "table"])


# --- where an escalated run turned ----------------------------------------------------------------


def walk(script_id: str, moves: list[tuple[str, str]]) -> ScriptRun:
    """Follow a built-in script: each move is ("answer", id), ("next", ""), ("back", "") or
    ("escalate", "") (end the run early as an escalation)."""
    run = ScriptRun(LIBRARY, script_id, T0, language="en")
    for i, (move, answer) in enumerate(moves, start=1):
        at = T0 + dt.timedelta(seconds=5 * i)
        if move == "answer":
            run.choose(answer, at)
        elif move == "next":
            run.next(at)
        elif move == "back":
            run.back(at)
        else:
            run.end_now(Outcome.ESCALATED, at)
    return run


NEXT = ("next", "")
# last: it could be solved, but the customer wants a supervisor; no one is free now.
TO_A_SUPERVISOR = [
    NEXT,
    NEXT,
    NEXT,
    NEXT,
    ("answer", "yes"),
    NEXT,
    NEXT,
    ("answer", "wants_supervisor"),
    NEXT,
    ("answer", "supervisor_now"),
    NEXT,
    NEXT,
]


def test_an_escalated_run_turned_after_the_last_answer_on_its_path_in_any_script() -> None:
    run = walk("last", [*TO_A_SUPERVISOR, ("answer", "no"), NEXT])
    record = run.record()
    assert record.outcome is Outcome.ESCALATED
    assert escalation_turn(record) == ("supervisor_request", "available", "no")


def test_an_answer_taken_back_is_not_where_the_run_turned() -> None:
    run = walk("last", [*TO_A_SUPERVISOR, ("answer", "yes"), ("back", ""), ("answer", "no"), NEXT])
    assert escalation_turn(run.record()) == ("supervisor_request", "available", "no")
    early = walk("last", [*TO_A_SUPERVISOR, ("answer", "yes"), ("back", ""), ("escalate", "")])
    assert early.outcome is Outcome.ESCALATED
    assert escalation_turn(early.record()) == (
        "supervisor_request",
        "one_more_try",
        "supervisor_now",
    )


def test_runs_that_did_not_escalate_or_answered_nothing_have_no_turn() -> None:
    resolved = walk(
        "last", [NEXT, NEXT, NEXT, NEXT, ("answer", "yes"), NEXT, NEXT, ("answer", "yes")]
    )
    assert resolved.outcome is Outcome.CALMED_AND_RESOLVED
    assert escalation_turn(resolved.record()) is None
    unfinished = walk("last", [*TO_A_SUPERVISOR])
    assert unfinished.outcome is None and escalation_turn(unfinished.record()) is None
    at_once = walk("last", [("escalate", "")])
    assert at_once.outcome is Outcome.ESCALATED and escalation_turn(at_once.record()) is None


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(LIBRARY.scripts)), moves, st.booleans())
def test_an_escalation_turns_at_the_last_question_answered_on_the_path(
    script_id: str, steps: list[tuple[str, int]], escalate_at_the_end: bool
) -> None:
    run = ScriptRun(LIBRARY, script_id, T0, language="en")
    for i, (move, pick) in enumerate(steps, start=1):
        apply(run, move, pick, T0 + dt.timedelta(seconds=7 * i))
    if not run.finished and escalate_at_the_end:
        run.end_now(Outcome.ESCALATED, T0 + dt.timedelta(hours=1))
    answered = [f for f in run.state().path if f.answer_id is not None]
    stored = record_from_dict(json.loads(json.dumps(run.record().as_dict())))
    expected = (
        (answered[-1].script_id, answered[-1].step_id, answered[-1].answer_id)
        if run.outcome is Outcome.ESCALATED and answered
        else None
    )
    assert escalation_turn(stored) == expected
