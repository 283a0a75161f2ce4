"""The leave rule: when leave with a deputy may be set, and who decides in an absent person's
place."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.domain.leave import MAX_LEAVE_DAYS, Presence, covered_by, leave_problems, stand_in

TODAY = dt.date(2026, 3, 2)
DAY = dt.timedelta(days=1)

SUPERVISOR = Presence(1, "Sam Supervisor")
MANAGER = Presence(2, "Mia Manager")


def away(person: Presence, first: dt.date, last: dt.date, deputy: int | None) -> Presence:
    return Presence(
        person.id,
        person.name,
        person.active,
        person.may_decide,
        away_from=first,
        away_until=last,
        deputy_id=deputy,
    )


def people(*persons: Presence) -> dict[int, Presence]:
    return {p.id: p for p in persons}


# --- setting leave --------------------------------------------------------------------------------


def test_leave_with_dates_in_order_and_a_deputy_at_work_is_accepted() -> None:
    assert leave_problems(SUPERVISOR, TODAY, TODAY + 9 * DAY, MANAGER, today=TODAY) == {}


def test_leave_of_one_day_today_is_accepted() -> None:
    assert leave_problems(SUPERVISOR, TODAY, TODAY, MANAGER, today=TODAY) == {}


def test_leave_that_began_earlier_and_ends_today_is_accepted() -> None:
    assert leave_problems(SUPERVISOR, TODAY - 5 * DAY, TODAY, MANAGER, today=TODAY) == {}


def test_no_dates_clears_the_leave_without_a_deputy() -> None:
    assert leave_problems(SUPERVISOR, None, None, None, today=TODAY) == {}
    assert leave_problems(SUPERVISOR, None, None, SUPERVISOR, today=TODAY) == {}


def test_leave_without_a_first_day_is_refused() -> None:
    assert leave_problems(SUPERVISOR, None, TODAY, MANAGER, today=TODAY) == {
        "away_from": "Enter the first day of the leave."
    }


def test_leave_without_a_last_day_is_refused() -> None:
    assert leave_problems(SUPERVISOR, TODAY, None, MANAGER, today=TODAY) == {
        "away_until": "Enter the last day of the leave."
    }


def test_leave_whose_last_day_is_before_its_first_is_refused() -> None:
    assert leave_problems(SUPERVISOR, TODAY + 3 * DAY, TODAY + DAY, MANAGER, today=TODAY) == {
        "away_until": "The last day of the leave is before the first."
    }


def test_leave_that_is_over_already_is_refused() -> None:
    assert leave_problems(SUPERVISOR, TODAY - 9 * DAY, TODAY - DAY, MANAGER, today=TODAY) == {
        "away_until": "This leave is over already; nothing would change."
    }


def test_leave_longer_than_the_longest_setting_is_refused() -> None:
    last = TODAY + (MAX_LEAVE_DAYS - 1) * DAY
    assert leave_problems(SUPERVISOR, TODAY, last, MANAGER, today=TODAY) == {}
    assert leave_problems(SUPERVISOR, TODAY, last + DAY, MANAGER, today=TODAY) == {
        "away_until": f"Leave is set for at most {MAX_LEAVE_DAYS} days at a time."
    }


def test_leave_without_a_deputy_is_refused() -> None:
    assert leave_problems(SUPERVISOR, TODAY, TODAY + DAY, None, today=TODAY) == {
        "deputy": "Name the deputy who decides while this person is away."
    }


def test_a_person_cannot_be_their_own_deputy() -> None:
    assert leave_problems(SUPERVISOR, TODAY, TODAY + DAY, SUPERVISOR, today=TODAY) == {
        "deputy": "A person cannot be their own deputy."
    }


def test_a_disabled_deputy_is_refused() -> None:
    disabled = Presence(3, "Dee Gone", active=False)
    assert leave_problems(SUPERVISOR, TODAY, TODAY + DAY, disabled, today=TODAY) == {
        "deputy": "Dee Gone's account is disabled; choose someone at work."
    }


def test_a_deputy_whose_role_cannot_decide_is_refused() -> None:
    officer = Presence(4, "Olly Officer", may_decide=False)
    assert leave_problems(SUPERVISOR, TODAY, TODAY + DAY, officer, today=TODAY) == {
        "deputy": "Olly Officer's role cannot decide approvals; choose a decider."
    }


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (TODAY + 5 * DAY, TODAY + 12 * DAY),  # overlaps the end
        (TODAY - 3 * DAY, TODAY + 2 * DAY),  # overlaps the start
        (TODAY + 3 * DAY, TODAY + 4 * DAY),  # inside
        (TODAY - DAY, TODAY + 30 * DAY),  # around
        (TODAY + 9 * DAY, TODAY + 9 * DAY),  # the last day only
        (TODAY, TODAY),  # the first day only
    ],
)
def test_a_deputy_on_leave_in_an_overlapping_period_is_refused(
    first: dt.date, last: dt.date
) -> None:
    deputy = away(MANAGER, first, last, SUPERVISOR.id)
    problems = leave_problems(SUPERVISOR, TODAY, TODAY + 9 * DAY, deputy, today=TODAY)
    assert problems == {
        "deputy": f"Mia Manager is on leave themselves from {first:%d %b %Y} to "
        f"{last:%d %b %Y}; choose someone who is at work then."
    }


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (TODAY - 20 * DAY, TODAY - DAY),  # ends the day before
        (TODAY + 10 * DAY, TODAY + 20 * DAY),  # starts the day after
    ],
)
def test_a_deputy_on_leave_at_another_time_is_accepted(first: dt.date, last: dt.date) -> None:
    deputy = away(MANAGER, first, last, 7)
    assert leave_problems(SUPERVISOR, TODAY, TODAY + 9 * DAY, deputy, today=TODAY) == {}


def test_bad_dates_and_a_bad_deputy_are_both_reported() -> None:
    problems = leave_problems(SUPERVISOR, TODAY + 3 * DAY, TODAY, None, today=TODAY)
    assert set(problems) == {"away_until", "deputy"}


# --- who decides today ----------------------------------------------------------------------------


def test_a_person_at_work_decides_themselves() -> None:
    staff = people(SUPERVISOR, MANAGER)
    assert stand_in(SUPERVISOR.id, staff, TODAY) == SUPERVISOR.id


def test_a_person_whose_leave_is_over_or_not_begun_decides_themselves() -> None:
    staff = people(away(SUPERVISOR, TODAY + DAY, TODAY + 5 * DAY, MANAGER.id), MANAGER)
    assert stand_in(SUPERVISOR.id, staff, TODAY) == SUPERVISOR.id
    assert stand_in(SUPERVISOR.id, staff, TODAY + 6 * DAY) == SUPERVISOR.id
    assert stand_in(SUPERVISOR.id, staff, TODAY + DAY) == MANAGER.id
    assert stand_in(SUPERVISOR.id, staff, TODAY + 5 * DAY) == MANAGER.id


def test_a_person_away_is_replaced_by_their_deputy() -> None:
    staff = people(away(SUPERVISOR, TODAY, TODAY + 5 * DAY, MANAGER.id), MANAGER)
    assert stand_in(SUPERVISOR.id, staff, TODAY) == MANAGER.id


def test_a_deputy_away_passes_it_on_to_their_own_deputy() -> None:
    head = Presence(3, "Hal Head")
    staff = people(
        away(SUPERVISOR, TODAY, TODAY + 5 * DAY, MANAGER.id),
        away(MANAGER, TODAY, TODAY + 1 * DAY, head.id),
        head,
    )
    assert stand_in(SUPERVISOR.id, staff, TODAY) == head.id
    assert stand_in(SUPERVISOR.id, staff, TODAY + 2 * DAY) == MANAGER.id, "the manager is back"


def test_deputies_away_in_a_loop_leave_nobody() -> None:
    staff = people(
        away(SUPERVISOR, TODAY, TODAY + 5 * DAY, MANAGER.id),
        away(MANAGER, TODAY, TODAY + 5 * DAY, SUPERVISOR.id),
    )
    assert stand_in(SUPERVISOR.id, staff, TODAY) is None
    assert stand_in(MANAGER.id, staff, TODAY) is None


def test_a_person_away_named_as_their_own_deputy_leaves_nobody() -> None:
    staff = people(away(SUPERVISOR, TODAY, TODAY + 5 * DAY, SUPERVISOR.id))
    assert stand_in(SUPERVISOR.id, staff, TODAY) is None


def test_a_chain_that_reaches_the_requester_leaves_nobody() -> None:
    requester = Presence(5, "Rae Requester")
    staff = people(away(SUPERVISOR, TODAY, TODAY + 5 * DAY, requester.id), requester, MANAGER)
    assert stand_in(SUPERVISOR.id, staff, TODAY, excluding={requester.id}) is None
    assert stand_in(SUPERVISOR.id, staff, TODAY) == requester.id, "for anybody else's item"


def test_the_requester_does_not_decide_even_at_work() -> None:
    staff = people(SUPERVISOR)
    assert stand_in(SUPERVISOR.id, staff, TODAY, excluding={SUPERVISOR.id}) is None


def test_a_person_away_without_a_deputy_leaves_nobody() -> None:
    staff = people(away(SUPERVISOR, TODAY, TODAY + 5 * DAY, None))
    assert stand_in(SUPERVISOR.id, staff, TODAY) is None


def test_a_deputy_disabled_or_no_longer_a_decider_or_gone_leaves_nobody() -> None:
    for deputy in (Presence(2, "Gone", active=False), Presence(2, "Moved", may_decide=False)):
        staff = people(away(SUPERVISOR, TODAY, TODAY + 5 * DAY, deputy.id), deputy)
        assert stand_in(SUPERVISOR.id, staff, TODAY) is None, deputy
    staff = people(away(SUPERVISOR, TODAY, TODAY + 5 * DAY, 99))
    assert stand_in(SUPERVISOR.id, staff, TODAY) is None


def test_a_deputy_covers_everyone_away_whose_chain_ends_with_them() -> None:
    head = Presence(3, "Hal Head")
    other = Presence(6, "Ola Other")
    staff = people(
        away(SUPERVISOR, TODAY, TODAY + 5 * DAY, MANAGER.id),
        away(MANAGER, TODAY, TODAY + 1 * DAY, head.id),
        head,
        away(other, TODAY + 3 * DAY, TODAY + 4 * DAY, head.id),  # not away yet
    )
    assert covered_by(head.id, staff, TODAY) == {SUPERVISOR.id, MANAGER.id}
    assert covered_by(MANAGER.id, staff, TODAY) == frozenset(), "away: covers nobody"
    assert covered_by(MANAGER.id, staff, TODAY + 2 * DAY) == {SUPERVISOR.id}
    assert covered_by(head.id, staff, TODAY + 3 * DAY) == {other.id}
    assert covered_by(head.id, staff, TODAY + 9 * DAY) == frozenset()


# --- any graph of staff ---------------------------------------------------------------------------

IDS = st.integers(min_value=1, max_value=6)


@st.composite
def staff_graphs(draw: st.DrawFn) -> dict[int, Presence]:
    ids = draw(st.lists(IDS, min_size=1, max_size=6, unique=True))
    found = {}
    for person_id in ids:
        first = draw(st.one_of(st.none(), st.integers(0, 6)))
        length = draw(st.integers(0, 4))
        found[person_id] = Presence(
            id=person_id,
            name=f"Person {person_id}",
            active=draw(st.booleans()),
            may_decide=draw(st.booleans()),
            away_from=None if first is None else TODAY + first * DAY,
            away_until=None if first is None else TODAY + (first + length) * DAY,
            # Any id at all: someone else, themselves, or someone no longer there.
            deputy_id=draw(st.one_of(st.none(), st.integers(1, 7))),
        )
    return found


@settings(deadline=None, max_examples=300)
@given(
    graph=staff_graphs(),
    person_id=IDS,
    offset=st.integers(0, 8),
    excluding=st.frozensets(IDS, max_size=2),
)
def test_the_stand_in_is_nobody_or_someone_at_work_who_is_not_excluded(
    graph: dict[int, Presence], person_id: int, offset: int, excluding: frozenset[int]
) -> None:
    day = TODAY + offset * DAY
    found = stand_in(person_id, graph, day, excluding=excluding)
    if found is None:
        return
    chosen = graph[found]
    assert not chosen.away_on(day) and chosen.active
    assert found not in excluding
    assert chosen.may_decide or found == person_id
    # Reached from the person by following deputies, each of them away on the day.
    current, steps = graph[person_id], 0
    while current.id != found:
        assert current.away_on(day) and current.deputy_id is not None
        current, steps = graph[current.deputy_id], steps + 1
        assert steps <= len(graph)
    if person_id not in excluding and graph[person_id].active:
        assert (found == person_id) == (not graph[person_id].away_on(day))


@settings(deadline=None, max_examples=200)
@given(graph=staff_graphs(), offset=st.integers(0, 8))
def test_an_absent_persons_items_reach_one_deputys_inbox_at_most(
    graph: dict[int, Presence], offset: int
) -> None:
    """Never two inboxes for the same absent person's items; exactly one while anyone can stand
    in for them."""
    day = TODAY + offset * DAY
    covers = {d: covered_by(d, graph, day) for d in graph}
    for person in graph.values():
        inboxes = [d for d, covered in covers.items() if person.id in covered]
        assert len(inboxes) <= 1
        if not person.away_on(day):
            assert inboxes == []
        else:
            found = stand_in(person.id, graph, day)
            assert inboxes == ([] if found is None or found == person.id else [found])
