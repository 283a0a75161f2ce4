"""Configuring the organisation: staff accounts, roles and their permissions, authority limits.

One service for the admin console and the operator's command line. Every change is checked
here (permission, bad input, self-lockout) before anything is written, written in one
transaction, and audited. On PostgreSQL the database checks the permission again, and login
roles are made through its SECURITY DEFINER functions (schema revision 0006).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from desk.adapters import orm
from desk.adapters.pg_scram import scram_verifier
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain.authority import ALL_PERMISSIONS, Permission
from desk.domain.money import AmountError, parse_amount
from desk.domain.passwords import password_problems, username_problem
from desk.domain.validation import (
    EMAIL_PATTERN,
    PHONE_PATTERN,
    ValidationError,
    normalise_text,
)
from desk.services import audit, org_settings
from desk.services.dto import StaffSession
from desk.services.errors import ConflictError, DeskError, NotFound, PermissionRefused
from desk.services.permissions import held_permissions
from desk.services.reference import currency_from, read_settings

OPERATOR = "operator (command line)"


class AdminInputError(DeskError):
    """Bad input from an admin; ``field`` names where it was typed."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class StaffInfo:
    id: int
    username: str
    full_name: str
    email: str
    role: str
    centre_code: str
    centre: str
    supervisor: str | None  # user name
    active: bool
    must_change_password: bool
    has_login: bool
    version: int
    language: str = ""  # of the guided scripts; empty: the computer's
    away_from: dt.date | None = None
    away_until: dt.date | None = None
    deputy: str | None = None  # user name of who decides while this person is away


@dataclass(frozen=True)
class NewStaff:
    username: str
    full_name: str
    role: str
    centre_code: str
    supervisor: str | None = None
    email: str = ""


@dataclass(frozen=True)
class RoleInfo:
    id: int
    name: str
    rank: int
    description: str
    permissions: frozenset[str]
    staff_count: int
    version: int


@dataclass(frozen=True)
class LimitsMatrix:
    roles: tuple[str, ...]  # by rank
    kinds: tuple[tuple[str, str], ...]  # (code, label)
    limits: dict[tuple[str, str], int]  # (role, kind) -> minor units
    currency_code: str
    currency_decimals: int

    def limit(self, role: str, kind: str) -> int:
        return self.limits.get((role, kind), 0)


@dataclass(frozen=True)
class CentreChoice:
    """A service centre as the staff dialogs offer it."""

    code: str
    name: str


@dataclass(frozen=True)
class OrganisationSettings:
    idle_lock_minutes: int  # 0: never locks
    grant_window_days: int


@dataclass(frozen=True)
class CentreDetails:
    """What an admin types about a service centre."""

    code: str
    name: str
    address: str = ""
    phone: str = ""
    email: str = ""
    opening_hours: str = ""


@dataclass(frozen=True)
class CentreInfo:
    id: int
    code: str
    name: str
    address: str
    phone: str
    email: str
    opening_hours: str
    active: bool
    active_staff: int  # active staff members whose centre this is

    @property
    def details(self) -> CentreDetails:
        return CentreDetails(
            self.code, self.name, self.address, self.phone, self.email, self.opening_hours
        )


@dataclass(frozen=True)
class TeamInfo:
    """A specialist team: cases are referred to the active ones."""

    id: int
    name: str
    email: str
    active: bool


@dataclass(frozen=True)
class CategoryInfo:
    """A case category; one with a ``parent_id`` is a subcategory of it."""

    id: int
    name: str
    parent_id: int | None
    position: int  # where it stands among its siblings (0: first)
    active: bool
    subcategories: tuple[CategoryInfo, ...] = ()


@dataclass(frozen=True)
class RequestKindInfo:
    id: int
    code: str
    label: str
    grant_permission: str  # grant_waivers or grant_claims: who may grant it on the spot
    active: bool
    pending: int  # requests of this kind waiting for a decision


# How far back a customer's grants count toward a limit (the database reads the same key).
GRANT_WINDOW_DAYS = org_settings.WholeNumberSetting(
    key="grant_window_days",
    label="The rolling window for limits",
    unit="days",
    default=365,
    minimum=1,
    maximum=3650,
)

# The audit actions that change a staff account or a role (not logins, which touch no record).
_STAFF_CHANGES = (
    "staff_added",
    "staff_changed",
    "staff_enabled",
    "staff_disabled",
    "staff_leave_set",
    "staff_leave_cleared",
)
_ROLE_CHANGES = ("role_added", "permissions_changed")
_CENTRE_CHANGES = ("centre_added", "centre_changed", "centre_enabled", "centre_disabled")
_TEAM_CHANGES = ("team_added", "team_changed", "team_enabled", "team_disabled")
_CATEGORY_CHANGES = ("category_added", "category_renamed", "category_enabled", "category_disabled")

# A centre's code: what operators type (``desk staff add --centre NTH``).
CENTRE_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")
# A kind of request's code: a stable name for the command line and the limits.
# A language of the guided scripts: "es", "pt-BR" (as a script's own languages are written).
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")
KIND_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,29}$")
# The permissions that may let a person grant a kind of request on the spot (within their limit).
GRANT_PERMISSIONS = (Permission.GRANT_WAIVERS.value, Permission.GRANT_CLAIMS.value)


