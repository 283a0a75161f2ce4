"""Leave and deputies: a decider sets their own days away and names a deputy; an admin may set
anyone's. The rule is ``desk.domain.leave``; routing (``grants``), the inbox and the officer's "sent
for decision" view ask ``presences`` and ``stand_in`` so an item never waits for someone away.

On PostgreSQL a decider changes their own leave through the SECURITY DEFINER function
``desk_set_my_leave`` (schema revision 0008): the staff table itself is writable only with the
permission manage_staff.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from desk.adapters import orm
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain.authority import Permission
from desk.domain.leave import Presence, covered_by, leave_problems, stand_in
from desk.domain.validation import ValidationError
from desk.services import audit
from desk.services.dto import StaffSession
from desk.services.errors import ConflictError, NotFound, PermissionRefused
from desk.services.permissions import held_permissions


@dataclass(frozen=True)
class LeaveInfo:
    username: str
    full_name: str
    away_from: dt.date | None
    away_until: dt.date | None
    deputy: str | None  # user name
    deputy_name: str
    version: int

    def away_on(self, day: dt.date) -> bool:
        return (
            self.away_from is not None
            and self.away_until is not None
            and self.away_from <= day <= self.away_until
        )


@dataclass(frozen=True)
class DeputyChoice:
    username: str
    full_name: str
    centre: str
    away_from: dt.date | None
    away_until: dt.date | None


__all__ = ["acts_for", "covered_by", "presences", "stand_in", "today"]


def today() -> dt.date:
    """The centre's calendar day (the computer's local date)."""
    return dt.date.today()


def presences(session: Session) -> dict[int, Presence]:
    """Every member of staff as the leave rule sees them (the staff table is small)."""
    deciders = set(
        session.scalars(
            select(orm.RolePermission.role_id).where(
                orm.RolePermission.permission == Permission.DECIDE_APPROVALS.value
            )
        )
    )
    rows = session.execute(
        select(
            orm.Staff.id,
            orm.Staff.full_name,
            orm.Staff.active,
            orm.Staff.role_id,
            orm.Staff.away_from,
            orm.Staff.away_until,
            orm.Staff.deputy_id,
        )
    ).all()
    return {
        r.id: Presence(
            id=r.id,
            name=r.full_name,
            active=r.active,
            may_decide=r.role_id in deciders,
            away_from=r.away_from,
            away_until=r.away_until,
            deputy_id=r.deputy_id,
        )
        for r in rows
    }


def acts_for(
    session: Session,
    actor: StaffSession,
    assigned_to_id: int | None,
    case_centre_id: int | None,
    permission: Permission,
) -> bool:
    """Whether the person may act on what waits: it waits for them, for someone away today whose
    deputy they are, or in their centre's pool (assigned to nobody) and they hold ``permission``."""
    if assigned_to_id == actor.staff_id:
        return True
    if assigned_to_id is None:
        return case_centre_id == actor.centre_id and permission.value in held_permissions(
            session, actor.staff_id
        )
    return assigned_to_id in covered_by(actor.staff_id, presences(session), today())


def check_and_apply(
    uow: UnitOfWork,
    person: orm.Staff,
    away_from: dt.date | None,
    away_until: dt.date | None,
    deputy_username: str | None,
    *,
    day: dt.date,
) -> dict[str, object]:
    """Validate the leave against the rule; returns the changes to audit. Raises
    ValidationError with a message per field."""
    people = presences(uow.session)
    deputy: orm.Staff | None = None
    if deputy_username:
        deputy = uow.session.scalar(
            select(orm.Staff).where(func.lower(orm.Staff.username) == deputy_username.lower())
        )
        if deputy is None:
            raise ValidationError({"deputy": f"There is no member of staff {deputy_username!r}."})
    if away_from is None and away_until is None:
        deputy = None
    problems = leave_problems(
        people[person.id],
        away_from,
        away_until,
        people[deputy.id] if deputy is not None else None,
        today=day,
    )
    if problems:
        raise ValidationError(problems)
    return {
        "away_from": away_from.isoformat() if away_from else None,
        "away_until": away_until.isoformat() if away_until else None,
        "deputy": deputy.username if deputy is not None else None,
        "_deputy_id": deputy.id if deputy is not None else None,
    }


