"""The safety-incident closing rule: a case on which a safety incident happened (a guided-script run
with a safety alert, or one that ended in a safety incident) cannot be resolved or closed until the
incident has been reported. Pure: the services and the case form both ask it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from desk.domain.model import CaseStatus
from desk.domain.validation import LONG_TEXT_MAX, Checker, normalise_text
from desk.domain.workflow import TransitionRefused

K = TypeVar("K", bound=Hashable)

CLOSING_STATUSES: frozenset[CaseStatus] = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED})


@dataclass(frozen=True)
class RunSafety:
    """What the rule needs to know of one run of a case."""

    incident: bool
    reported: bool = False

    @property
    def needs_report(self) -> bool:
        return self.incident and not self.reported


class IncidentNotReported(TransitionRefused):
    """Resolving or closing refused: a safety incident of the case has not been reported."""


def combined(stored: Mapping[K, RunSafety], adding: Mapping[K, bool]) -> list[RunSafety]:
    """The stored runs of a case with runs about to be stored laid over them (by run id, the
    value saying whether the new state is an incident): a run stored earlier keeps its report,
    and a run that was an incident stays one."""
    runs = dict(stored)
    for key, incident in adding.items():
        before = runs.get(key, RunSafety(False))
        runs[key] = RunSafety(before.incident or incident, before.reported)
    return list(runs.values())


def unreported(runs: Iterable[RunSafety]) -> int:
    """How many runs of the case hold a safety incident that still needs its report."""
    return sum(1 for run in runs if run.needs_report)


def may_close(target: CaseStatus, runs: Iterable[RunSafety]) -> bool:
    """False when moving to ``target`` would resolve or close a case with an unreported
    safety incident."""
    return target not in CLOSING_STATUSES or unreported(runs) == 0


def refusal_message(count: int) -> str:
    what = "A safety incident" if count == 1 else f"{count} safety incidents"
    verb = "has" if count == 1 else "have"
    return (
        f"{what} on this case {verb} not been reported yet. Write the incident report "
        "(Report the incident…) before resolving or closing the case."
    )


def check_may_close(
    current: CaseStatus | None, target: CaseStatus, runs: Iterable[RunSafety]
) -> None:
    """Raise IncidentNotReported when the move resolves or closes a case whose safety incident
    is not reported. ``current`` is None for a case being recorded. Staying where it is (a case
    already resolved when an incident was recorded on it) is never refused."""
    if target == current:
        return
    runs = list(runs)
    if not may_close(target, runs):
        raise IncidentNotReported(refusal_message(unreported(runs)))


def check_report(text: str) -> str:
    """The incident report as it is kept, or ValidationError naming the field."""
    text = normalise_text(text)
    check = Checker()
    if not text:
        check.add("incident_report", "Write what happened before saving the incident report.")
    check.max_length("incident_report", text, LONG_TEXT_MAX, "The incident report")
    check.raise_if_any()
    return text