class AdminService:
    def __init__(
        self, uow: Callable[..., UnitOfWork], actor: Callable[[], StaffSession | None]
    ) -> None:
        self._uow = uow
        self._actor = actor

    # --- staff --------------------------------------------------------------------------------

    def staff(self) -> list[StaffInfo]:
        with self._uow(read_only=True) as uow:
            rows = uow.session.scalars(select(orm.Staff).order_by(orm.Staff.username)).all()
            by_id = {s.id: s.username for s in rows}
            return [
                StaffInfo(
                    id=s.id,
                    username=s.username,
                    full_name=s.full_name,
                    email=s.email,
                    role=s.role.name,
                    centre_code=s.centre.code,
                    centre=s.centre.name,
                    supervisor=by_id.get(s.supervisor_id) if s.supervisor_id else None,
                    active=s.active,
                    must_change_password=s.must_change_password,
                    has_login=bool(s.password_hash or s.db_role),
                    version=s.version,
                    language=s.language,
                    away_from=s.away_from,
                    away_until=s.away_until,
                    deputy=by_id.get(s.deputy_id) if s.deputy_id else None,
                )
                for s in rows
            ]

    def add_staff(self, new: NewStaff, password: str) -> StaffInfo:
        """A new account; the person chooses their own password at the first login."""
        username = new.username.strip().lower()
        full_name = normalise_text(new.full_name)
        if not username:
            raise AdminInputError("Enter a user name.", field="username")
        problem = username_problem(username)
        if problem:
            raise AdminInputError(problem, field="username")
        if not full_name:
            raise AdminInputError("Enter the person's full name.", field="full_name")
        self._check_password(username, password)
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_STAFF)
            if uow.session.scalar(select(orm.Staff.id).where(orm.Staff.username == username)):
                raise AdminInputError(f"The user name {username!r} is taken.", field="username")
            role = self._role(uow, new.role)
            centre = self._centre(uow, new.centre_code)
            supervisor = self._staff(uow, new.supervisor) if new.supervisor else None
            postgres = self._is_postgres(uow)
            if postgres:
                from desk.adapters.pg_roles import RoleNameError, login_role_name

                try:
                    login_role_name(self._database(uow), username)
                except RoleNameError as exc:
                    raise AdminInputError(str(exc), field="username") from exc
            row = orm.Staff(
                username=username,
                full_name=full_name,
                email=new.email.strip(),
                role_id=role.id,
                centre_id=centre.id,
                supervisor_id=supervisor.id if supervisor else None,
                active=True,
                must_change_password=True,
                password_hash=None if postgres else _hash(password),
            )
            uow.session.add(row)
            self._flush(uow)
            if postgres:
                uow.session.execute(
                    text("SELECT desk_create_login(:u, :v)"),
                    {"u": username, "v": scram_verifier(password)},
                )
            self._audit(
                uow,
                "staff_added",
                "staff",
                row.id,
                {"username": username, "role": role.name, "centre": centre.code},
            )
            uow.commit()
        return self._one_staff(username)

    def set_staff_active(self, username: str, active: bool) -> StaffInfo:
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_STAFF)
            row = self._staff(uow, username)
            actor = self._actor()
            if not active and actor is not None and actor.staff_id == row.id:
                raise AdminInputError("You cannot disable your own account.", field="active")
            if self._is_postgres(uow):
                uow.session.execute(
                    text("SELECT desk_set_login_enabled(:u, :e)"), {"u": row.username, "e": active}
                )
            else:
                row.active = active
                self._flush(uow)
            self._audit(uow, "staff_enabled" if active else "staff_disabled", "staff", row.id, {})
            uow.commit()
        return self._one_staff(username)

    def reset_password(self, username: str, password: str) -> StaffInfo:
        """An admin sets a temporary password; the person must change it at the next login."""
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_STAFF)
            row = self._staff(uow, username)
            self._check_password(row.username, password)
            if self._is_postgres(uow):
                if row.db_role is None:
                    uow.session.execute(
                        text("SELECT desk_create_login(:u, :v)"),
                        {"u": row.username, "v": scram_verifier(password)},
                    )
                else:
                    uow.session.execute(
                        text("SELECT desk_set_password(:u, :v)"),
                        {"u": row.username, "v": scram_verifier(password)},
                    )
            else:
                row.password_hash = _hash(password)
                row.must_change_password = True
                row.failed_logins = 0
                row.locked_until = None
                self._flush(uow)
            self._audit(uow, "password_reset", "staff", row.id, {})
            uow.commit()
        return self._one_staff(username)

    def update_staff(
        self,
        username: str,
        *,
        expected_version: int,
        role: str | None = None,
        centre_code: str | None = None,
        supervisor: str | None = None,
        clear_supervisor: bool = False,
        full_name: str | None = None,
        language: str | None = None,
    ) -> StaffInfo:
        if language is not None:
            language = language.strip()
            if language and not LANGUAGE_PATTERN.match(language):
                raise AdminInputError(
                    f"{language!r} is not a language code; write one such as en, es or pt-BR, "
                    "or leave it empty for the computer's language.",
                    field="language",
                )
        with self._uow() as uow:
            row = self._staff_to_change(uow, username, expected_version)
            changes: dict[str, str | None] = {}
            if role is not None:
                new_role = self._role(uow, role)
                self._refuse_own_admin_loss(uow, row, new_role.id)
                row.role_id = new_role.id
                changes["role"] = new_role.name
            if centre_code is not None:
                row.centre_id = self._centre(uow, centre_code).id
                changes["centre"] = centre_code
            if clear_supervisor:
                row.supervisor_id = None
                changes["supervisor"] = None
            elif supervisor is not None:
                boss = self._staff(uow, supervisor)
                self._refuse_supervisor_loop(uow, row, boss)
                row.supervisor_id = boss.id
                changes["supervisor"] = boss.username
            if full_name is not None:
                name = normalise_text(full_name)
                if not name:
                    raise AdminInputError("Enter the person's full name.", field="full_name")
                row.full_name = name
                changes["full_name"] = name
            if language is not None and language != row.language:
                row.language = language
                changes["language"] = language
            self._flush(uow)
            self._audit(uow, "staff_changed", "staff", row.id, changes)
            uow.commit()
        return self._one_staff(username)

    def set_leave(
        self,
        username: str,
        away_from: dt.date | None,
        away_until: dt.date | None,
        deputy: str | None,
        *,
        expected_version: int,
        today: dt.date | None = None,
    ) -> StaffInfo:
        """Set (or, with no dates, clear) a person's leave and the deputy who decides meanwhile."""
        from desk.services import leave

        with self._uow() as uow:
            row = self._staff_to_change(uow, username, expected_version)
            try:
                changes = leave.check_and_apply(
                    uow, row, away_from, away_until, deputy, day=today or leave.today()
                )
            except ValidationError as exc:
                field, message = next(iter(exc.errors.items()))
                raise AdminInputError(message, field=field) from exc
            row.deputy_id = changes.pop("_deputy_id")  # type: ignore[assignment]
            row.away_from, row.away_until = away_from, away_until
            self._flush(uow)
            self._audit(
                uow,
                "staff_leave_set" if away_from else "staff_leave_cleared",
                "staff",
                row.id,
                changes,
            )
            uow.commit()
        return self._one_staff(username)

    # --- roles and permissions ---------------------------------------------------------------

    def roles(self) -> list[RoleInfo]:
        with self._uow(read_only=True) as uow:
            counts = dict(
                uow.session.execute(
                    select(orm.Staff.role_id, func.count()).group_by(orm.Staff.role_id)
                ).all()
            )
            granted: dict[int, set[str]] = {}
            for role_id, permission in uow.session.execute(
                select(orm.RolePermission.role_id, orm.RolePermission.permission)
            ).all():
                granted.setdefault(role_id, set()).add(permission)
            return [
                RoleInfo(
                    id=r.id,
                    name=r.name,
                    rank=r.rank,
                    description=r.description,
                    permissions=frozenset(granted.get(r.id, ())),
                    staff_count=counts.get(r.id, 0),
                    version=r.version,
                )
                for r in uow.session.scalars(
                    select(orm.Role).order_by(orm.Role.rank, orm.Role.name)
                )
            ]

    def create_role(
        self, name: str, *, rank: int, description: str = "", permissions: Iterable[str] = ()
    ) -> RoleInfo:
        name = normalise_text(name)
        if not name:
            raise AdminInputError("Enter the role's name.", field="name")
        wanted = self._known_permissions(permissions)
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_ROLES)
            if uow.session.scalar(select(orm.Role.id).where(orm.Role.name == name)):
                raise AdminInputError(f"There is already a role called {name!r}.", field="name")
            role = orm.Role(name=name, rank=rank, description=normalise_text(description))
            uow.session.add(role)
            self._flush(uow)
            uow.session.add_all(orm.RolePermission(role_id=role.id, permission=p) for p in wanted)
            self._flush(uow)
            self._audit(
                uow, "role_added", "role", role.id, {"name": name, "permissions": sorted(wanted)}
            )
            uow.commit()
        return self._one_role(name)

    def set_permissions(
        self, role_name: str, permissions: Iterable[str], *, expected_version: int
    ) -> RoleInfo:
        """Replace a role's permissions; refused if another admin changed the role meanwhile."""
        wanted = self._known_permissions(permissions)
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_ROLES)
            role = self._role(uow, role_name)
            if role.version != expected_version:
                who, when = self._last_change(uow, "role", role.id, _ROLE_CHANGES)
                raise ConflictError(
                    f"Another admin changed the role {role.name} since you opened it; "
                    "look at their change before making yours.",
                    changed_by=who,
                    changed_at=when,
                )
            current = set(
                uow.session.scalars(
                    select(orm.RolePermission.permission).where(
                        orm.RolePermission.role_id == role.id
                    )
                )
            )
            self._refuse_own_admin_loss(uow, None, role.id, new_permissions=wanted)
            for permission in current - wanted:
                row = uow.session.get(orm.RolePermission, (role.id, permission))
                if row is not None:
                    uow.session.delete(row)
            uow.session.add_all(
                orm.RolePermission(role_id=role.id, permission=p) for p in wanted - current
            )
            # The rows changed, not the role: move its version so a second admin is told.
            bumped = uow.session.execute(
                update(orm.Role)
                .where(orm.Role.id == role.id, orm.Role.version == expected_version)
                .values(version=expected_version + 1)
                .execution_options(synchronize_session=False)
            )
            if getattr(bumped, "rowcount", 1) != 1:
                raise ConflictError(
                    f"Another admin changed the role {role.name} at the same moment; look again."
                )
            self._flush(uow)
            self._audit(
                uow,
                "permissions_changed",
                "role",
                role.id,
                {"added": sorted(wanted - current), "removed": sorted(current - wanted)},
            )
            uow.commit()
        return self._one_role(role_name)

    def delete_role(self, role_name: str) -> None:
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_ROLES)
            role = self._role(uow, role_name)
            users = uow.session.scalar(
                select(func.count()).select_from(orm.Staff).where(orm.Staff.role_id == role.id)
            )
            if users:
                raise AdminInputError(
                    f"The role {role.name} is still held by {users} staff member"
                    f"{'s' if users != 1 else ''}; give them another role first.",
                    field="role",
                )
            uow.session.delete(role)
            self._flush(uow)
            self._audit(uow, "role_deleted", "role", role.id, {"name": role.name})
            uow.commit()

    # --- authority limits ---------------------------------------------------------------------

    def limits(self) -> LimitsMatrix:
        with self._uow(read_only=True) as uow:
            currency = currency_from(read_settings(uow))
            roles = uow.session.execute(
                select(orm.Role.id, orm.Role.name).order_by(orm.Role.rank, orm.Role.name)
            ).all()
            kinds = uow.session.execute(
                select(orm.RequestKind.id, orm.RequestKind.code, orm.RequestKind.label)
                .where(orm.RequestKind.active)
                .order_by(orm.RequestKind.id)
            ).all()
            role_names = {rid: name for rid, name in roles}
            kind_codes = {kid: code for kid, code, _ in kinds}
            values = {
                (role_names[r], kind_codes[k]): v
                for r, k, v in uow.session.execute(
                    select(
                        orm.AuthorityLimit.role_id,
                        orm.AuthorityLimit.kind_id,
                        orm.AuthorityLimit.limit_minor,
                    )
                ).all()
                if r in role_names and k in kind_codes
            }
            return LimitsMatrix(
                roles=tuple(name for _, name in roles),
                kinds=tuple((code, label) for _, code, label in kinds),
                limits=values,
                currency_code=currency.code,
                currency_decimals=currency.decimals,
            )

    def set_limit(self, role_name: str, kind: str, amount_text: str) -> list[str]:
        """Set a role's limit for a kind; returns warnings (e.g. above its manager's limit)."""
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_LIMITS)
            currency = currency_from(read_settings(uow))
            try:
                amount = parse_amount(amount_text, currency)
            except AmountError as exc:
                raise AdminInputError(str(exc), field="amount") from exc
            role = self._role(uow, role_name)
            kind_row = uow.session.scalar(
                select(orm.RequestKind).where(orm.RequestKind.code == kind.strip().lower())
            )
            if kind_row is None:
                known = ", ".join(uow.session.scalars(select(orm.RequestKind.code)))
                raise AdminInputError(
                    f"There is no kind of request called {kind!r} (there are: {known}).",
                    field="kind",
                )
            row = uow.session.get(orm.AuthorityLimit, (role.id, kind_row.id))
            before = row.limit_minor if row else None
            if row is None:
                uow.session.add(
                    orm.AuthorityLimit(role_id=role.id, kind_id=kind_row.id, limit_minor=amount)
                )
            else:
                row.limit_minor = amount
            self._flush(uow)
            warnings = []
            higher = uow.session.execute(
                select(orm.Role.name, orm.AuthorityLimit.limit_minor)
                .join(orm.AuthorityLimit, orm.AuthorityLimit.role_id == orm.Role.id)
                .where(orm.AuthorityLimit.kind_id == kind_row.id, orm.Role.rank > role.rank)
                .order_by(orm.Role.rank)
            ).first()
            if higher is not None and amount > higher[1]:
                warnings.append(
                    f"{role.name}'s limit for {kind_row.label.lower()} "
                    f"({currency.format(amount)}) is above that of {higher[0]} "
                    f"({currency.format(higher[1])}), the next role up."
                )
            self._audit(
                uow,
                "limit_changed",
                "authority_limit",
                f"{role.id}:{kind_row.id}",
                {"role": role.name, "kind": kind_row.code, "before": before, "after": amount},
            )
            uow.commit()
            return warnings

    # --- service centres ----------------------------------------------------------------------

    def service_centres(self) -> list[CentreInfo]:
        """Every centre, in use or not, by name, with how many active staff it holds."""
        with self._uow(read_only=True) as uow:
            staffed = self._active_staff_by_centre(uow)
            rows = uow.session.scalars(
                select(orm.ServiceCentre).order_by(orm.ServiceCentre.name, orm.ServiceCentre.code)
            ).all()
            return [_centre_info(row, staffed.get(row.id, 0)) for row in rows]

    def add_centre(self, details: CentreDetails) -> CentreInfo:
        values = _centre_values(details)
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_ORGANISATION)
            self._refuse_taken_centre(uow, values, None)
            row = orm.ServiceCentre(active=True, **values)
            uow.session.add(row)
            self._flush(uow)
            self._audit(uow, "centre_added", "service_centre", row.id, values)
            uow.commit()
            return self._centre_info_of(uow, row)

    def update_centre(
        self, code: str, details: CentreDetails, *, expected: CentreDetails
    ) -> CentreInfo:
        """Change a centre from the copy the admin saw (``expected``); refused, saying who, when
        another admin changed it meanwhile."""
        values = _centre_values(details)
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_ORGANISATION)
            row = self._centre(uow, code, lock=True)
            if _details_of(row) != expected:
                who, when = self._last_change(uow, "service_centre", row.id, _CENTRE_CHANGES)
                raise ConflictError(
                    f"Someone else changed the centre {row.name} since you opened it; "
                    "look again before changing it.",
                    changed_by=who,
                    changed_at=when,
                )
            self._refuse_taken_centre(uow, values, row.id)
            changes = {
                key: {"from": getattr(row, key), "to": value}
                for key, value in values.items()
                if getattr(row, key) != value
            }
            if changes:
                for key, value in values.items():
                    setattr(row, key, value)
                self._flush(uow)
                self._audit(uow, "centre_changed", "service_centre", row.id, changes)
                uow.commit()
            return self._centre_info_of(uow, row)

    def set_centre_active(self, code: str, active: bool) -> CentreInfo:
        """Take a centre out of use (no new staff or cases there) or back; a centre where active
        staff still work stays in use until they are moved."""
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_ORGANISATION)
            row = self._centre(uow, code, lock=True)
            if not active:
                staffed = self._active_staff_by_centre(uow).get(row.id, 0)
                if staffed:
                    staff = _count(staffed, "active staff member")
                    raise AdminInputError(
                        f"{row.name} is still the centre of {staff}; move them to another "
                        "centre (or disable their accounts) first.",
                        field="active",
                    )
            self._switch_active(uow, row, active, "centre", "service_centre", {"code": row.code})
            return self._centre_info_of(uow, row)

    def _active_staff_by_centre(self, uow: UnitOfWork) -> dict[int, int]:
        return {
            centre_id: count
            for centre_id, count in uow.session.execute(
                select(orm.Staff.centre_id, func.count())
                .where(orm.Staff.active)
                .group_by(orm.Staff.centre_id)
            ).all()
        }

    def _centre_info_of(self, uow: UnitOfWork, row: orm.ServiceCentre) -> CentreInfo:
        return _centre_info(row, self._active_staff_by_centre(uow).get(row.id, 0))

    def _refuse_taken_centre(
        self, uow: UnitOfWork, values: Mapping[str, str], own_id: int | None
    ) -> None:
        for key, what in (("code", "code"), ("name", "name")):
            taken = uow.session.scalar(
                select(orm.ServiceCentre.name).where(
                    func.lower(getattr(orm.ServiceCentre, key)) == values[key].lower(),
                    orm.ServiceCentre.id != (own_id or 0),
                )
            )
            if taken is not None:
                raise AdminInputError(
                    f"The centre {taken} already has the {what} {values[key]!r}.", field=key
                )

    # --- specialist teams ---------------------------------------------------------------------

    def teams(self) -> list[TeamInfo]:
        """Every specialist team, in use or not, by name (cases are referred to those in use)."""
        with self._uow(read_only=True) as uow:
            return [
                _team_info(row)
                for row in uow.session.scalars(
                    select(orm.SpecialistTeam).order_by(orm.SpecialistTeam.name)
                )
            ]

    def add_team(self, name: str, email: str = "") -> TeamInfo:
        values = _team_values(name, email)
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_ORGANISATION)
            self._refuse_taken_team(uow, values["name"], None)
            row = orm.SpecialistTeam(active=True, **values)
            uow.session.add(row)
            self._flush(uow)
            self._audit(uow, "team_added", "specialist_team", row.id, values)
            uow.commit()
            return _team_info(row)

    def update_team(self, team_id: int, *, name: str, email: str, expected: TeamInfo) -> TeamInfo:
        """Rename a team (or change its e-mail) from the copy the admin saw."""
        values = _team_values(name, email)
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_ORGANISATION)
            row = self._team(uow, team_id)
            if (row.name, row.email) != (expected.name, expected.email):
                who, when = self._last_change(uow, "specialist_team", row.id, _TEAM_CHANGES)
                raise ConflictError(
                    f"Someone else changed the team {row.name} since you opened it; "
                    "look again before changing it.",
                    changed_by=who,
                    changed_at=when,
                )
            self._refuse_taken_team(uow, values["name"], row.id)
            changes = {
                key: {"from": getattr(row, key), "to": value}
                for key, value in values.items()
                if getattr(row, key) != value
            }
            if changes:
                row.name, row.email = values["name"], values["email"]
                self._flush(uow)
                self._audit(uow, "team_changed", "specialist_team", row.id, changes)
                uow.commit()
            return _team_info(row)

    def set_team_active(self, team_id: int, active: bool) -> TeamInfo:
        """A team out of use takes no new referrals; the cases it holds stay with it."""
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_ORGANISATION)
            row = self._team(uow, team_id)
            self._switch_active(uow, row, active, "team", "specialist_team", {"name": row.name})
            return _team_info(row)

    def _team(self, uow: UnitOfWork, team_id: int) -> orm.SpecialistTeam:
        row = uow.session.get(orm.SpecialistTeam, team_id, with_for_update=True)
        if row is None:
            raise AdminInputError(f"There is no specialist team number {team_id}.", field="team")
        return row

    def _refuse_taken_team(self, uow: UnitOfWork, name: str, own_id: int | None) -> None:
        taken = uow.session.scalar(
            select(orm.SpecialistTeam).where(
                func.lower(orm.SpecialistTeam.name) == name.lower(),
                orm.SpecialistTeam.id != (own_id or 0),
            )
        )
        if taken is not None:
            raise AdminInputError(
                f"There is already a team called {taken.name!r}"
                + ("." if taken.active else " (not in use: enable it instead)."),
                field="name",
            )

    # --- case categories ----------------------------------------------------------------------

    def category_tree(self) -> list[CategoryInfo]:
        """The main categories in their order, each with its subcategories in theirs."""
        with self._uow(read_only=True) as uow:
            return _tree(uow.session.scalars(select(orm.Category)).all())

    def add_category(self, name: str, *, parent_id: int | None = None) -> CategoryInfo:
        """A main category (no ``parent_id``) or a subcategory of one; it goes last."""
        name = _checked_text(name, field="name", label="The name", maximum=100, required=True)
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_ORGANISATION)
            if parent_id is not None:
                parent = self._category(uow, parent_id, field="parent")
                if parent.parent_id is not None:
                    raise AdminInputError(
                        "A subcategory goes under a main category, not under another subcategory.",
                        field="parent",
                    )
                if not parent.active:
                    raise AdminInputError(
                        f"{parent.name} is not in use; enable it first.", field="parent"
                    )
            self._refuse_taken_category(uow, name, parent_id, None)
            last = uow.session.scalar(
                select(func.max(orm.Category.sort_order)).where(_siblings_of(parent_id))
            )
            row = orm.Category(
                name=name,
                parent_id=parent_id,
                active=True,
                sort_order=0 if last is None else last + 1,
            )
            uow.session.add(row)
            self._flush(uow)
            self._audit(
                uow, "category_added", "category", row.id, {"name": name, "parent": parent_id}
            )
            uow.commit()
            return self._category_info(uow, row.id)

    def rename_category(self, category_id: int, name: str, *, expected_name: str) -> CategoryInfo:
        name = _checked_text(name, field="name", label="The name", maximum=100, required=True)
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_ORGANISATION)
            row = self._category(uow, category_id)
            if row.name != expected_name:
                who, when = self._last_change(uow, "category", row.id, _CATEGORY_CHANGES)
                raise ConflictError(
                    f"Someone else renamed {expected_name} to {row.name} since you opened it; "
                    "look again before changing it.",
                    changed_by=who,
                    changed_at=when,
                )
            if name != row.name:
                self._refuse_taken_category(uow, name, row.parent_id, row.id)
                before, row.name = row.name, name
                self._flush(uow)
                self._audit(
                    uow, "category_renamed", "category", row.id, {"from": before, "to": name}
                )
                uow.commit()
            return self._category_info(uow, row.id)

    def move_category(self, category_id: int, steps: int) -> CategoryInfo:
        """Move a category up (negative ``steps``) or down among its siblings; the case form
        lists them in this order."""
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_ORGANISATION)
            row = self._category(uow, category_id)
            siblings = list(
                uow.session.scalars(
                    select(orm.Category)
                    .where(_siblings_of(row.parent_id))
                    .order_by(orm.Category.sort_order, orm.Category.name, orm.Category.id)
                    .with_for_update()
                )
            )
            before = siblings.index(row)
            after = before + steps
            if steps == 0 or not 0 <= after < len(siblings):
                where = "first" if after < before else "last"
                raise AdminInputError(f"{row.name} is already {where}.", field="position")
            siblings.insert(after, siblings.pop(before))
            for position, sibling in enumerate(siblings):
                if sibling.sort_order != position:
                    sibling.sort_order = position
            self._flush(uow)
            self._audit(
                uow,
                "category_moved",
                "category",
                row.id,
                {"name": row.name, "from": before, "to": after},
            )
            uow.commit()
            return self._category_info(uow, row.id)

    def set_category_active(self, category_id: int, active: bool) -> CategoryInfo:
        """A category out of use is no longer offered for new cases (nor are its subcategories);
        cases already filed under it keep it."""
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_ORGANISATION)
            row = self._category(uow, category_id)
            if active and row.parent_id is not None:
                parent = self._category(uow, row.parent_id)
                if not parent.active:
                    raise AdminInputError(
                        f"{row.name} belongs to {parent.name}, which is not in use; "
                        "enable that first.",
                        field="active",
                    )
            self._switch_active(uow, row, active, "category", "category", {"name": row.name})
            return self._category_info(uow, row.id)

    def _category(
        self, uow: UnitOfWork, category_id: int, *, field: str = "category"
    ) -> orm.Category:
        row = uow.session.get(orm.Category, category_id, with_for_update=True)
        if row is None:
            raise AdminInputError(f"There is no category number {category_id}.", field=field)
        return row

    def _category_info(self, uow: UnitOfWork, category_id: int) -> CategoryInfo:
        for main in _tree(uow.session.scalars(select(orm.Category)).all()):
            for info in (main, *main.subcategories):
                if info.id == category_id:
                    return info
        raise NotFound(f"There is no category number {category_id}.")

    def _refuse_taken_category(
        self, uow: UnitOfWork, name: str, parent_id: int | None, own_id: int | None
    ) -> None:
        taken = uow.session.scalar(
            select(orm.Category).where(
                _siblings_of(parent_id),
                func.lower(orm.Category.name) == name.lower(),
                orm.Category.id != (own_id or 0),
            )
        )
        if taken is not None:
            where = "subcategory of this category" if parent_id is not None else "category"
            raise AdminInputError(
                f"There is already a {where} called {taken.name!r}"
                + ("." if taken.active else " (not in use: enable it instead)."),
                field="name",
            )

    # --- kinds of request ---------------------------------------------------------------------

    def request_kinds(self) -> list[RequestKindInfo]:
        """Every kind of request, in use or not, in the order they were added."""
        with self._uow(read_only=True) as uow:
            pending = {
                kind_id: count
                for kind_id, count in uow.session.execute(
                    select(orm.ApprovalRequest.kind_id, func.count())
                    .where(orm.ApprovalRequest.status == "pending")
                    .group_by(orm.ApprovalRequest.kind_id)
                ).all()
            }
            return [
                _kind_info(row, pending.get(row.id, 0))
                for row in uow.session.scalars(select(orm.RequestKind).order_by(orm.RequestKind.id))
            ]

    def add_request_kind(self, code: str, label: str, grant_permission: str) -> RequestKindInfo:
        """A new kind of request (a new column of the limits matrix, every limit 0 until set)."""
        code = code.strip()
        if not code:
            raise AdminInputError("Enter a code for the kind of request.", field="code")
        if not KIND_CODE_PATTERN.match(code):
            raise AdminInputError(
                "A code has 2 to 30 lower-case letters, digits or underscores and starts with a "
                "letter, for example late_fee.",
                field="code",
            )
        label = _checked_text(label, field="label", label="The label", maximum=100, required=True)
        permission = grant_permission.strip().lower()
        if permission not in GRANT_PERMISSIONS:
            raise AdminInputError(
                f"Unknown permission {grant_permission!r}: a kind of request is granted on the "
                f"spot with {' or '.join(GRANT_PERMISSIONS)}.",
                field="grant_permission",
            )
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_LIMITS)
            for key, value in (("code", code), ("label", label)):
                taken = uow.session.scalar(
                    select(orm.RequestKind).where(
                        func.lower(getattr(orm.RequestKind, key)) == value.lower()
                    )
                )
                if taken is not None:
                    raise AdminInputError(
                        f"The kind of request {taken.label} ({taken.code}) already has this "
                        f"{key}" + ("." if taken.active else " (not in use: enable it instead)."),
                        field=key,
                    )
            row = orm.RequestKind(code=code, label=label, grant_permission=permission, active=True)
            uow.session.add(row)
            self._flush(uow)
            self._audit(
                uow,
                "request_kind_added",
                "request_kind",
                row.id,
                {"code": code, "label": label, "grant_permission": permission},
            )
            uow.commit()
            return self._kind_info(uow, row)

    def set_request_kind_active(self, code: str, active: bool) -> RequestKindInfo:
        """A kind out of use is no longer offered (nor shown in the limits matrix); one with
        requests still waiting for a decision stays in use until they are decided."""
        with self._uow() as uow:
            self._require(uow, Permission.MANAGE_LIMITS)
            row = uow.session.scalar(
                select(orm.RequestKind)
                .where(orm.RequestKind.code == code.strip().lower())
                .with_for_update()
            )
            if row is None:
                known = ", ".join(uow.session.scalars(select(orm.RequestKind.code)))
                raise AdminInputError(
                    f"There is no kind of request called {code!r} (there are: {known}).",
                    field="kind",
                )
            if not active:
                pending = self._pending_requests(uow, row.id)
                if pending:
                    raise AdminInputError(
                        f"{row.label} still has {_count(pending, 'request')} waiting for a "
                        "decision; they must be decided or withdrawn first.",
                        field="active",
                    )
            details = {"code": row.code}
            self._switch_active(uow, row, active, "request_kind", "request_kind", details)
            return self._kind_info(uow, row)

    def _pending_requests(self, uow: UnitOfWork, kind_id: int) -> int:
        return int(
            uow.session.scalar(
                select(func.count())
                .select_from(orm.ApprovalRequest)
                .where(
                    orm.ApprovalRequest.kind_id == kind_id,
                    orm.ApprovalRequest.status == "pending",
                )
            )
            or 0
        )

    def _kind_info(self, uow: UnitOfWork, row: orm.RequestKind) -> RequestKindInfo:
        return _kind_info(row, self._pending_requests(uow, row.id))

    # --- organisation settings ----------------------------------------------------------------

    def centres(self) -> list[CentreChoice]:
        """The active service centres, by name (for the staff dialogs)."""
        with self._uow(read_only=True) as uow:
            rows = uow.session.execute(
                select(orm.ServiceCentre.code, orm.ServiceCentre.name)
                .where(orm.ServiceCentre.active)
                .order_by(orm.ServiceCentre.name)
            ).all()
            return [CentreChoice(code, name) for code, name in rows]

    def settings(self) -> OrganisationSettings:
        with self._uow(read_only=True) as uow:
            return OrganisationSettings(
                idle_lock_minutes=org_settings.read_whole_number(
                    uow, org_settings.IDLE_LOCK_MINUTES
                ),
                grant_window_days=org_settings.read_whole_number(uow, GRANT_WINDOW_DAYS),
            )

    def set_grant_window_days(self, days: int | str) -> int:
        """How many days back a customer's grants count toward a limit (1..3650); audited."""
        return self._set_whole_number(GRANT_WINDOW_DAYS, days, Permission.MANAGE_LIMITS)

    def set_idle_lock_minutes(self, minutes: int | str) -> int:
        """After how many idle minutes every window locks (0: never; at most 240); audited."""
        return self._set_whole_number(
            org_settings.IDLE_LOCK_MINUTES, minutes, Permission.MANAGE_ORGANISATION
        )

    def _set_whole_number(
        self, setting: org_settings.WholeNumberSetting, value: int | str, needs: Permission
    ) -> int:
        try:
            setting.parse(value)  # refused before a transaction is opened
        except ValidationError as exc:
            raise AdminInputError(str(exc), field=setting.key) from exc
        with self._uow() as uow:
            self._require(uow, needs)
            number = org_settings.write_whole_number(uow, setting, value, actor=self._actor())
            self._flush(uow)
            uow.commit()
            return number

    # --- the audit trail ------------------------------------------------------------------------

    def audit_entries(
        self, wanted: audit.AuditFilter, *, before_id: int | None = None, limit: int = 100
    ) -> audit.AuditPage:
        """A page of the audit trail, newest first; needs the permission to view it."""
        self._require_read(Permission.VIEW_AUDIT)
        return audit.query(self._uow, wanted, before_id=before_id, limit=limit)

    def audit_facets(self) -> audit.AuditFacets:
        self._require_read(Permission.VIEW_AUDIT)
        return audit.facets(self._uow)

    def export_audit(self, path: Path) -> int:
        """Write the whole trail to a CSV file; the export is itself audited."""
        self._require_read(Permission.VIEW_AUDIT)
        try:
            return audit.export_csv(self._uow, path, actor=self._actor())
        except OSError as exc:
            raise DeskError(
                f"The file {path} cannot be written: {exc.strerror or exc}. Choose another folder."
            ) from exc

    # --- checks -------------------------------------------------------------------------------

    def _require_read(self, permission: Permission) -> None:
        with self._uow(read_only=True) as uow:
            self._require(uow, permission)

    def _last_change(
        self, uow: UnitOfWork, entity: str, entity_id: int, actions: tuple[str, ...]
    ) -> tuple[str, dt.datetime | None]:
        """Who last changed this record, and when, as the audit trail says."""
        found = uow.session.execute(
            select(orm.AuditEvent.actor_name, orm.AuditEvent.at)
            .where(
                orm.AuditEvent.entity == entity,
                orm.AuditEvent.entity_id == str(entity_id),
                orm.AuditEvent.action.in_(actions),
            )
            .order_by(orm.AuditEvent.id.desc())
            .limit(1)
        ).first()
        return (found[0], found[1]) if found is not None else ("", None)

    def _switch_active(
        self,
        uow: UnitOfWork,
        row: orm.ServiceCentre | orm.SpecialistTeam | orm.Category | orm.RequestKind,
        active: bool,
        action: str,
        entity: str,
        details: Mapping[str, object],
    ) -> None:
        """Enable or disable a listed thing: written, audited and committed only if it changes."""
        if row.active == active:
            return
        row.active = active
        self._flush(uow)
        self._audit(uow, f"{action}_{'enabled' if active else 'disabled'}", entity, row.id, details)
        uow.commit()

    def _require(self, uow: UnitOfWork, permission: Permission) -> None:
        actor = self._actor()
        if actor is None:
            return  # the operator, on the owner's connection or the embedded file
        if permission.value not in held_permissions(uow.session, actor.staff_id):
            raise PermissionRefused(
                f"This needs the permission {permission.value!r}, which your role does not have."
            )

    def _refuse_own_admin_loss(
        self,
        uow: UnitOfWork,
        staff: orm.Staff | None,
        role_id: int,
        *,
        new_permissions: set[str] | None = None,
    ) -> None:
        """An admin must not take away their own power to manage roles (nobody could undo it)."""
        actor = self._actor()
        if actor is None:
            return
        me = uow.session.get(orm.Staff, actor.staff_id)
        if me is None:
            return
        if staff is not None and staff.id == me.id:
            keeps = (
                uow.session.get(orm.RolePermission, (role_id, Permission.MANAGE_ROLES.value))
                is not None
            )
        elif staff is None and role_id == me.role_id and new_permissions is not None:
            keeps = Permission.MANAGE_ROLES.value in new_permissions
        else:
            return
        if not keeps:
            raise AdminInputError(
                "You would lose the permission to manage roles yourself; ask another admin.",
                field="permissions",
            )

    def _refuse_supervisor_loop(self, uow: UnitOfWork, staff: orm.Staff, boss: orm.Staff) -> None:
        seen = {staff.id}
        current: orm.Staff | None = boss
        while current is not None:
            if current.id in seen:
                raise AdminInputError(
                    f"{boss.full_name} reports (directly or not) to {staff.full_name}: "
                    "that would make a loop in the chain of command.",
                    field="supervisor",
                )
            seen.add(current.id)
            current = (
                uow.session.get(orm.Staff, current.supervisor_id) if current.supervisor_id else None
            )

    def _known_permissions(self, permissions: Iterable[str]) -> set[str]:
        wanted = {p.strip().lower() for p in permissions if p.strip()}
        unknown = sorted(wanted - ALL_PERMISSIONS)
        if unknown:
            raise AdminInputError(
                f"Unknown permission{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.",
                field="permissions",
            )
        return wanted

    def _check_password(self, username: str, password: str) -> None:
        problems = password_problems(username, password)
        if problems:
            raise AdminInputError(" ".join(problems), field="password")

    # --- lookups and plumbing -----------------------------------------------------------------

    def _role(self, uow: UnitOfWork, name: str) -> orm.Role:
        role = uow.session.scalar(
            select(orm.Role).where(func.lower(orm.Role.name) == name.strip().lower())
        )
        if role is None:
            known = ", ".join(uow.session.scalars(select(orm.Role.name).order_by(orm.Role.rank)))
            raise AdminInputError(f"There is no role {name!r} (there are: {known}).", field="role")
        return role

    def _centre(self, uow: UnitOfWork, code: str, *, lock: bool = False) -> orm.ServiceCentre:
        statement = select(orm.ServiceCentre).where(
            func.lower(orm.ServiceCentre.code) == code.strip().lower()
        )
        centre = uow.session.scalar(statement.with_for_update() if lock else statement)
        if centre is None:
            raise AdminInputError(f"There is no service centre {code!r}.", field="centre")
        return centre

    def _staff_to_change(self, uow: UnitOfWork, username: str, expected_version: int) -> orm.Staff:
        """The account an admin changes, refused when someone else changed it first."""
        self._require(uow, Permission.MANAGE_STAFF)
        row = self._staff(uow, username)
        if row.version != expected_version:
            who, when = self._last_change(uow, "staff", row.id, _STAFF_CHANGES)
            raise ConflictError(
                f"Someone else changed {row.full_name}'s account since you opened it; "
                "look again before changing it.",
                changed_by=who,
                changed_at=when,
            )
        return row

    def _staff(self, uow: UnitOfWork, username: str) -> orm.Staff:
        row = uow.session.scalar(
            select(orm.Staff).where(orm.Staff.username == username.strip().lower())
        )
        if row is None:
            raise NotFound(f"There is no staff member with the user name {username!r}.")
        return row

    def _one_staff(self, username: str) -> StaffInfo:
        return next(s for s in self.staff() if s.username == username.strip().lower())

    def _one_role(self, name: str) -> RoleInfo:
        return next(r for r in self.roles() if r.name.lower() == name.strip().lower())

    def _is_postgres(self, uow: UnitOfWork) -> bool:
        return uow.session.get_bind().dialect.name == "postgresql"

    def _database(self, uow: UnitOfWork) -> str:
        return str(uow.session.scalar(text("SELECT current_database()")))

    def _flush(self, uow: UnitOfWork) -> None:
        try:
            uow.session.flush()
        except StaleDataError as exc:
            raise ConflictError(
                "Someone else changed this since you opened it; look again before changing it."
            ) from exc
        except DBAPIError as exc:
            code = getattr(exc.orig, "sqlstate", None)
            if code == "42501":
                diag = getattr(exc.orig, "diag", None)
                raise PermissionRefused(
                    str(getattr(diag, "message_primary", None) or exc.orig)
                ) from exc
            raise

    def _audit(
        self,
        uow: UnitOfWork,
        action: str,
        entity: str,
        entity_id: int | str,
        details: Mapping[str, object],
    ) -> None:
        actor = self._actor()
        audit.record(
            uow,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            details=details,
            actor_name=None if actor else OPERATOR,
            at=dt.datetime.now(dt.UTC),
        )


