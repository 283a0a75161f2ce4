"""Reference data every screen needs: categories, teams, centres, the organisation's currency."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from desk.adapters import orm
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain.money import DEFAULT_CURRENCY, Currency
from desk.domain.wording import NEXT_STEP_TEMPLATES
from desk.services.dto import Option, ReferenceData


def read_settings(uow: UnitOfWork) -> dict[str, str]:
    return {row.key: row.value for row in uow.session.scalars(select(orm.Setting))}


def currency_from(settings: dict[str, str]) -> Currency:
    try:
        return Currency(
            code=settings["currency_code"],
            symbol=settings.get("currency_symbol", ""),
            decimals=int(settings.get("currency_decimals", "2")),
        )
    except (KeyError, ValueError):
        return DEFAULT_CURRENCY


class ReferenceService:
    def __init__(self, uow: Callable[..., UnitOfWork]) -> None:
        self._uow = uow

    def load(self) -> ReferenceData:
        with self._uow(read_only=True) as uow:
            settings = read_settings(uow)
            categories = uow.session.scalars(
                select(orm.Category)
                .where(orm.Category.active.is_(True))
                .order_by(orm.Category.sort_order, orm.Category.name)
            ).all()
            teams = uow.session.scalars(
                select(orm.SpecialistTeam)
                .where(orm.SpecialistTeam.active.is_(True))
                .order_by(orm.SpecialistTeam.name)
            ).all()
            centres = uow.session.scalars(
                select(orm.ServiceCentre)
                .where(orm.ServiceCentre.active.is_(True))
                .order_by(orm.ServiceCentre.name)
            ).all()
            return ReferenceData(
                categories=[Option(c.id, c.name) for c in categories if c.parent_id is None],
                subcategories=[
                    Option(c.id, c.name, c.parent_id) for c in categories if c.parent_id is not None
                ],
                teams=[Option(t.id, t.name) for t in teams],
                centres=[Option(c.id, c.name) for c in centres],
                organisation_name=settings.get("organisation_name", "Desk"),
                currency=currency_from(settings),
                next_step_templates=list(NEXT_STEP_TEMPLATES),
            )

    def currency(self) -> Currency:
        with self._uow() as uow:
            return currency_from(read_settings(uow))
