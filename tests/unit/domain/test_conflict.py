"""Two officers saved the same case: every change is classified, and the merge keeps each side's
edits where the other did not touch the field."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.domain.case import CaseDetails, TransactionReference
from desk.domain.conflict import (
    FIELD_KEYS,
    FIELDS,
    CaseContent,
    Change,
    Conflict,
    Side,
    field_value,
)
from desk.domain.model import CaseKind, CaseStatus, Channel, Priority, ResolutionMethod
from desk.domain.scripts import Mood

_text = st.text(alphabet="abc xyz.", max_size=12)
_transactions = st.lists(
    st.builds(
        TransactionReference,
        reference=st.sampled_from(["BILL-1", "ACC-22", "PAY/3"]),
        amount_minor=st.none() | st.integers(0, 10_000),
        occurred_on=st.none() | st.dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
    ),
    max_size=2,
).map(tuple)

# One strategy per field of the form, producing that field's value(s).
_FIELD_VALUES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "customer": st.integers(1, 4).map(lambda v: {"customer_id": v}),
    "kind": st.sampled_from(CaseKind).map(lambda v: {"kind": v}),
    "channel": st.sampled_from(Channel).map(lambda v: {"channel": v}),
    "priority": st.sampled_from(Priority).map(lambda v: {"priority": v}),
    "category": st.tuples(st.none() | st.integers(1, 3), st.none() | st.integers(1, 3)).map(
        lambda v: {"category_id": v[0], "subcategory_id": v[1]}
    ),
    "social_platform": _text.map(lambda v: {"social_platform": v}),
    "social_handle": _text.map(lambda v: {"social_handle": v}),
    "social_post_url": _text.map(lambda v: {"social_post_url": v}),
    "mood": (st.none() | st.sampled_from(Mood)).map(lambda v: {"mood": v}),
    "customer_words": _text.map(lambda v: {"customer_words": v}),
    "customer_expectation": _text.map(lambda v: {"customer_expectation": v}),
    "officer_understanding": _text.map(lambda v: {"officer_understanding": v}),
    "transactions": _transactions.map(lambda v: {"transactions": v}),
    "customer_confirmed": st.booleans().map(lambda v: {"customer_confirmed": v}),
    "next_steps": _text.map(lambda v: {"next_steps": v}),
    "customer_comfortable": (st.none() | st.booleans()).map(lambda v: {"customer_comfortable": v}),
    "actions_agreed": _text.map(lambda v: {"actions_agreed": v}),
    "resolution": _text.map(lambda v: {"resolution": v}),
    "resolution_method": (st.none() | st.sampled_from(ResolutionMethod)).map(
        lambda v: {"resolution_method": v}
    ),
    "root_cause": _text.map(lambda v: {"root_cause": v}),
    "status": st.sampled_from(CaseStatus).map(lambda v: {"status": v}),
}


def _apply(content: CaseContent, values: dict[str, Any]) -> CaseContent:
    top = {k: v for k, v in values.items() if k in ("mood", "status")}
    details = {k: v for k, v in values.items() if k not in top}
    return replace(content, details=replace(content.details, **details), **top)


@st.composite
def contents(draw: st.DrawFn) -> CaseContent:
    """A whole case: every field drawn."""
    content = CaseContent(CaseDetails(customer_id=1), status=CaseStatus.NEW)
    for key in FIELD_KEYS:
        content = _apply(content, draw(_FIELD_VALUES[key]))
    return content


@st.composite
def edits(draw: st.DrawFn, base: CaseContent, keys: list[str]) -> CaseContent:
    """The base with a new value drawn for each of ``keys`` (it may happen to be the same)."""
    edited = base
    for key in keys:
        edited = _apply(edited, draw(_FIELD_VALUES[key]))
    return edited


@st.composite
def disjoint_edits(draw: st.DrawFn) -> tuple[CaseContent, CaseContent, CaseContent]:
    """A base, and two edits of it that touch no field in common."""
    base = draw(contents())
    keys = draw(st.permutations(FIELD_KEYS))
    split = draw(st.integers(0, len(keys)))
    mine_keys = draw(st.lists(st.sampled_from(keys[:split]), unique=True)) if split else []
    their_keys = (
        draw(st.lists(st.sampled_from(keys[split:]), unique=True)) if split < len(keys) else []
    )
    return base, draw(edits(base, mine_keys)), draw(edits(base, their_keys))


@st.composite
def three_versions(draw: st.DrawFn) -> tuple[CaseContent, CaseContent, CaseContent]:
    """A base and two edits of it that may touch the same fields."""
    base = draw(contents())
    mine = draw(edits(base, draw(st.lists(st.sampled_from(FIELD_KEYS), unique=True))))
    theirs = draw(edits(base, draw(st.lists(st.sampled_from(FIELD_KEYS), unique=True))))
    return base, mine, theirs


def test_every_attribute_of_a_case_belongs_to_a_field_of_the_comparison() -> None:
    covered = {a.removeprefix("details.") for spec in FIELDS for a in spec.attributes}
    assert set(CaseDetails.__dataclass_fields__) <= covered
    assert {"mood", "status"} <= covered
    assert set(_FIELD_VALUES) == set(FIELD_KEYS)


@given(disjoint_edits())
def test_merging_edits_of_different_fields_loses_neither_sides_change(
    versions: tuple[CaseContent, CaseContent, CaseContent],
) -> None:
    base, mine, theirs = versions
    conflict = Conflict.between(base, mine, theirs)
    assert not conflict.conflicting
    merged = conflict.merged()
    for key in FIELD_KEYS:
        before = field_value(base, key)
        if field_value(mine, key) != before:
            assert field_value(merged, key) == field_value(mine, key), key
        elif field_value(theirs, key) != before:
            assert field_value(merged, key) == field_value(theirs, key), key
        else:
            assert field_value(merged, key) == before, key


@given(three_versions())
def test_choosing_theirs_everywhere_gives_theirs(
    versions: tuple[CaseContent, CaseContent, CaseContent],
) -> None:
    base, mine, theirs = versions
    conflict = Conflict.between(base, mine, theirs)
    assert conflict.merged(conflict.all(Side.THEIRS)) == theirs


@given(three_versions())
def test_keeping_mine_everywhere_gives_mine(
    versions: tuple[CaseContent, CaseContent, CaseContent],
) -> None:
    base, mine, theirs = versions
    conflict = Conflict.between(base, mine, theirs)
    assert conflict.merged(conflict.all(Side.MINE)) == mine


@given(three_versions())
def test_identical_edits_are_not_conflicts_and_need_no_choice(
    versions: tuple[CaseContent, CaseContent, CaseContent],
) -> None:
    base, mine, _theirs = versions
    conflict = Conflict.between(base, mine, mine)
    assert not conflict.conflicting
    assert conflict.to_decide == ()
    assert all(d.change is Change.SAME for d in conflict.differences)
    assert conflict.merged() == mine


@given(three_versions())
def test_each_field_is_classified_by_who_changed_it_since_the_base(
    versions: tuple[CaseContent, CaseContent, CaseContent],
) -> None:
    base, mine, theirs = versions
    conflict = Conflict.between(base, mine, theirs)
    listed = {d.key: d for d in conflict.differences}
    for key in FIELD_KEYS:
        b, m, t = field_value(base, key), field_value(mine, key), field_value(theirs, key)
        if m == b and t == b:
            assert key not in listed
            continue
        expected = (
            Change.SAME
            if m == t
            else Change.THEIRS
            if m == b
            else Change.MINE
            if t == b
            else Change.BOTH
        )
        assert listed[key].change is expected, key
        assert listed[key].proposed is (Side.THEIRS if expected is Change.THEIRS else Side.MINE)


@given(three_versions())
def test_fields_both_changed_differently_are_listed_first_and_proposed_as_mine(
    versions: tuple[CaseContent, CaseContent, CaseContent],
) -> None:
    base, mine, theirs = versions
    conflict = Conflict.between(base, mine, theirs)
    rows = conflict.to_decide
    flags = [row.conflicting for row in rows]
    assert flags == sorted(flags, reverse=True)
    for row in rows:
        assert row.mine != row.theirs
    merged = conflict.merged()
    for row in conflict.conflicting:
        assert field_value(merged, row.key) == row.mine


@given(three_versions(), st.data())
def test_a_mix_of_choices_takes_each_field_from_the_chosen_side(
    versions: tuple[CaseContent, CaseContent, CaseContent], data: st.DataObject
) -> None:
    base, mine, theirs = versions
    conflict = Conflict.between(base, mine, theirs)
    choices = {
        row.key: data.draw(st.sampled_from(Side), label=row.key) for row in conflict.to_decide
    }
    merged = conflict.merged(choices)
    for key in FIELD_KEYS:
        side = choices.get(key)
        expected = field_value(mine if side is Side.MINE else theirs, key)
        assert field_value(merged, key) == expected, key


@given(three_versions())
def test_without_a_base_every_difference_is_for_the_officer_to_decide(
    versions: tuple[CaseContent, CaseContent, CaseContent],
) -> None:
    _base, mine, theirs = versions
    conflict = Conflict.between(None, mine, theirs)
    assert all(d.change is Change.BOTH for d in conflict.differences)
    assert {d.key for d in conflict.differences} == {
        k for k in FIELD_KEYS if field_value(mine, k) != field_value(theirs, k)
    }
    assert conflict.merged() == mine


def test_category_and_subcategory_travel_together() -> None:
    base = CaseDetails(customer_id=1, category_id=1, subcategory_id=10)
    mine = replace(base, subcategory_id=11)
    theirs = replace(base, category_id=2, subcategory_id=20)
    conflict = Conflict.between(base, mine, theirs)
    [row] = conflict.differences
    assert row.key == "category" and row.change is Change.BOTH
    assert row.mine == (1, 11) and row.theirs == (2, 20)
    merged = conflict.merged({"category": Side.THEIRS}).details
    assert (merged.category_id, merged.subcategory_id) == (2, 20)


def test_plain_case_details_are_compared_without_mood_or_status() -> None:
    base = CaseDetails(customer_id=1, customer_words="a", next_steps="b")
    mine = replace(base, customer_words="mine")
    theirs = replace(base, next_steps="theirs", customer_id=2)
    conflict = Conflict.between(base, mine, theirs)
    assert [(d.key, d.change) for d in conflict.to_decide] == [
        ("customer", Change.THEIRS),
        ("customer_words", Change.MINE),
        ("next_steps", Change.THEIRS),
    ]
    merged = conflict.merged().details
    assert (merged.customer_id, merged.customer_words, merged.next_steps) == (2, "mine", "theirs")


def test_a_status_missing_on_one_side_is_left_out_of_the_comparison() -> None:
    details = CaseDetails(customer_id=1)
    conflict = Conflict.between(
        CaseContent(details, status=CaseStatus.NEW),
        CaseContent(details, status=None),
        CaseContent(details, status=CaseStatus.IN_PROGRESS),
    )
    assert conflict.differences == ()


def test_an_unknown_field_in_the_choices_is_refused() -> None:
    details = CaseDetails(customer_id=1)
    with pytest.raises(ValueError, match="unknown"):
        Conflict.between(details, details, details).merged({"colour": Side.MINE})