def _hash(password: str) -> str:
    from desk.bootstrap import hash_password

    return hash_password(password)


# --- checking what an admin typed about the organisation ---------------------------------------


def _checked_text(
    value: str, *, field: str, label: str, maximum: int, required: bool = False
) -> str:
    """``value`` normalised on one line (runs of spaces made one, so "Billing  team" does not
    pass for a new name); refused when required and empty, or longer than the column."""
    checked = " ".join(normalise_text(value).split())
    if required and not checked:
        raise AdminInputError(f"{label} cannot be empty.", field=field)
    if len(checked) > maximum:
        raise AdminInputError(
            f"{label} is too long: at most {maximum} characters (this has {len(checked)}).",
            field=field,
        )
    return checked


def _checked_email(value: str) -> str:
    email = _checked_text(value, field="email", label="The e-mail address", maximum=200)
    if email and not EMAIL_PATTERN.match(email):
        raise AdminInputError(
            f"{email!r} is not an e-mail address (name@example.org).", field="email"
        )
    return email


def _centre_values(details: CentreDetails) -> dict[str, str]:
    code = details.code.strip().upper()
    if not code:
        raise AdminInputError("Enter the centre's code.", field="code")
    if not CENTRE_CODE_PATTERN.match(code):
        raise AdminInputError(
            "A centre's code has 2 to 20 letters, digits or dashes, for example NTH.",
            field="code",
        )
    phone = _checked_text(details.phone, field="phone", label="The phone number", maximum=40)
    if phone and not PHONE_PATTERN.match(phone):
        raise AdminInputError(
            "A phone number has digits, spaces, brackets or dashes, and may start with +.",
            field="phone",
        )
    return {
        "code": code,
        "name": _checked_text(
            details.name, field="name", label="The centre's name", maximum=200, required=True
        ),
        "address": _checked_text(
            details.address, field="address", label="The address", maximum=500
        ),
        "phone": phone,
        "email": _checked_email(details.email),
        "opening_hours": _checked_text(
            details.opening_hours, field="opening_hours", label="The opening hours", maximum=200
        ),
    }


