"""Guided-script runs stored with their case: save a run (again and again as it goes on, without
ever duplicating it), list a case's runs, and record the report of a safety incident.

Saving is idempotent by the run's client UUID: the panel makes it when the run starts, and every
later save of the same run updates the one stored row. Each save that changes something leaves an
entry in the audit trail, in the same transaction, like every other change to a case.

A run never changes the case row itself (its version stays): storing a run while the officer has
the case open must not turn their next save into a conflict.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import select

from desk.adapters import orm
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain.run_log import (
    RecordError,
    current_step,
    escalation_turn,
    is_safety_incident,
    record_from_dict,
)
from desk.domain.safety import RunSafety, check_report, combined
from desk.domain.scripts import Outcome
from desk.domain.validation import ValidationError
from desk.services import audit
from desk.services.dto import ScriptRunToSave, ScriptRunView, StaffSession
from desk.services.errors import ConflictError, DeskError, NotFound

log = logging.getLogger(__name__)

_SCRIPT_ID_MAX = 100
_LANGUAGE_MAX = 20


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _record_text(run: ScriptRunToSave) -> str:
    return json.dumps(run.record.as_dict(), ensure_ascii=False, sort_keys=True)


def _check(run: ScriptRunToSave) -> None:
    record = run.record
    problems: dict[str, str] = {}
    if not record.script_id or len(record.script_id) > _SCRIPT_ID_MAX:
        problems["script_id"] = "The run names no script, or a script id that is too long."
    if len(record.language) > _LANGUAGE_MAX:
        problems["language"] = "The run's language code is too long."
    if record.ended_at is not None and record.ended_at < record.started_at:
        problems["ended_at"] = "The run ends before it starts."
    if problems:
        raise ValidationError(problems)


def store_runs(
    uow: UnitOfWork,
    actor: StaffSession,
    case: orm.Case,
    runs: Iterable[ScriptRunToSave],
    *,
    now: dt.datetime | None = None,
) -> list[orm.ScriptRun]:
    """Insert or update each run of the case, in the caller's unit of work; audits what changed.

    A run stored with another case is refused (its UUID is the client's, not a free choice)."""
    now = now or utcnow()
    stored: list[orm.ScriptRun] = []
    for run in runs:
        _check(run)
        record = run.record
        text = _record_text(run)
        row = uow.session.scalar(select(orm.ScriptRun).where(orm.ScriptRun.uuid == run.uuid))
        if row is not None and row.case_id != case.id:
            raise ConflictError(
                "This guided-script run is already stored with another case; it was not moved."
            )
        if row is not None and row.record == text:
            stored.append(row)
            continue
        step = current_step(record)
        incident = is_safety_incident(record)
        action = "case.script_run_updated"
        if row is None:
            action = "case.script_run"
            row = orm.ScriptRun(uuid=run.uuid, case_id=case.id, officer_id=actor.staff_id)
            uow.session.add(row)
        row.script_id = record.script_id
        row.script_version = record.script_version
        row.language = record.language
        row.started_at = record.started_at
        row.ended_at = record.ended_at
        row.outcome = record.outcome.value if record.outcome else None
        row.last_step_id = step[1][:_SCRIPT_ID_MAX] if step else None
        turn = escalation_turn(record)
        row.turn_script_id, row.turn_step_id, row.turn_answer_id = (
            (turn[0][:_SCRIPT_ID_MAX], turn[1][:_SCRIPT_ID_MAX], turn[2][:_SCRIPT_ID_MAX])
            if turn
            else (None, None, None)
        )
        # Once an incident, always one: the alert happened even if the run was changed later.
        row.safety_incident = bool(row.safety_incident) or incident
        row.record = text
        uow.flush()
        audit.record(
            uow,
            actor=actor,
            action=action,
            entity="case",
            entity_id=lambda: case.reference,  # a new case gets its reference at the commit
            details={
                "run": str(run.uuid),
                "script": f"{record.script_id} v{record.script_version}",
                "outcome": record.outcome.value if record.outcome else "",
                "safety_alerts": len(record.safety_alerts),
                "last_step": row.last_step_id or "",
            },
            at=now,
        )
        stored.append(row)
    return stored


def safety_of(runs: Iterable[ScriptRunToSave]) -> list[RunSafety]:
    """What the closing rule knows of runs not stored yet."""
    return [RunSafety(is_safety_incident(run.record)) for run in runs]


def case_safety(
    uow: UnitOfWork, case_id: int, adding: Sequence[ScriptRunToSave] = ()
) -> list[RunSafety]:
    """What the closing rule needs: every stored run of the case, with the runs about to be
    stored laid over them (a run stored earlier keeps its report)."""
    rows = uow.session.execute(
        select(
            orm.ScriptRun.uuid,
            orm.ScriptRun.safety_incident,
            orm.ScriptRun.incident_reported_at,
        ).where(orm.ScriptRun.case_id == case_id)
    ).all()
    stored = {
        run_uuid: RunSafety(bool(incident), reported_at is not None)
        for run_uuid, incident, reported_at in rows
    }
    return combined(stored, {run.uuid: is_safety_incident(run.record) for run in adding})


def runs_of(uow: UnitOfWork, case_id: int) -> list[ScriptRunView]:
    """The case's runs, oldest first."""
    rows = uow.session.execute(
        select(orm.ScriptRun, orm.Staff.full_name)
        .join(orm.Staff, orm.Staff.id == orm.ScriptRun.officer_id)
        .where(orm.ScriptRun.case_id == case_id)
        .order_by(orm.ScriptRun.started_at, orm.ScriptRun.id)
    ).all()
    return [_view(row, officer_name) for row, officer_name in rows]


def _view(row: orm.ScriptRun, officer_name: str) -> ScriptRunView:
    try:
        record = record_from_dict(json.loads(row.record))
    except (ValueError, RecordError) as exc:  # json's errors are ValueErrors too
        log.warning("The log of guided-script run %s cannot be read: %s", row.uuid, exc)
        record = None
    try:
        outcome = Outcome(row.outcome) if row.outcome else None
    except ValueError:
        outcome = None
    return ScriptRunView(
        uuid=row.uuid,
        case_id=row.case_id,
        officer_name=officer_name,
        script_id=row.script_id,
        script_version=row.script_version,
        language=row.language,
        started_at=row.started_at,
        ended_at=row.ended_at,
        outcome=outcome,
        last_step_id=row.last_step_id,
        safety_incident=bool(row.safety_incident),
        incident_reported_at=row.incident_reported_at,
        incident_report=row.incident_report or "",
        record=record,
    )


class ScriptRunService:
    """One method per thing the officer does with the runs of a case."""

    def __init__(self, uow: Callable[..., UnitOfWork], actor: Callable[[], StaffSession]) -> None:
        self._uow = uow
        self._actor = actor

    def _case(self, uow: UnitOfWork, case_id: int) -> orm.Case:
        case = uow.session.get(orm.Case, case_id)
        if case is None:
            raise NotFound("This case no longer exists.")
        return case

    def save(self, case_id: int, run: ScriptRunToSave) -> ScriptRunView:
        """Store the run with the case, or bring the stored run up to date."""
        [view] = [v for v in self.save_all(case_id, [run]) if v.uuid == run.uuid]
        return view

    def save_all(self, case_id: int, runs: Sequence[ScriptRunToSave]) -> list[ScriptRunView]:
        """Store several runs of one case in one transaction; returns every run of the case."""
        actor = self._actor()
        with self._uow() as uow:
            case = self._case(uow, case_id)
            store_runs(uow, actor, case, runs)
            uow.commit()
            return runs_of(uow, case_id)

    def list_for_case(self, case_id: int) -> list[ScriptRunView]:
        with self._uow(read_only=True) as uow:
            self._case(uow, case_id)
            return runs_of(uow, case_id)

    def unreported_incidents(self, case_id: int) -> int:
        with self._uow(read_only=True) as uow:
            return sum(1 for run in case_safety(uow, case_id) if run.needs_report)

    def report_incident(
        self, case_id: int, report: str, *, runs: Sequence[ScriptRunToSave] = ()
    ) -> list[ScriptRunView]:
        """Record the report of the case's safety incident(s): every run with an unreported
        incident gets it. ``runs`` not stored yet are stored first, in the same transaction."""
        report = check_report(report)
        actor = self._actor()
        now = utcnow()
        with self._uow() as uow:
            case = self._case(uow, case_id)
            store_runs(uow, actor, case, runs, now=now)
            waiting = uow.session.scalars(
                select(orm.ScriptRun)
                .where(
                    orm.ScriptRun.case_id == case_id,
                    orm.ScriptRun.safety_incident.is_(True),
                    orm.ScriptRun.incident_reported_at.is_(None),
                )
                .order_by(orm.ScriptRun.started_at, orm.ScriptRun.id)
            ).all()
            if not waiting:
                raise DeskError(
                    f"No safety incident on case {case.reference} is waiting for a report."
                )
            for row in waiting:
                row.incident_report = report
                row.incident_reported_at = now
            uow.flush()
            audit.record(
                uow,
                actor=actor,
                action="case.incident_reported",
                entity="case",
                entity_id=case.reference,
                details={"runs": [str(row.uuid) for row in waiting], "report": report},
                at=now,
            )
            uow.commit()
            return runs_of(uow, case_id)
