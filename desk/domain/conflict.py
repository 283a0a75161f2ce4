"""Two officers saved the same case: what each changed, and the merge the officer decides on.

Three versions of a case meet here: the *base* (the stored version the officer's edits started
from), *mine* (what the form holds now) and *theirs* (what a colleague saved in between). Each
field that differs is classified by who changed it since the base; a merge is proposed (theirs
where only they changed it, mine otherwise) and rebuilt from the officer's choices. Nothing is
decided silently: a field both changed differently is flagged, and the officer confirms it.

When the base is not known (a draft restored after a restart keeps only the version number),
every field where mine and theirs differ counts as changed by both: the officer decides each.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from desk.domain.case import CaseDetails
from desk.domain.model import CaseStatus
from desk.domain.scripts import Mood


class Change(enum.StrEnum):
    """Who changed a field since the base version."""

    MINE = "mine"  # only me
    THEIRS = "theirs"  # only them
    SAME = "same"  # both of us, to the same value
    BOTH = "both"  # both of us, differently: the officer must decide


class Side(enum.StrEnum):
    """Whose value of a field goes into the merged case."""

    MINE = "mine"
    THEIRS = "theirs"

    @property
    def other(self) -> Side:
        return Side.THEIRS if self is Side.MINE else Side.MINE


@dataclass(frozen=True)
class CaseContent:
    """What one save of the form writes: the details (customer included), the customer's mood,
    and the status (None: the status is not part of the comparison)."""

    details: CaseDetails
    mood: Mood | None = None
    status: CaseStatus | None = None


@dataclass(frozen=True)
class FieldSpec:
    """One field as the officer knows it (its form label), and the attributes it covers."""

    key: str
    label: str
    attributes: tuple[str, ...]  # attributes of CaseContent ("details.x" or "mood"/"status")


def _details(*names: str) -> tuple[str, ...]:
    return tuple(f"details.{name}" for name in names)


# In the order of the form. A subcategory belongs to its category, so the two travel together:
# merging one officer's category with the other's subcategory could pair them wrongly.
FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("customer", "Customer", _details("customer_id")),
    FieldSpec("kind", "Kind", _details("kind")),
    FieldSpec("channel", "Channel", _details("channel")),
    FieldSpec("priority", "Priority", _details("priority")),
    FieldSpec("category", "Category", _details("category_id", "subcategory_id")),
    FieldSpec("social_platform", "Platform", _details("social_platform")),
    FieldSpec("social_handle", "Handle", _details("social_handle")),
    FieldSpec("social_post_url", "Link to the post", _details("social_post_url")),
    FieldSpec("mood", "Customer's mood", ("mood",)),
    FieldSpec("customer_words", "The customer's own words", _details("customer_words")),
    FieldSpec("customer_expectation", "What they expect", _details("customer_expectation")),
    FieldSpec("officer_understanding", "Your understanding", _details("officer_understanding")),
    FieldSpec("transactions", "Transactions", _details("transactions")),
    FieldSpec(
        "customer_confirmed", "The customer agreed with the summary", _details("customer_confirmed")
    ),
    FieldSpec("next_steps", "Next steps", _details("next_steps")),
    FieldSpec(
        "customer_comfortable",
        "Customer is comfortable with the next steps",
        _details("customer_comfortable"),
    ),
    FieldSpec("actions_agreed", "Actions agreed", _details("actions_agreed")),
    FieldSpec("resolution", "Resolution", _details("resolution")),
    FieldSpec("resolution_method", "How resolved", _details("resolution_method")),
    FieldSpec("root_cause", "Root cause", _details("root_cause")),
    FieldSpec("status", "Status", ("status",)),
)
FIELD_KEYS: tuple[str, ...] = tuple(spec.key for spec in FIELDS)
_SPECS: dict[str, FieldSpec] = {spec.key: spec for spec in FIELDS}


def _covered() -> set[str]:
    return {a.removeprefix("details.") for spec in FIELDS for a in spec.attributes}


# Every attribute of CaseDetails is compared: a new one added without a field here is caught
# at import (and by the tests), never silently dropped from a merge.
_MISSING = set(CaseDetails.__dataclass_fields__) - _covered()
if _MISSING:  # pragma: no cover - a programming error, caught by the first test run
    raise RuntimeError(f"conflict.FIELDS does not cover {sorted(_MISSING)}")


def _as_content(value: CaseContent | CaseDetails) -> CaseContent:
    return value if isinstance(value, CaseContent) else CaseContent(value)


def field_value(content: CaseContent | CaseDetails, key: str) -> Any:
    """The value of a field: one attribute's value, or a tuple when the field covers several."""
    content = _as_content(content)
    values = []
    for attribute in _SPECS[key].attributes:
        if attribute.startswith("details."):
            values.append(getattr(content.details, attribute.removeprefix("details.")))
        else:
            values.append(getattr(content, attribute))
    return values[0] if len(values) == 1 else tuple(values)


