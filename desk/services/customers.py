"""Finding and recording customers at the counter."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import cast

from sqlalchemy import Table, or_, select, update

from desk.adapters import orm
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain.authority import Permission
from desk.domain.customer import CustomerDetails, is_masked, mask_identifier
from desk.domain.model import ContactMethod, IdentifierKind
from desk.domain.validation import ValidationError
from desk.services import audit
from desk.services.dto import CustomerSummary, StaffSession
from desk.services.errors import NotFound, PermissionRefused
from desk.services.permissions import held_permissions

_WORD = re.compile(r"\w+")


def stored_identifiers(row: orm.Customer) -> dict[IdentifierKind, str]:
    identifiers: dict[IdentifierKind, str] = {}
    if row.national_id:
        identifiers[IdentifierKind.NATIONAL_ID] = row.national_id
    if row.account_number:
        identifiers[IdentifierKind.ACCOUNT_NUMBER] = row.account_number
    return identifiers


def customer_summary(row: orm.Customer, *, masked: bool = True) -> CustomerSummary:
    """Identifiers are masked unless the caller has revealed them (permission, audited)."""
    identifiers = stored_identifiers(row)
    if masked:
        identifiers = {kind: mask_identifier(value) for kind, value in identifiers.items()}
    return CustomerSummary(
        id=row.id,
        full_name=row.full_name,
        customer_number=row.customer_number or "",
        identifiers=identifiers,
        phone=row.phone,
        email=row.email,
        address=row.address,
        preferred_contact_method=(
            ContactMethod(row.preferred_contact_method) if row.preferred_contact_method else None
        ),
        preferred_language=row.preferred_language,
    )


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class CustomerService:
    def __init__(self, uow: Callable[..., UnitOfWork], actor: Callable[[], StaffSession]) -> None:
        self._uow = uow
        self._actor = actor

    def search(self, text: str, limit: int = 10) -> list[CustomerSummary]:
        """Type-ahead: name (start of any word), customer number, identifier or phone."""
        text = " ".join(text.split())
        if not text:
            return []
        c = orm.Customer
        key = text.casefold()
        conditions = [
            c.name_key.like(_like_prefix(key), escape="\\"),
            c.name_key.like("% " + _like_prefix(key), escape="\\"),
        ]
        compact = text.upper().replace(" ", "")
        if re.fullmatch(r"[A-Z0-9]+", compact):
            conditions.append(c.customer_number.like(_like_prefix(compact), escape="\\"))
            conditions.append(c.national_id.like(_like_prefix(compact), escape="\\"))
            conditions.append(c.account_number.like(_like_prefix(compact), escape="\\"))
        phone = digits_of(text)
        if len(phone) >= 4 and len(phone) >= len(compact) - 2:
            conditions.append(c.phone_digits.like("%" + _like_prefix(phone), escape="\\"))
        # Names that start with what was typed come first. Ordering by that expression also
        # keeps PostgreSQL from walking the whole name index in order and filtering as it goes
        # (hundreds of milliseconds on a large database) instead of using the trigram indexes.
        starts_with_text = c.name_key.like(_like_prefix(key), escape="\\")
        statement = (
            select(c)
            .where(or_(*conditions))
            .order_by(starts_with_text.desc(), c.name_key, c.id)
            .limit(limit)
        )
        with self._uow(read_only=True) as uow:
            return [customer_summary(row) for row in uow.session.scalars(statement)]

    def get(self, customer_id: int) -> CustomerSummary:
        with self._uow(read_only=True) as uow:
            row = uow.session.get(orm.Customer, customer_id)
            if row is None:
                raise NotFound("This customer no longer exists.")
            return customer_summary(row)

    def create(
        self, details: CustomerDetails, *, client_uuid: uuid.UUID | None = None
    ) -> CustomerSummary:
        """Record a customer; sending the same client UUID again records them once."""
        details = details.validate()
        with self._uow() as uow:
            if client_uuid is not None:
                existing = uow.session.scalar(
                    select(orm.Customer).where(orm.Customer.uuid == client_uuid)
                )
                if existing is not None:
                    return customer_summary(existing)
            self._refuse_duplicate_number(uow, details, None)
            row = orm.Customer(created_by_id=self._actor().staff_id)
            if client_uuid is not None:
                row.uuid = client_uuid
            _apply(row, details)
            uow.session.add(row)
            uow.flush()
            audit.record(
                uow,
                actor=self._actor(),
                action="customer.created",
                entity="customer",
                entity_id=row.id,
                details={"name": row.full_name},
            )
            uow.commit()
            return customer_summary(row)

    def reveal(self, customer_id: int, kind: IdentifierKind) -> str:
        """The full identifier, for a person whose role may see it; every reveal is audited."""
        actor = self._actor()
        with self._uow() as uow:
            if Permission.REVEAL_IDENTIFIERS not in held_permissions(uow.session, actor.staff_id):
                raise PermissionRefused(
                    "Your role may not reveal personal identifiers; ask a supervisor."
                )
            row = uow.session.get(orm.Customer, customer_id)
            if row is None:
                raise NotFound("This customer no longer exists.")
            value = stored_identifiers(row).get(kind, "")
            audit.record(
                uow,
                actor=actor,
                action="identifier_revealed",
                entity="customer",
                entity_id=row.id,
                details={"identifier": kind.value},
            )
            uow.commit()
            return value

    def update(self, customer_id: int, details: CustomerDetails) -> CustomerSummary:
        with self._uow() as uow:
            row = uow.session.get(orm.Customer, customer_id)
            if row is None:
                raise NotFound("This customer no longer exists.")
            details = _unmasked(details, row).validate()
            self._refuse_duplicate_number(uow, details, customer_id)
            changed = _changed_fields(row, details)
            _apply(row, details)
            _refresh_case_search_text(uow, row)
            if changed:
                audit.record(
                    uow,
                    actor=self._actor(),
                    action="customer.changed",
                    entity="customer",
                    entity_id=row.id,
                    details={"fields": changed},
                )
            uow.commit()
            return customer_summary(row)

    @staticmethod
    def _refuse_duplicate_number(
        uow: UnitOfWork, details: CustomerDetails, own_id: int | None
    ) -> None:
        if not details.customer_number:
            return
        other = uow.session.scalar(
            select(orm.Customer).where(orm.Customer.customer_number == details.customer_number)
        )
        if other is not None and other.id != own_id:
            raise ValidationError(
                {
                    "customer_number": f"Customer number {details.customer_number} already "
                    f"belongs to {other.full_name}. Find that customer instead."
                }
            )


def _changed_fields(row: orm.Customer, details: CustomerDetails) -> list[str]:
    """Which details an edit changes (names only: the values are personal data)."""
    before = customer_summary(row, masked=False)
    pairs = {
        "name": (before.full_name, details.full_name),
        "customer number": (before.customer_number, details.customer_number),
        "identifiers": (before.identifiers, details.identifiers),
        "phone": (before.phone, details.phone),
        "email": (before.email, details.email),
        "address": (before.address, details.address),
        "preferred contact": (before.preferred_contact_method, details.preferred_contact_method),
        "language": (before.preferred_language, details.preferred_language),
    }
    return [name for name, (old, new) in pairs.items() if old != new]


def _unmasked(details: CustomerDetails, row: orm.Customer) -> CustomerDetails:
    """An edit form shows identifiers masked: an unchanged masked value keeps the stored one."""
    stored = stored_identifiers(row)
    identifiers = {
        kind: stored.get(kind, "") if is_masked(value) else value
        for kind, value in details.identifiers.items()
    }
    return replace(details, identifiers=identifiers)


def _apply(row: orm.Customer, details: CustomerDetails) -> None:
    row.full_name = details.full_name
    row.name_key = details.full_name.casefold()
    row.customer_number = details.customer_number or None
    row.national_id = details.identifiers.get(IdentifierKind.NATIONAL_ID) or None
    row.account_number = details.identifiers.get(IdentifierKind.ACCOUNT_NUMBER) or None
    row.phone = details.phone
    row.phone_digits = digits_of(details.phone)
    row.email = details.email
    row.address = details.address
    row.preferred_contact_method = (
        details.preferred_contact_method.value if details.preferred_contact_method else None
    )
    row.preferred_language = details.preferred_language


def _refresh_case_search_text(uow: UnitOfWork, customer: orm.Customer) -> None:
    from desk.services.cases import case_search_text

    uow.session.flush()
    cases = uow.session.scalars(select(orm.Case).where(orm.Case.customer_id == customer.id)).all()
    # A plain UPDATE, not the ORM's: the cases' own content did not change, so their versions
    # must not move (an officer with one of them open would otherwise hit a false conflict).
    table = cast(Table, orm.Case.__table__)
    for case in cases:
        uow.session.execute(
            update(table)
            .where(table.c.id == case.id)
            .values(search_text=case_search_text(case, customer))
        )
    uow.session.expire_all()
