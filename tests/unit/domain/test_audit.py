from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from desk.domain.audit import GENESIS_HASH, AuditEntry, entry_hash, verify_chain

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def chain(length: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    previous = GENESIS_HASH
    for i in range(length):
        fields = {
            "uuid": f"u{i}",
            "at": START + dt.timedelta(minutes=i),
            "actor_id": i % 3 or None,
            "actor_name": f"Officer {i}",
            "action": "case.created",
            "entity": "case",
            "entity_id": f"C-2026-{i:06d}",
            "details": '{"summary":"x"}',
        }
        digest = entry_hash(prev_hash=previous, **fields)  # type: ignore[arg-type]
        entries.append(AuditEntry(id=i + 1, prev_hash=previous, hash=digest, **fields))  # type: ignore[arg-type]
        previous = digest
    return entries


def test_an_untouched_chain_verifies() -> None:
    assert verify_chain(chain(5)) == (5, None)
    assert verify_chain([]) == (0, None)


@given(
    length=st.integers(2, 8),
    data=st.data(),
    field=st.sampled_from(["actor_name", "action", "entity_id", "details", "actor_id"]),
)
def test_changing_any_field_of_any_entry_is_found_at_that_entry(
    length: int, data: st.DataObject, field: str
) -> None:
    entries = chain(length)
    index = data.draw(st.integers(0, length - 1))
    original = getattr(entries[index], field)
    forged = 999 if field == "actor_id" else f"{original} (edited)"
    entries[index] = dataclasses.replace(entries[index], **{field: forged})
    _, broken = verify_chain(entries)
    assert broken is not None and broken.entry_id == index + 1
    assert "changed after it was written" in broken.reason


@given(length=st.integers(3, 8), data=st.data())
def test_removing_an_entry_is_found_at_the_next_one(length: int, data: st.DataObject) -> None:
    entries = chain(length)
    index = data.draw(st.integers(0, length - 2))
    del entries[index]
    _, broken = verify_chain(entries)
    assert broken is not None and broken.entry_id == index + 2
    assert "removed" in broken.reason
