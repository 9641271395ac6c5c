"""The sealed ledger (kat.md section 2): the chain as docs say anyone can recompute it, and every
edit, deletion, insertion or move of a sealed record detected and named."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from katsheet.engine.kat import ExceptionRecord, LedgerRow
from katsheet.engine.kat.seal import GENESIS, Sealed, head, seal_period, verify

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def rows(n: int, tag: str = "") -> list[LedgerRow]:
    day = dt.date(2026, 11, 3)
    return [LedgerRow(f"E{tag}{i}", day, f"Member {i % 3}", "Guides", "G1", 1, "https://e", "Org", day, "verified",
                      f"note {i}") for i in range(n)]  # fmt: skip


def test_the_chain_is_what_the_docs_say() -> None:
    """Recomputed here from the documented recipe alone: SHA-256 of the previous seal and the
    compact JSON array of kind, period and trimmed fields."""
    sealed, exceptions = seal_period("2026-11", rows(2), [ExceptionRecord("X1", dt.date(2026, 11, 9), " Bo ",
                                                                           "conduct", "upheld", "é")])  # fmt: skip
    previous = GENESIS
    for r, s in zip(rows(2), sealed, strict=True):
        fields = ["ledger", "2026-11", r.entry, "2026-11-03", r.member, "Guides", "G1", "1", "https://e", "Org",
                  "2026-11-03", "verified", r.notes]  # fmt: skip
        previous = hashlib.sha256((previous + json.dumps(fields, ensure_ascii=False, separators=(",", ":")))
                                  .encode()).hexdigest()  # fmt: skip
        assert s.seal == previous
    text = '["exception","2026-11","X1","2026-11-09","Bo","conduct","upheld","é"]'
    assert exceptions[0].seal == hashlib.sha256((GENESIS + text).encode()).hexdigest()
    assert verify(sealed) is None and verify(exceptions) is None


def test_a_next_period_extends_the_chain() -> None:
    first, _ = seal_period("2026-11", rows(3), [])
    second, _ = seal_period("2026-12", rows(2, "b"), [], (head(first), GENESIS))
    assert verify([*first, *second]) is None
    assert verify(second) is not None  # alone, it does not start at the beginning
    assert verify(second, head(first)) is None


@given(st.integers(2, 12), st.data())
def test_every_tampering_is_detected_and_named(n, data) -> None:
    sealed, _ = seal_period("2026-11", rows(n), [])
    last = head(sealed)
    kind = data.draw(st.sampled_from(["edit", "delete", "insert", "swap", "truncate"]))
    i = data.draw(st.integers(0, n - 1))
    records = list(sealed)
    if kind == "edit":
        field = data.draw(st.integers(0, len(records[i].fields) - 1))
        new = data.draw(text.filter(lambda t: t.strip() != records[i].fields[field]))
        fields = list(records[i].fields)
        fields[field] = new.strip()
        records[i] = Sealed("ledger", records[i].id, "2026-11", tuple(fields), records[i].seal)
        named = records[i].id
    elif kind == "delete":
        if i == n - 1:
            del records[i]
            named = records[-1].id
        else:
            del records[i]
            named = records[i].id
    elif kind == "insert":
        fields = ("FAKE", *records[i].fields[1:])
        fake = Sealed("ledger", "FAKE", "2026-11", fields, data.draw(st.sampled_from([records[i].seal, "0" * 64])))
        records.insert(i, fake)
        named = "FAKE"
    elif kind == "swap":
        j = (i + 1) % n
        records[i], records[j] = records[j], records[i]
        named = records[min(i, j)].id
    else:
        records = records[:i] if i else records[:1]
        if len(records) == n:
            return
        named = records[-1].id
    broken = verify(records, GENESIS, last)
    assert broken is not None and broken.record is not None and broken.record.id == named, (kind, i, broken)
