"""Guided-script runs stored with their case, the customer's mood, and the safety-incident closing
rule, on SQLite and on PostgreSQL (as the demo officer's own login role there)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy import text

from desk.domain.case import CaseDetails
from desk.domain.customer import CustomerDetails
from desk.domain.model import CaseStatus, EventKind, ResolutionMethod
from desk.domain.safety import IncidentNotReported
from desk.domain.script_run import ScriptRun
from desk.domain.scripts import Mood, Outcome, StepKind, load_builtin_library
from desk.domain.validation import ValidationError
from desk.services.dto import ScriptRunToSave
from desk.services.errors import ConflictError, DeskError

Desk = Any
LIBRARY = load_builtin_library()
T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def walk(
    script_id: str,
    answers: Mapping[str, str] | None = None,
    *,
    alert_on: str | None = None,
    stop_on: str | None = None,
) -> ScriptRun:
    """Follow a built-in script as an officer would: tick every check, answer as told, raise a
    safety alert on one step if asked; ten seconds a move."""
    answers = answers or {}
    clock = (T0 + dt.timedelta(seconds=10 * i) for i in itertools.count())
    run = ScriptRun(LIBRARY, script_id, next(clock), language="en")
    alerted = False
    for _ in range(100):
        if run.finished:
            break
        step = run.step
        if step.id == alert_on and not alerted:
            run.raise_safety_alert(next(clock))
            alerted = True
        if step.id == stop_on:
            break
        if step.kind is StepKind.ASK:
            run.choose(answers[step.id], next(clock))
        else:
            if step.kind is StepKind.CHECK:
                run.tick(True, next(clock))
            run.next(next(clock))
    assert alert_on is None or alerted, f"the walk never reached {alert_on}"
    return run


def calmed() -> ScriptRun:
    return walk("deescalate_angry", {"calming": "yes", "way_forward": "solve_here"})


def incident() -> ScriptRun:
    """Aggressive behaviour: the alert raised on its step, then ended as a safety incident."""
    return walk(
        "aggressive_behaviour",
        {"response": "carries_on", "after_warning": "continues"},
        alert_on="alert",
    )


def to_save(run: ScriptRun, run_uuid: uuid.UUID | None = None) -> ScriptRunToSave:
    return ScriptRunToSave(run_uuid or uuid.uuid4(), run.record())


def new_case(desk: Desk, **changes: Any) -> Any:
    customer = desk.customers.create(CustomerDetails(full_name=f"Runs {uuid.uuid4().hex[:8]}"))
    details = CaseDetails(
        customer_id=customer.id,
        customer_words="He shouted that his benefit was stopped without a letter.",
        officer_understanding="Benefit stopped; no letter received",
    )
    return desk.cases.create(dataclasses.replace(details, **changes.pop("details", {})), **changes)


def resolved_details(view: Any) -> CaseDetails:
    return dataclasses.replace(
        view.details,
        resolution="Benefit restarted; a letter explains the gap.",
        resolution_method=ResolutionMethod.FIRST_CONTACT,
    )


def audit_actions(desk: Desk, reference: str) -> list[str]:
    with desk.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT action FROM audit_events WHERE entity_id = :e ORDER BY id"),
            {"e": reference},
        ).all()
    return [r[0] for r in rows]


def stored_rows(desk: Desk, case_id: int) -> int:
    with desk.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM script_runs WHERE case_id = :c"), {"c": case_id}
            ).scalar_one()
        )


# --- recording ------------------------------------------------------------------------------------


def test_a_run_is_stored_with_its_case_with_every_step_answer_tick_and_time(desk: Desk) -> None:
    view = new_case(desk)
    run = walk("aggressive_behaviour", {"response": "left"})
    record = run.record()
    saved = desk.cases.script_runs.save(view.id, to_save(run))

    assert saved.script_id == "aggressive_behaviour" and saved.script_version == 1
    assert saved.outcome is Outcome.CUSTOMER_LEFT and saved.last_step_id == "left"
    assert saved.officer_name == desk.session.full_name
    assert saved.started_at == T0 and saved.ended_at == record.ended_at
    assert not saved.safety_incident
    # The whole log comes back exactly as it was recorded.
    assert saved.record == record
    assert [p for _, p, _ in saved.record.steps_shown][-3:] == ["response", "record_left", "left"]
    assert [(p, a) for _, p, a, _ in saved.record.answers] == [("response", "left")]
    assert [p for _, p, _ in saved.record.ticks] == ["record_left"]
    reopened = desk.cases.get(view.id)
    assert [r.uuid for r in reopened.script_runs] == [saved.uuid]
    assert audit_actions(desk, view.reference)[-1] == "case.script_run"


def test_saving_a_run_twice_or_again_as_it_goes_on_never_duplicates_it(desk: Desk) -> None:
    view = new_case(desk)
    run_uuid = uuid.uuid4()
    run = walk("deescalate_angry", stop_on="calming")
    first = desk.cases.script_runs.save(view.id, to_save(run, run_uuid))
    assert first.outcome is None and first.ended_at is None and first.last_step_id == "calming"
    desk.cases.script_runs.save(view.id, to_save(run, run_uuid))  # the same again: nothing new
    run.choose("yes", T0 + dt.timedelta(minutes=5))
    run.back(T0 + dt.timedelta(minutes=6))  # back to the question, then the customer leaves
    run.choose("left", T0 + dt.timedelta(minutes=7))
    later = desk.cases.script_runs.save(view.id, to_save(run, run_uuid))

    assert later.uuid == run_uuid and later.outcome is Outcome.CUSTOMER_LEFT
    assert later.last_step_id == "left"
    assert stored_rows(desk, view.id) == 1
    runs = desk.cases.script_runs.list_for_case(view.id)
    assert [r.uuid for r in runs] == [run_uuid]
    assert [e.kind for e in runs[0].record.events].count("back") == 1
    actions = audit_actions(desk, view.reference)
    assert actions.count("case.script_run") == 1
    assert actions.count("case.script_run_updated") == 1


def test_runs_made_before_the_case_was_saved_are_stored_with_it(desk: Desk) -> None:
    case_uuid = uuid.uuid4()
    early, late = to_save(calmed()), to_save(walk("last", stop_on="apologise"))
    view = new_case(desk, client_uuid=case_uuid, runs=[early, late])
    assert [r.uuid for r in view.script_runs] == [early.uuid, late.uuid]
    assert audit_actions(desk, view.reference)[:3] == [
        "case.created",
        "case.script_run",
        "case.script_run",
    ]
    # The save is retried (its answer was lost) after the second run went on: still one case,
    # one row per run, the second brought up to date.
    finished = to_save(walk("last", {"can_solve": "yes", "satisfied": "yes"}), late.uuid)
    again = new_case(desk, client_uuid=case_uuid, runs=[early, finished])
    assert again.id == view.id
    assert stored_rows(desk, view.id) == 2
    assert {r.uuid: r.outcome for r in again.script_runs}[late.uuid] is Outcome.CALMED_AND_RESOLVED


def test_a_run_stored_with_one_case_is_not_moved_to_another(desk: Desk) -> None:
    first, second = new_case(desk), new_case(desk)
    run = to_save(calmed())
    desk.cases.script_runs.save(first.id, run)
    with pytest.raises(ConflictError, match="another case"):
        desk.cases.script_runs.save(second.id, run)
    assert stored_rows(desk, second.id) == 0 and stored_rows(desk, first.id) == 1


def test_the_form_save_stores_its_runs_without_changing_the_case_version(desk: Desk) -> None:
    view = new_case(desk)
    run = to_save(calmed())
    saved = desk.cases.save(view.id, view.details, expected_version=view.version, runs=[run])
    assert saved.version == view.version  # nothing of the case itself changed
    assert [r.uuid for r in saved.script_runs] == [run.uuid]
    # A run stored straight away does not turn the officer's next save into a conflict either.
    desk.cases.script_runs.save(view.id, to_save(calmed()))
    changed = dataclasses.replace(view.details, actions_agreed="Letter resent")
    assert desk.cases.update(view.id, changed, expected_version=view.version).version > view.version


# --- the customer's mood --------------------------------------------------------------------------


def test_the_customers_mood_is_saved_shown_again_and_its_change_is_on_the_timeline(
    desk: Desk,
) -> None:
    view = new_case(desk, customer_mood=Mood.ANGRY)
    assert view.customer_mood is Mood.ANGRY
    assert desk.cases.get(view.id).customer_mood is Mood.ANGRY
    # Saves that say nothing of the mood keep it.
    kept = desk.cases.update(
        view.id,
        dataclasses.replace(view.details, actions_agreed="Call back"),
        expected_version=view.version,
    )
    kept = desk.cases.change_status(kept.id, CaseStatus.IN_PROGRESS)
    assert kept.customer_mood is Mood.ANGRY
    calmer = desk.cases.save(
        view.id, kept.details, expected_version=kept.version, customer_mood=Mood.CALM
    )
    assert calmer.customer_mood is Mood.CALM and calmer.version == kept.version + 1
    assert calmer.timeline[0].kind is EventKind.CHANGED
    assert calmer.timeline[0].summary == "Changed: customer's mood."
    cleared = desk.cases.save(
        view.id, calmer.details, expected_version=calmer.version, customer_mood=None
    )
    assert cleared.customer_mood is None
    same = desk.cases.save(view.id, cleared.details, expected_version=cleared.version)
    assert same.version == cleared.version  # nothing changed: nothing saved


# --- the safety-incident closing rule -------------------------------------------------------------


def test_a_case_with_a_safety_incident_closes_only_after_the_incident_is_reported(
    desk: Desk,
) -> None:
    view = new_case(desk, customer_mood=Mood.AGGRESSIVE)
    run = incident()
    assert run.outcome is Outcome.SAFETY_INCIDENT
    stored = desk.cases.script_runs.save(view.id, to_save(run))
    assert stored.safety_incident and stored.incident_reported_at is None
    assert desk.cases.script_runs.unreported_incidents(view.id) == 1

    moving = desk.cases.change_status(view.id, CaseStatus.IN_PROGRESS)  # not closing: allowed
    with pytest.raises(IncidentNotReported, match="not been reported") as refused:
        desk.cases.save(
            view.id,
            resolved_details(moving),
            expected_version=moving.version,
            status=CaseStatus.RESOLVED,
        )
    assert "Report the incident" in str(refused.value)
    unchanged = desk.cases.get(view.id)
    assert unchanged.status is CaseStatus.IN_PROGRESS and unchanged.version == moving.version
    assert unchanged.details.resolution == "", "a refused save writes nothing"

    with pytest.raises(ValidationError) as empty:
        desk.cases.script_runs.report_incident(view.id, "   ")
    assert "incident_report" in empty.value.errors
    runs = desk.cases.script_runs.report_incident(
        view.id, "Shouted threats at 09:31; security walked him out. Witness: the guard."
    )
    assert runs[0].incident_reported_at is not None
    assert runs[0].incident_report.startswith("Shouted threats")
    assert desk.cases.script_runs.unreported_incidents(view.id) == 0
    assert audit_actions(desk, view.reference)[-1] == "case.incident_reported"

    resolved = desk.cases.save(
        view.id,
        resolved_details(moving),
        expected_version=moving.version,
        status=CaseStatus.RESOLVED,
    )
    assert resolved.status is CaseStatus.RESOLVED
    assert desk.cases.change_status(view.id, CaseStatus.CLOSED).status is CaseStatus.CLOSED


def test_a_safety_alert_alone_makes_an_incident_and_is_caught_in_the_same_save(desk: Desk) -> None:
    view = new_case(desk)
    alerted = to_save(walk("deescalate_angry", stop_on="calming", alert_on="calming"))
    assert alerted.record.outcome is None and alerted.record.safety_alerts
    with pytest.raises(IncidentNotReported):
        desk.cases.save(
            view.id,
            resolved_details(view),
            expected_version=view.version,
            status=CaseStatus.RESOLVED,
            runs=[alerted],
        )
    assert stored_rows(desk, view.id) == 0, "nothing of the refused save was kept"
    # Reporting stores the runs it is given first, then reports them.
    runs = desk.cases.script_runs.report_incident(view.id, "Raised voice; calmed.", runs=[alerted])
    assert [(r.uuid, r.incident_reported_at is not None) for r in runs] == [(alerted.uuid, True)]
    resolved = desk.cases.save(
        view.id, resolved_details(view), expected_version=view.version, status=CaseStatus.RESOLVED
    )
    assert resolved.status is CaseStatus.RESOLVED


def test_a_case_settled_at_first_contact_with_an_unreported_incident_is_not_recorded(
    desk: Desk,
) -> None:
    case_uuid = uuid.uuid4()
    with pytest.raises(IncidentNotReported):
        new_case(
            desk,
            client_uuid=case_uuid,
            runs=[to_save(incident())],
            details={
                "resolution": "Explained the rule",
                "resolution_method": ResolutionMethod.FIRST_CONTACT,
            },
        )
    with desk.engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM cases WHERE uuid = :u"),
            {"u": case_uuid.hex if desk.backend == "sqlite" else str(case_uuid)},
        ).scalar_one()
    assert found == 0
    # Recorded without the resolution, it is kept with its run.
    view = new_case(desk, client_uuid=case_uuid, runs=[to_save(incident())])
    assert view.status is CaseStatus.NEW and view.script_runs[0].safety_incident


def test_reporting_when_no_incident_waits_is_refused_with_a_message(desk: Desk) -> None:
    view = new_case(desk)
    desk.cases.script_runs.save(view.id, to_save(calmed()))
    with pytest.raises(DeskError, match="No safety incident"):
        desk.cases.script_runs.report_incident(view.id, "Nothing happened")