@dataclass(frozen=True)
class FieldDifference:
    """A field changed since the base by me, by them or by both."""

    key: str
    label: str
    base: Any  # None also when the base is not known
    mine: Any
    theirs: Any
    change: Change

    @property
    def conflicting(self) -> bool:
        """Both changed it, differently: the officer's decision is needed."""
        return self.change is Change.BOTH

    @property
    def needs_choice(self) -> bool:
        """Mine and theirs differ, so the merge takes one of them (SAME needs no choice)."""
        return self.change is not Change.SAME

    @property
    def proposed(self) -> Side:
        """Theirs where only they changed it; mine where I did (flagged when both did)."""
        return Side.THEIRS if self.change is Change.THEIRS else Side.MINE


def _classify(base: Any, mine: Any, theirs: Any, *, base_known: bool) -> Change | None:
    if mine == theirs:
        if not base_known or mine == base:
            return None
        return Change.SAME
    if not base_known:
        return Change.BOTH
    if mine == base:
        return Change.THEIRS
    if theirs == base:
        return Change.MINE
    return Change.BOTH


@dataclass(frozen=True)
class Conflict:
    """The three versions and every field that differs between them."""

    base: CaseContent | None
    mine: CaseContent
    theirs: CaseContent
    differences: tuple[FieldDifference, ...]

    @classmethod
    def between(
        cls,
        base: CaseContent | CaseDetails | None,
        mine: CaseContent | CaseDetails,
        theirs: CaseContent | CaseDetails,
    ) -> Conflict:
        """Compare the three versions. Fields whose status is None on any side are left out
        of the status comparison (the status was not part of what is saved)."""
        base_c = _as_content(base) if base is not None else None
        mine_c, theirs_c = _as_content(mine), _as_content(theirs)
        differences: list[FieldDifference] = []
        for spec in FIELDS:
            if spec.key == "status" and (
                mine_c.status is None
                or theirs_c.status is None
                or (base_c is not None and base_c.status is None)
            ):
                continue
            base_v = field_value(base_c, spec.key) if base_c is not None else None
            mine_v, theirs_v = field_value(mine_c, spec.key), field_value(theirs_c, spec.key)
            change = _classify(base_v, mine_v, theirs_v, base_known=base_c is not None)
            if change is not None:
                differences.append(
                    FieldDifference(spec.key, spec.label, base_v, mine_v, theirs_v, change)
                )
        return cls(base_c, mine_c, theirs_c, tuple(differences))

    @property
    def to_decide(self) -> tuple[FieldDifference, ...]:
        """The fields where mine and theirs differ: those both changed differently first,
        then the rest in the order of the form."""
        rows = [d for d in self.differences if d.needs_choice]
        return tuple(sorted(rows, key=lambda d: (not d.conflicting, FIELD_KEYS.index(d.key))))

    @property
    def conflicting(self) -> tuple[FieldDifference, ...]:
        return tuple(d for d in self.differences if d.conflicting)

    def proposal(self) -> dict[str, Side]:
        """The proposed choice for each field to decide."""
        return {d.key: d.proposed for d in self.to_decide}

    def all(self, side: Side) -> dict[str, Side]:
        """The same choice for every field to decide ("take all theirs", "keep all mine")."""
        return {d.key: side for d in self.to_decide}

    def merged(self, choices: Mapping[str, Side] | None = None) -> CaseContent:
        """The case to save: theirs, with my value wherever the choice (or, for a field not
        in ``choices``, the proposal) is mine. Fields nobody changed are the same on both."""
        unknown = set(choices or {}) - set(FIELD_KEYS)
        if unknown:
            raise ValueError(f"unknown fields: {sorted(unknown)}")
        chosen = self.proposal()
        chosen.update({k: Side(v) for k, v in (choices or {}).items() if k in chosen})
        details_changes: dict[str, Any] = {}
        content_changes: dict[str, Any] = {}
        for key, side in chosen.items():
            if side is not Side.MINE:
                continue
            for attribute in _SPECS[key].attributes:
                if attribute.startswith("details."):
                    name = attribute.removeprefix("details.")
                    details_changes[name] = getattr(self.mine.details, name)
                else:
                    content_changes[attribute] = getattr(self.mine, attribute)
        return replace(
            self.theirs,
            details=replace(self.theirs.details, **details_changes),
            **content_changes,
        )


def label_of(key: str) -> str:
    """The form's label of a field (English; the window translates it)."""
    return _SPECS[key].label
