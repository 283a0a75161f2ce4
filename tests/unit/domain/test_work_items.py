"""The rule of the other inbox items (review requests, replies to vet, compliments): which decision
fits each kind, who may take it, what must be written with it, and the words for the customer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk.domain.authority import Permission
from desk.domain.work_items import (
    DECISIONS,
    MAX_TEXT,
    Decision,
    ItemKind,
    Refusal,
    customer_wording,
    decision_refusal,
    permission_for,
)

OFFICER, SUPERVISOR, COLLEAGUE = 1, 2, 3
DECIDER = frozenset({Permission.DECIDE_APPROVALS.value, Permission.VET_REPLIES.value})


def refusal(
    kind: ItemKind,
    decision: Decision,
    response: str = "Looked at it again with the bill",
    *,
    decider_id: int = SUPERVISOR,
    requester_id: int = OFFICER,
    subject_id: int | None = None,
    permissions: frozenset[str] = DECIDER,
) -> Refusal | None:
    return decision_refusal(
        kind,
        decision,
        response,
        decider_id=decider_id,
        requester_id=requester_id,
        subject_id=subject_id,
        decider_permissions=permissions,
    )


# --- what each kind may become ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "decision"),
    [(k, d) for k in ItemKind for d in Decision if d in DECISIONS[k]],
)
def test_a_supervisor_takes_every_decision_that_fits_the_kind(
    kind: ItemKind, decision: Decision
) -> None:
    subject = COLLEAGUE if kind is ItemKind.COMPLIMENT else None
    assert refusal(kind, decision, subject_id=subject) is None


@pytest.mark.parametrize(
    ("kind", "decision"),
    [(k, d) for k in ItemKind for d in Decision if d not in DECISIONS[k]],
)
def test_a_decision_that_does_not_fit_the_kind_is_refused_naming_those_that_do(
    kind: ItemKind, decision: Decision
) -> None:
    refused = refusal(kind, decision)
    assert refused is not None and refused.field == "decision"
    assert refused.message.startswith("A ")
    assert "is decided as:" in refused.message


def test_the_decisions_each_kind_offers() -> None:
    assert DECISIONS[ItemKind.REVIEW] == (Decision.UPHOLD, Decision.CHANGE, Decision.RETURN)
    assert DECISIONS[ItemKind.REPLY] == (Decision.APPROVE, Decision.RETURN)
    assert DECISIONS[ItemKind.COMPLIMENT] == (Decision.ACKNOWLEDGE,)
    refused = refusal(ItemKind.REPLY, Decision.UPHOLD)
    assert refused == Refusal(
        "A reply to vet is decided as: reply approved, returned for more information.", "decision"
    )


# --- who may decide -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ItemKind))
def test_nobody_decides_an_item_they_raised(kind: ItemKind) -> None:
    refused = refusal(kind, DECISIONS[kind][0], decider_id=OFFICER, requester_id=OFFICER)
    assert refused == Refusal(
        "Nobody decides an item they raised; another person must.", "decision"
    )


def test_nobody_acknowledges_a_compliment_about_themselves() -> None:
    refused = refusal(ItemKind.COMPLIMENT, Decision.ACKNOWLEDGE, "Well done", subject_id=SUPERVISOR)
    assert refused == Refusal(
        "A compliment about you is acknowledged by your supervisor.", "decision"
    )


def test_the_requester_refusal_comes_before_the_subject_refusal() -> None:
    refused = refusal(
        ItemKind.COMPLIMENT,
        Decision.ACKNOWLEDGE,
        "Well done",
        decider_id=OFFICER,
        requester_id=OFFICER,
        subject_id=OFFICER,
    )
    assert refused is not None and "raised" in refused.message


def test_a_reply_is_vetted_only_with_the_permission_to_vet_replies() -> None:
    assert permission_for(ItemKind.REPLY) is Permission.VET_REPLIES
    only_approvals = frozenset({Permission.DECIDE_APPROVALS.value})
    refused = refusal(ItemKind.REPLY, Decision.APPROVE, "Dear Ms Lee", permissions=only_approvals)
    assert refused == Refusal(
        "Deciding this needs the permission 'vet_replies', which your role does not have.",
        "decision",
    )
    vetter = frozenset({Permission.VET_REPLIES.value})
    assert refusal(ItemKind.REPLY, Decision.APPROVE, "Dear Ms Lee", permissions=vetter) is None


@pytest.mark.parametrize("kind", [ItemKind.REVIEW, ItemKind.COMPLIMENT])
def test_reviews_and_compliments_need_the_permission_to_decide_approvals(kind: ItemKind) -> None:
    assert permission_for(kind) is Permission.DECIDE_APPROVALS
    vetter = frozenset({Permission.VET_REPLIES.value})
    subject = COLLEAGUE if kind is ItemKind.COMPLIMENT else None
    refused = refusal(kind, DECISIONS[kind][0], subject_id=subject, permissions=vetter)
    assert refused == Refusal(
        "Deciding this needs the permission 'decide_approvals', which your role does not have.",
        "decision",
    )


def test_an_officer_without_either_permission_decides_nothing() -> None:
    officer = frozenset({"create_cases", "grant_waivers"})
    for kind in ItemKind:
        for decision in DECISIONS[kind]:
            refused = refusal(kind, decision, subject_id=None, permissions=officer)
            assert refused is not None and "permission" in refused.message, (kind, decision)


# --- what must be written -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "decision", "message"),
    [
        (ItemKind.REVIEW, Decision.UPHOLD, "Give the reason: the officer tells the customer."),
        (ItemKind.REVIEW, Decision.CHANGE, "Give the reason: the officer tells the customer."),
        (ItemKind.REVIEW, Decision.RETURN, "Say what more is needed: the officer reads it."),
        (ItemKind.REPLY, Decision.RETURN, "Say what more is needed: the officer reads it."),
        (ItemKind.REPLY, Decision.APPROVE, "The reply to send cannot be empty."),
        (
            ItemKind.COMPLIMENT,
            Decision.ACKNOWLEDGE,
            "Write the note of recognition that reaches the member of staff.",
        ),
    ],
)
@pytest.mark.parametrize("empty", ["", "   ", "\n\t "])
def test_every_decision_needs_its_words(
    kind: ItemKind, decision: Decision, message: str, empty: str
) -> None:
    subject = COLLEAGUE if kind is ItemKind.COMPLIMENT else None
    assert refusal(kind, decision, empty, subject_id=subject) == Refusal(message, "response")


def test_words_up_to_the_limit_are_kept_and_longer_ones_refused() -> None:
    assert refusal(ItemKind.REVIEW, Decision.UPHOLD, "x" * MAX_TEXT) is None
    refused = refusal(ItemKind.REVIEW, Decision.UPHOLD, "x" * (MAX_TEXT + 1))
    assert refused == Refusal("Keep it under 20,000 characters.", "response")
    padded = "  " + "x" * MAX_TEXT + "  \n"
    assert refusal(ItemKind.REPLY, Decision.APPROVE, padded) is None, "spaces around do not count"


# --- whatever comes in, a refusal or nothing -----------------------------------------------------


@given(
    kind=st.sampled_from(ItemKind),
    decision=st.sampled_from(Decision),
    response=st.one_of(st.text(max_size=300), st.just("y" * (MAX_TEXT + 5))),
    decider=st.integers(1, 4),
    requester=st.integers(1, 4),
    subject=st.one_of(st.none(), st.integers(1, 4)),
    permissions=st.frozensets(st.sampled_from([p.value for p in Permission])),
)
def test_any_decision_gets_a_sentence_or_none_never_an_exception(
    kind: ItemKind,
    decision: Decision,
    response: str,
    decider: int,
    requester: int,
    subject: int | None,
    permissions: frozenset[str],
) -> None:
    result = refusal(
        kind,
        decision,
        response,
        decider_id=decider,
        requester_id=requester,
        subject_id=subject,
        permissions=permissions,
    )
    allowed = (
        decision in DECISIONS[kind]
        and decider != requester
        and decider != subject
        and permission_for(kind).value in permissions
        and 0 < len(response.strip()) <= MAX_TEXT
    )
    if allowed:
        assert result is None
    else:
        assert isinstance(result, Refusal)
        assert result.message.strip() and result.message.endswith(".")
        assert result.field in ("decision", "response")


# --- words for the customer ---------------------------------------------------------------------


def test_an_upheld_review_is_explained_with_the_reason_and_the_way_further() -> None:
    words = customer_wording(
        ItemKind.REVIEW, Decision.UPHOLD, "the penalty was correct", "Zoë Lefèvre"
    )
    assert words == (
        "Zoë, a supervisor has looked at the decision again, carefully, and it stays as it was. "
        "The reason is: The penalty was correct. If you are still unhappy, I can tell you how "
        "to take it further."
    )


def test_a_changed_review_says_how_and_thanks_the_customer() -> None:
    words = customer_wording(
        ItemKind.REVIEW, Decision.CHANGE, "The late fee is waived in full.", "Ana Lima"
    )
    assert words == (
        "Ana, a supervisor has reviewed the decision and changed it: The late fee is waived in "
        "full. Thank you for asking us to look again."
    )


@pytest.mark.parametrize("name", ["", "   "])
def test_without_a_name_the_words_begin_with_a_capital(name: str) -> None:
    words = customer_wording(ItemKind.REVIEW, Decision.UPHOLD, "it was right", name)
    assert words.startswith("A supervisor has looked at the decision again")
    assert "The reason is: It was right. If you" in words


@pytest.mark.parametrize(
    ("kind", "decision"),
    [
        (ItemKind.REVIEW, Decision.RETURN),
        (ItemKind.REPLY, Decision.APPROVE),
        (ItemKind.REPLY, Decision.RETURN),
        (ItemKind.COMPLIMENT, Decision.ACKNOWLEDGE),
    ],
)
def test_only_a_decided_review_has_words_for_the_customer(
    kind: ItemKind, decision: Decision
) -> None:
    assert customer_wording(kind, decision, "Some words", "Ana Lima") == ""


@given(
    decision=st.sampled_from([Decision.UPHOLD, Decision.CHANGE]),
    response=st.text(min_size=1, max_size=200).filter(str.strip),
    name=st.text(max_size=40),
)
def test_review_words_always_read_as_a_sentence(
    decision: Decision, response: str, name: str
) -> None:
    words = customer_wording(ItemKind.REVIEW, decision, response, name)
    first = name.split()[0] if name.split() else ""
    assert words.startswith(f"{first}, a supervisor" if first else "A supervisor")
    assert words.endswith(".")
    assert " ".join(response.split())[1:] in words, "the decider's words reach the customer"
