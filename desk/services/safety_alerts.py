"""The discreet safety alert: one key at the counter, and the supervisors of the centre know at
once (their windows hear it through the database, schema revision 0007) until one of them
acknowledges it.

Raising is idempotent by the client's UUID, so a retry after a dropped connection never raises two
alerts. On PostgreSQL a trigger makes sure an alert is raised as the person logged in and that only
someone who decides approvals acknowledges it; row-level security shows an alert to the people of
its centre, to whoever raised it and to those who see every centre.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased

from desk.adapters import orm
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain.authority import Permission
from desk.services import audit
from desk.services.dto import StaffSession
from desk.services.errors import NotFound, PermissionRefused
from desk.services.permissions import held_permissions

_REFERENCE_MAX = 30
_ID_MAX = 100


@dataclass(frozen=True)
class SafetyAlertView:
    id: int
    uuid: uuid.UUID
    raised_by: str
    raised_by_username: str
    centre: str
    case_id: int | None
    case_reference: str
    script_id: str | None
    step_id: str | None
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SafetyAlertService:
    def __init__(self, uow: Callable[..., UnitOfWork], actor: Callable[[], StaffSession]) -> None:
        self._uow = uow
        self._actor = actor

    def raise_alert(
        self,
        *,
        alert_uuid: uuid.UUID,
        raised_at: dt.datetime,
        case_id: int | None = None,
        case_reference: str = "",
        script_id: str | None = None,
        step_id: str | None = None,
    ) -> SafetyAlertView:
        """Tell the centre's supervisors now. Any staff member may raise one, always."""
        actor = self._actor()
        with self._uow() as uow:
            row = uow.session.scalar(
                select(orm.SafetyAlert).where(orm.SafetyAlert.uuid == alert_uuid)
            )
            if row is None:
                if case_id is not None and uow.session.get(orm.Case, case_id) is None:
                    case_id = None  # not visible or not saved: the reference still says which
                row = orm.SafetyAlert(
                    uuid=alert_uuid,
                    raised_by_id=actor.staff_id,
                    centre_id=actor.centre_id,
                    case_id=case_id,
                    case_reference=case_reference[:_REFERENCE_MAX],
                    script_id=script_id[:64] if script_id else None,
                    step_id=step_id[:_ID_MAX] if step_id else None,
                    raised_at=min(raised_at, _now()),
                )
                uow.session.add(row)
                self._flush(uow)
                audit.record(
                    uow,
                    actor=actor,
                    action="safety.alert_raised",
                    entity="safety_alert",
                    entity_id=str(alert_uuid),
                    details={
                        "case": case_reference,
                        "script": script_id or "",
                        "step": step_id or "",
                    },
                    at=_now(),
                )
                uow.commit()
            return self._view(uow, row.id)

    def open_alerts(self) -> list[SafetyAlertView]:
        """The alerts waiting for this person: unacknowledged, of their centre (every centre for
        someone who sees all cases). Only those who decide approvals receive alerts."""
        actor = self._actor()
        with self._uow(read_only=True) as uow:
            held = held_permissions(uow.session, actor.staff_id)
            if Permission.DECIDE_APPROVALS.value not in held:
                return []
            query = select(orm.SafetyAlert.id).where(orm.SafetyAlert.acknowledged_at.is_(None))
            if Permission.VIEW_ALL_CASES.value not in held:
                query = query.where(orm.SafetyAlert.centre_id == actor.centre_id)
            ids = uow.session.scalars(query.order_by(orm.SafetyAlert.raised_at.desc())).all()
            return [self._view(uow, i) for i in ids]

    def alerts(self, alert_ids: Sequence[int]) -> list[SafetyAlertView]:
        """These alerts as they stand now (the officer who raised one waits for its answer)."""
        with self._uow(read_only=True) as uow:
            found = uow.session.scalars(
                select(orm.SafetyAlert.id).where(orm.SafetyAlert.id.in_(list(alert_ids)))
            ).all()
            return [self._view(uow, i) for i in found]

    def acknowledge(self, alert_id: int) -> SafetyAlertView:
        """ "I am on it": the alert leaves every receiver's screen; the first one counts."""
        actor = self._actor()
        with self._uow() as uow:
            if Permission.DECIDE_APPROVALS.value not in held_permissions(
                uow.session, actor.staff_id
            ):
                raise PermissionRefused(
                    "Acknowledging a safety alert needs the permission 'decide_approvals', which "
                    "your role does not have."
                )
            row = uow.session.get(orm.SafetyAlert, alert_id, with_for_update=True)
            if row is None:
                raise NotFound("That safety alert is not there any more.")
            if row.acknowledged_at is None:
                row.acknowledged_at = _now()
                row.acknowledged_by_id = actor.staff_id
                self._flush(uow)
                audit.record(
                    uow,
                    actor=actor,
                    action="safety.alert_acknowledged",
                    entity="safety_alert",
                    entity_id=str(row.uuid),
                    details={"case": row.case_reference},
                    at=_now(),
                )
                uow.commit()
            return self._view(uow, row.id)

    def _view(self, uow: UnitOfWork, alert_id: int) -> SafetyAlertView:
        raiser = aliased(orm.Staff)
        acknowledger = aliased(orm.Staff)
        found = uow.session.execute(
            select(
                orm.SafetyAlert,
                raiser.full_name,
                raiser.username,
                orm.ServiceCentre.name,
                acknowledger.full_name,
            )
            .join(raiser, raiser.id == orm.SafetyAlert.raised_by_id)
            .join(orm.ServiceCentre, orm.ServiceCentre.id == orm.SafetyAlert.centre_id)
            .outerjoin(acknowledger, acknowledger.id == orm.SafetyAlert.acknowledged_by_id)
            .where(orm.SafetyAlert.id == alert_id)
        ).one()
        row, name, username, centre, acknowledged_by = found
        return SafetyAlertView(
            id=row.id,
            uuid=row.uuid,
            raised_by=name,
            raised_by_username=username,
            centre=centre,
            case_id=row.case_id,
            case_reference=row.case_reference,
            script_id=row.script_id,
            step_id=row.step_id,
            raised_at=row.raised_at,
            acknowledged_at=row.acknowledged_at,
            acknowledged_by=acknowledged_by or "",
        )

    def _flush(self, uow: UnitOfWork) -> None:
        try:
            uow.session.flush()
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "42501":
                diag = getattr(exc.orig, "diag", None)
                raise PermissionRefused(
                    str(getattr(diag, "message_primary", None) or exc.orig)
                ) from exc
            raise
