"""Organisation-wide settings kept in the database's ``settings`` table, typed and validated.

The table stores text (one row per key); each setting here is read as a typed value and written
only after validation, so a refused value never reaches the table. A stored value that cannot be
read (someone edited the table by hand) falls back to the default with a warning in the log, so
that a typo never stops anyone from logging in. Every change leaves an entry in the audit trail.

On the shared PostgreSQL database the staff login roles may read the table but not write it: only
the database owner (and later the admin console's privileged functions) can change a setting.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from desk.adapters import orm
from desk.adapters.unit_of_work import UnitOfWork
from desk.domain.validation import ValidationError
from desk.services import audit
from desk.services.dto import StaffSession

log = logging.getLogger(__name__)

UnitOfWorkFactory = Callable[..., UnitOfWork]

_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class WholeNumberSetting:
    """A setting that holds a whole number within ``minimum``..``maximum``."""

    key: str
    label: str  # what the person changing it calls it, for messages
    unit: str
    default: int
    minimum: int
    maximum: int
    meaning_of_zero: str = ""  # "never lock": said in the message when 0 is allowed

    def problem(self, value: object) -> str:
        zero = f" ({self.minimum} {self.meaning_of_zero})" if self.meaning_of_zero else ""
        return (
            f"{self.label} must be a whole number of {self.unit} from {self.minimum}{zero} to "
            f"{self.maximum}; {_shown(value)} is not."
        )

    def parse(self, value: object) -> int:
        """The value as a number, or ValidationError (keyed by the setting) saying what to give."""
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
            number = int(value.strip())
        if number is None or not self.minimum <= number <= self.maximum:
            raise ValidationError({self.key: self.problem(value)})
        return number


IDLE_LOCK_MINUTES = WholeNumberSetting(
    key="idle_lock_minutes",
    label="The idle lock",
    unit="minutes",
    default=5,
    minimum=0,
    maximum=240,
    meaning_of_zero="never locks",
)


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    if len(text) > 40:
        text = text[:37] + "…"
    return f"“{text}”"


# --- reading and writing any whole-number setting -----------------------------------------------


def read_whole_number(uow: UnitOfWork, setting: WholeNumberSetting) -> int:
    """The stored value; the default when there is none or it cannot be read."""
    row = uow.session.get(orm.Setting, setting.key)
    if row is None:
        return setting.default
    try:
        return setting.parse(row.value)
    except ValidationError:
        log.warning(
            "The setting %s holds %r, which is not usable; using the default %s instead.",
            setting.key,
            row.value[:100],
            setting.default,
        )
        return setting.default


def write_whole_number(
    uow: UnitOfWork, setting: WholeNumberSetting, value: object, *, actor: StaffSession | None
) -> int:
    """Validate and store the value, with an audit entry (nothing is written when it is refused
    or unchanged). The caller commits."""
    number = setting.parse(value)
    row = uow.session.get(orm.Setting, setting.key)
    previous = row.value if row is not None else None
    if previous == str(number):
        return number
    if row is None:
        uow.session.add(orm.Setting(key=setting.key, value=str(number)))
    else:
        row.value = str(number)
    audit.record(
        uow,
        actor=actor,
        action="setting.changed",
        entity="setting",
        entity_id=setting.key,
        details={"from": previous, "to": str(number)},
    )
    return number


# --- the settings, one function per thing a person does ----------------------------------------


def idle_lock_minutes(uow: UnitOfWorkFactory) -> int:
    """After how many minutes without input the window locks (0: never)."""
    with uow(read_only=True) as work:
        return read_whole_number(work, IDLE_LOCK_MINUTES)


def set_idle_lock_minutes(
    uow: UnitOfWorkFactory, minutes: int | str, *, actor: StaffSession | None
) -> int:
    """Change the idle lock for the whole organisation; takes effect at each person's next login.
    Raises ValidationError for anything but whole minutes from 0 to 240."""
    IDLE_LOCK_MINUTES.parse(minutes)  # refuse before opening a transaction
    with uow() as work:
        number = write_whole_number(work, IDLE_LOCK_MINUTES, minutes, actor=actor)
        work.commit()
        return number