def _details_of(row: orm.ServiceCentre) -> CentreDetails:
    return CentreDetails(row.code, row.name, row.address, row.phone, row.email, row.opening_hours)


def _centre_info(row: orm.ServiceCentre, active_staff: int) -> CentreInfo:
    return CentreInfo(
        id=row.id,
        code=row.code,
        name=row.name,
        address=row.address,
        phone=row.phone,
        email=row.email,
        opening_hours=row.opening_hours,
        active=row.active,
        active_staff=active_staff,
    )


def _team_values(name: str, email: str) -> dict[str, str]:
    return {
        "name": _checked_text(
            name, field="name", label="The team's name", maximum=100, required=True
        ),
        "email": _checked_email(email),
    }


def _team_info(row: orm.SpecialistTeam) -> TeamInfo:
    return TeamInfo(id=row.id, name=row.name, email=row.email, active=row.active)


def _kind_info(row: orm.RequestKind, pending: int) -> RequestKindInfo:
    return RequestKindInfo(
        id=row.id,
        code=row.code,
        label=row.label,
        grant_permission=row.grant_permission,
        active=row.active,
        pending=pending,
    )


def _siblings_of(parent_id: int | None) -> ColumnElement[bool]:
    if parent_id is None:
        return orm.Category.parent_id.is_(None)
    return orm.Category.parent_id == parent_id


def _tree(rows: Iterable[orm.Category]) -> list[CategoryInfo]:
    """Plain values of the categories, main ones first, each with its subcategories, in the
    order the case form shows them."""
    by_parent: dict[int | None, list[orm.Category]] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)
    for siblings in by_parent.values():
        siblings.sort(key=lambda c: (c.sort_order, c.name, c.id))

    def info(row: orm.Category, position: int) -> CategoryInfo:
        children = by_parent.get(row.id, []) if row.parent_id is None else []
        return CategoryInfo(
            id=row.id,
            name=row.name,
            parent_id=row.parent_id,
            position=position,
            active=row.active,
            subcategories=tuple(info(c, i) for i, c in enumerate(children)),
        )

    return [info(row, i) for i, row in enumerate(by_parent.get(None, []))]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
