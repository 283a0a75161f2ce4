from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.domain.model import CaseStatus
from desk.domain.workflow import (
    ALLOWED_TRANSITIONS,
    TransitionRefused,
    check_transition,
    is_reopen,
)


def test_every_status_has_a_way_onward() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(CaseStatus)
    for status, targets in ALLOWED_TRANSITIONS.items():
        assert targets, status
        assert status not in targets


def test_closed_case_can_only_be_reopened() -> None:
    assert ALLOWED_TRANSITIONS[CaseStatus.CLOSED] == {CaseStatus.IN_PROGRESS}
    assert is_reopen(CaseStatus.CLOSED, CaseStatus.IN_PROGRESS)


def test_new_case_cannot_jump_to_closed_and_the_message_lists_the_way() -> None:
    with pytest.raises(TransitionRefused) as refused:
        check_transition(CaseStatus.NEW, CaseStatus.CLOSED, has_resolution=True)
    assert "cannot move to closed" in str(refused.value)
    assert "In progress" in str(refused.value)


def test_resolving_needs_a_resolution() -> None:
    with pytest.raises(TransitionRefused, match="resolution"):
        check_transition(CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, has_resolution=False)
    check_transition(CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, has_resolution=True)


@given(st.sampled_from(CaseStatus), st.sampled_from(CaseStatus))
def test_a_move_is_refused_exactly_when_the_table_does_not_list_it(
    current: CaseStatus, target: CaseStatus
) -> None:
    allowed = current == target or target in ALLOWED_TRANSITIONS[current]
    try:
        check_transition(current, target, has_resolution=True)
    except TransitionRefused:
        assert not allowed
    else:
        assert allowed


def test_every_status_can_reach_closed() -> None:
    for start in CaseStatus:
        seen, frontier = {start}, [start]
        while frontier:
            for nxt in ALLOWED_TRANSITIONS[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert CaseStatus.CLOSED in seen, start