class LeaveService:
    """A decider's own leave (the "My leave" dialog)."""

    def __init__(
        self,
        uow: Callable[..., UnitOfWork],
        actor: Callable[[], StaffSession],
        clock: Callable[[], dt.date] = today,
    ) -> None:
        self._uow = uow
        self._actor = actor
        self._today = clock

    def mine(self) -> LeaveInfo:
        actor = self._actor()
        with self._uow(read_only=True) as uow:
            return leave_info(uow.session, actor.staff_id)

    def of(self, username: str | None) -> LeaveInfo:
        """Someone's leave (None: one's own); another person's needs the permission
        manage_staff."""
        if username is None:
            return self.mine()
        actor = self._actor()
        with self._uow(read_only=True) as uow:
            if Permission.MANAGE_STAFF.value not in held_permissions(uow.session, actor.staff_id):
                raise PermissionRefused(
                    "Another person's leave is set by someone whose role manages staff."
                )
            row = uow.session.scalar(
                select(orm.Staff).where(func.lower(orm.Staff.username) == username.lower())
            )
            if row is None:
                raise NotFound(f"There is no member of staff {username!r}.")
            return leave_info(uow.session, row.id)

    def deputies(self, for_username: str | None = None) -> list[DeputyChoice]:
        """Who may stand in for the person (None: oneself): active people whose role decides
        approvals, the person aside."""
        actor = self._actor()
        with self._uow(read_only=True) as uow:
            people = presences(uow.session)
            rows = uow.session.execute(
                select(
                    orm.Staff.id, orm.Staff.username, orm.Staff.full_name, orm.ServiceCentre.name
                )
                .join(orm.ServiceCentre, orm.ServiceCentre.id == orm.Staff.centre_id)
                .order_by(orm.Staff.full_name)
            ).all()
            return [
                DeputyChoice(
                    username=r.username,
                    full_name=r.full_name,
                    centre=r.name,
                    away_from=people[r.id].away_from,
                    away_until=people[r.id].away_until,
                )
                for r in rows
                if (
                    r.username.lower() != for_username.lower()
                    if for_username
                    else r.id != actor.staff_id
                )
                and people[r.id].active
                and people[r.id].may_decide
            ]

    def set_mine(
        self,
        away_from: dt.date | None,
        away_until: dt.date | None,
        deputy_username: str | None,
        *,
        expected_version: int,
    ) -> LeaveInfo:
        """Set (or, with no dates, clear) one's own leave."""
        actor = self._actor()
        with self._uow() as uow:
            if Permission.DECIDE_APPROVALS.value not in actor.permissions:
                raise PermissionRefused(
                    "Only people who decide approvals set leave with a deputy here; ask an "
                    "administrator for anything else."
                )
            row = uow.session.get(orm.Staff, actor.staff_id)
            if row is None:
                raise NotFound("Your account is not there any more.")
            if row.version != expected_version:
                raise ConflictError(
                    "Your leave was changed elsewhere since you opened it; look again first."
                )
            changes = check_and_apply(
                uow, row, away_from, away_until, deputy_username, day=self._today()
            )
            deputy_id = changes.pop("_deputy_id")
            try:
                if uow.session.get_bind().dialect.name == "postgresql":
                    uow.session.execute(
                        text("SELECT desk_set_my_leave(:first, :last, :deputy)"),
                        {"first": away_from, "last": away_until, "deputy": deputy_id},
                    )
                    uow.session.expire(row)
                else:
                    row.away_from, row.away_until = away_from, away_until
                    row.deputy_id = deputy_id  # type: ignore[assignment]
                    uow.session.flush()
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) in ("42501", "22023"):
                    diag = getattr(exc.orig, "diag", None)
                    raise PermissionRefused(
                        str(getattr(diag, "message_primary", None) or exc.orig)
                    ) from exc
                raise
            audit.record(
                uow,
                actor=actor,
                action="staff_leave_set" if away_from else "staff_leave_cleared",
                entity="staff",
                entity_id=row.id,
                details=changes,
                at=dt.datetime.now(dt.UTC),
            )
            uow.commit()
        return self.mine()


def leave_info(session: Session, staff_id: int) -> LeaveInfo:
    row = session.get(orm.Staff, staff_id)
    if row is None:
        raise NotFound("That member of staff is not there any more.")
    deputy = session.get(orm.Staff, row.deputy_id) if row.deputy_id else None
    return LeaveInfo(
        username=row.username,
        full_name=row.full_name,
        away_from=row.away_from,
        away_until=row.away_until,
        deputy=deputy.username if deputy is not None else None,
        deputy_name=deputy.full_name if deputy is not None else "",
        version=row.version,
    )
