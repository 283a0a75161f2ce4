"""The safety-incident closing rule: pure, checked for every status move and every mix of runs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.domain.model import CaseStatus
from desk.domain.safety import (
    CLOSING_STATUSES,
    IncidentNotReported,
    RunSafety,
    check_may_close,
    check_report,
    combined,
    may_close,
    unreported,
)
from desk.domain.validation import ValidationError
from desk.domain.workflow import TransitionRefused

runs_strategy = st.lists(st.builds(RunSafety, st.booleans(), st.booleans()), max_size=6)


@given(st.none() | st.sampled_from(CaseStatus), st.sampled_from(CaseStatus), runs_strategy)
def test_a_move_is_refused_exactly_when_it_closes_a_case_with_an_unreported_incident(
    current: CaseStatus | None, target: CaseStatus, runs: list[RunSafety]
) -> None:
    waiting = any(run.incident and not run.reported for run in runs)
    should_refuse = target != current and target in CLOSING_STATUSES and waiting
    try:
        check_may_close(current, target, runs)
    except IncidentNotReported as refused:
        assert should_refuse
        assert "not been reported" in str(refused)
    else:
        assert not should_refuse
    assert may_close(target, runs) == (target not in CLOSING_STATUSES or not waiting)


def test_resolving_and_closing_are_the_closing_moves() -> None:
    assert {CaseStatus.RESOLVED, CaseStatus.CLOSED} == CLOSING_STATUSES


def test_the_refusal_is_a_workflow_refusal_whose_message_says_what_to_do() -> None:
    runs = [
        RunSafety(incident=True),
        RunSafety(incident=True),
        RunSafety(incident=True, reported=True),
    ]
    assert unreported(runs) == 2
    with pytest.raises(TransitionRefused) as refused:
        check_may_close(CaseStatus.RESOLVED, CaseStatus.CLOSED, runs)
    assert str(refused.value).startswith("2 safety incidents on this case have not been reported")
    assert "Report the incident" in str(refused.value)
    with pytest.raises(IncidentNotReported, match=r"^A safety incident on this case has not"):
        check_may_close(None, CaseStatus.RESOLVED, runs[1:2])


def test_a_reported_incident_or_a_run_without_one_never_blocks() -> None:
    check_may_close(
        CaseStatus.IN_PROGRESS,
        CaseStatus.RESOLVED,
        [RunSafety(incident=True, reported=True), RunSafety(incident=False)],
    )
    check_may_close(CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, [])


def test_a_case_already_resolved_stays_resolved_and_may_be_reopened() -> None:
    waiting = [RunSafety(incident=True)]
    check_may_close(CaseStatus.RESOLVED, CaseStatus.RESOLVED, waiting)
    check_may_close(CaseStatus.RESOLVED, CaseStatus.IN_PROGRESS, waiting)


def test_an_incident_report_must_say_something_and_is_kept_tidy() -> None:
    assert (
        check_report("  Threatened the officer at 10:02.\x00 ")
        == "Threatened the officer at 10:02."
    )
    for empty in ("", "   \n"):
        with pytest.raises(ValidationError) as refused:
            check_report(empty)
        assert refused.value.errors == {
            "incident_report": "Write what happened before saving the incident report."
        }
    with pytest.raises(ValidationError, match="too long"):
        check_report("x" * 20_001)


def test_runs_about_to_be_stored_lie_over_the_stored_ones_keeping_their_reports() -> None:
    stored = {
        "reported": RunSafety(incident=True, reported=True),
        "calm": RunSafety(incident=False),
        "alerted": RunSafety(incident=True),
    }
    runs = combined(stored, {"reported": True, "calm": True, "alerted": False, "new": False})
    assert runs == [
        RunSafety(incident=True, reported=True),  # still reported: its report stands
        RunSafety(incident=True),  # an alert since: now an incident
        RunSafety(incident=True),  # once an incident, always one
        RunSafety(incident=False),
    ]
    assert unreported(runs) == 2
