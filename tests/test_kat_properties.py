"""Invariants of kat.md sections 2 to 4 over random configurations, ledgers, exceptions and states,
and a literal per-member Fraction transcription of the rules that the engine must agree with."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kat_helpers import CED, GUARDRAILS

from katsheet.engine.kat import (
    ExceptionRecord,
    KatConfig,
    Ledger,
    LedgerRow,
    MemberState,
    compute_period,
    parse_config,
)

MONTH = "2026-11"
S, E = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
MEMBERS = ["ada", "Bo", "cy", "Dee"]
dates = st.dates(min_value=dt.date(2026, 8, 1), max_value=dt.date(2026, 12, 10))
in_period = st.dates(min_value=S, max_value=E)


@st.composite
def configs(draw) -> KatConfig:
    data = {**CED, "settlement": dict(CED["settlement"]), "karma": dict(CED["karma"])}
    decimals = draw(st.integers(0, 4))
    global_cap = draw(st.decimals(min_value=Decimal(1), max_value=Decimal(5000), places=0))
    data["settlement"].update(
        kat_per_credit=draw(st.decimals(min_value=Decimal("0.1"), max_value=Decimal(10), places=1)),
        global_cap=global_cap,
        per_user_cap=draw(st.decimals(min_value=Decimal("0.01"), max_value=global_cap / 20, places=2)),
        decimals=decimals,
    )
    n = draw(st.integers(2, 6))
    multipliers = [Decimal(0)] + [draw(st.decimals(min_value=Decimal(0), max_value=Decimal(2), places=1))
                                  for _ in range(n - 1)]  # fmt: skip
    if not any(multipliers):
        multipliers[-1] = Decimal(1)
    start = next(i for i, m in enumerate(multipliers) if m > 0)
    data["karma"].update(
        levels=[{"level": i, "name": f"L{i}", "multiplier": m} for i, m in enumerate(multipliers)],
        start_level=start, promote_after=draw(st.integers(1, 4)), inactivity_days=draw(st.integers(1, 45)),
    )  # fmt: skip
    data["rules"] = [dict(r, credits=draw(st.decimals(min_value=Decimal("0.5"), max_value=Decimal(5), places=1)))
                     | ({"limit": draw(st.integers(1, 3))} if draw(st.booleans()) else {})
                     for r in CED["rules"]]  # fmt: skip
    for r in data["rules"]:
        if "limit" in r and r["limit"] is None:
            del r["limit"]
    return parse_config(data, GUARDRAILS, source="random.toml")


@st.composite
def ledgers(draw, config: KatConfig) -> list[LedgerRow]:
    """Mostly rows that count (so limits, caps and the scale are exercised), with every kind of flaw mixed in."""
    rules = [r.id for r in config.rules[:3]] + [draw(st.sampled_from([r.id for r in config.rules])), "ZZ"]
    out = []
    for i in range(draw(st.integers(0, 30))):
        member = draw(st.sampled_from(MEMBERS))
        rule = draw(st.sampled_from(rules))
        known = config.rule(rule)
        good = draw(st.integers(0, 3)) > 0
        day = draw(in_period) if good else draw(dates)
        out.append(LedgerRow(
            entry=f"e{i}" if draw(st.integers(0, 19)) else "e0", date=day, member=member,
            stakeholder=known.stakeholder if known and (good or draw(st.booleans())) else "Partners", rule=rule,
            quantity=draw(st.sampled_from([1, 2, 3, "1"])) if good else draw(st.sampled_from([1, "0", "1.5", ""])),
            evidence="ev" if good else draw(st.sampled_from(["ev", ""])),
            verified_by="org" if good else draw(st.sampled_from(["org", member.upper(), ""])),
            verified_on=day if good else draw(st.one_of(st.none(), dates)),
            status="verified" if good else draw(st.sampled_from(["verified", "pending", "disputed", "void", "approved"])),
            where=f"row {i + 2}",
        ))  # fmt: skip
    return out


@st.composite
def months(draw):
    config = draw(configs())
    ledger = draw(ledgers(config))
    states = [
        MemberState(m, draw(st.integers(0, config.top_level)), draw(st.integers(0, 4)),
                    draw(st.one_of(st.none(), dates.filter(lambda d: d <= E))), draw(st.one_of(st.none(), dates)),
                    draw(st.decimals(min_value=Decimal(0), max_value=Decimal(2000), places=2)), where=f"state {m}")
        for m in MEMBERS if draw(st.booleans())
    ]  # fmt: skip
    present = {m.casefold() for m in [s.member for s in states] + [r.member for r in ledger]}
    exceptions = [
        ExceptionRecord(f"x{i}", draw(dates), m, "k", draw(st.sampled_from(["open", "upheld", "dismissed"])),
                        where=f"x row {i}")
        for i, m in enumerate(draw(st.lists(st.sampled_from(sorted(present)), max_size=3)) if present else [])
    ]  # fmt: skip
    return config, ledger, exceptions, states


def reference(config: KatConfig, ledger, exceptions, states) -> tuple[dict[str, tuple], set[str]]:
    """Sections 2 to 4 transcribed literally, member by member, in Fractions: (level, streak, KAT,
    last active, first seen) per member, and the rows beyond their rule's limit."""
    state = {s.member.casefold(): s for s in states}
    ids = [r.entry.casefold() for r in ledger]
    members = {r.member.casefold() for r in ledger} | set(state)
    capped: dict[str, Fraction] = {}
    karma: dict[str, tuple[int, int]] = {}
    seen: dict[str, tuple] = {}
    beyond: set[str] = set()
    for m in members:
        counted = []
        for r in ledger:
            rule = config.rule(r.rule)
            q = r.quantity
            whole = q == "" or (str(q).isdigit() and int(q) >= 1)
            if (r.member.casefold() == m and r.status == "verified" and rule is not None and whole
                    and r.stakeholder.casefold() == rule.stakeholder.casefold() and r.evidence.strip()
                    and r.verified_by.strip() and r.verified_by.casefold() != r.member.casefold()
                    and r.date is not None and r.date <= E and r.verified_on is not None and r.verified_on <= E
                    and ids.count(r.entry.casefold()) == 1):  # fmt: skip
                counted.append((rule, int(q) if q != "" else 1, r.date, r))
        credits = Fraction(0)
        for rule in config.rules:
            events = sum(q for ru, q, _, _ in counted if ru.id == rule.id)
            used = 0
            for _, q, _, row in sorted((c for c in counted if c[0].id == rule.id), key=lambda c: (c[2], c[3].entry)):
                used += q
                if rule.limit is not None and used > rule.limit:
                    beyond.add(row.where)
            credits += min(events, rule.limit if rule.limit is not None else events) * Fraction(rule.credits)
        s = state.get(m) or MemberState(m, config.start_level)
        firsts = [r.date for r in ledger if r.member.casefold() == m and r.date is not None]
        last = max([d for d in [s.last_active] + [d for _, _, d, _ in counted] if d], default=None)
        first = min([d for d in [s.first_seen, *firsts] if d], default=None)
        ref = last or first
        inactive = ref is not None and (E - ref).days >= config.inactivity_days
        upheld = any(e.member.casefold() == m and e.decision == "upheld" and e.date <= E for e in exceptions)
        down = inactive or upheld
        streak = 0 if down or not counted else s.streak + 1
        up = not down and streak >= config.promote_after
        level = max(0, s.level - 1) if down else (min(config.top_level, s.level + 1) if up else s.level)
        raw = credits * Fraction(config.kat_per_credit) * Fraction(config.levels[level].multiplier)
        capped[m] = min(raw, Fraction(config.per_user_cap))
        karma[m] = (level, 0 if up and level > s.level else streak)
        seen[m] = (last, first)
    total = sum(capped.values(), Fraction(0))
    r = Fraction(1) if total == 0 else min(Fraction(1), Fraction(config.global_cap) / total)
    unit = Fraction(1, 10**config.decimals)
    return {m: (*karma[m], (c * r // unit) * unit, *seen[m]) for m, c in capped.items()}, beyond


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(months())
def test_invariants(month) -> None:
    config, ledger, exceptions, states = month
    p = compute_period(config, MONTH, ledger, exceptions, states)
    unit = Decimal(1).scaleb(-config.decimals)
    assert p.minted <= config.global_cap
    assert all(m.kat <= config.per_user_cap for m in p.members)
    assert sum(r.amount for r in p.mint_list) == p.minted
    assert all(r.amount > 0 for r in p.mint_list)
    assert p.residue >= 0 and p.residue < unit * max(1, len(p.members))
    for m in p.members:
        assert abs(m.level - m.level_before) <= 1
        if m.level == 0:
            assert m.kat == 0
        assert m.capped <= config.per_user_cap and m.kat <= m.capped
    # the literal transcription agrees, member by member and row by row
    ref, beyond = reference(config, ledger, exceptions, states)
    assert {m.member.casefold(): (m.level, m.streak, Fraction(m.kat), m.last_active, m.first_seen)
            for m in p.members} == ref  # fmt: skip
    assert {r.where for r in p.rows if r.beyond_limit} == beyond
    # a ledger held column by column (as the CSV and workbook readers give it) is the same ledger
    columns = compute_period(config, MONTH, Ledger.of(ledger), exceptions, states)
    assert columns.members == p.members and list(columns.rows) == list(p.rows)


@SETTINGS
@given(months(), st.randoms(use_true_random=False))
def test_row_order_irrelevant(month, rnd: random.Random) -> None:
    config, ledger, exceptions, states = month
    a = compute_period(config, MONTH, ledger, exceptions, states)
    shuffled = list(ledger)
    rnd.shuffle(shuffled)
    b = compute_period(config, MONTH, shuffled, list(reversed(exceptions)), list(reversed(states)))
    assert a.members == b.members and a.minted == b.minted and a.residue == b.residue
    beyond = lambda p: sorted((r.entry, r.where) for r in p.rows if r.beyond_limit)  # noqa: E731
    assert beyond(a) == beyond(b)


@SETTINGS
@given(months(), st.sampled_from(MEMBERS), st.integers(1, 3))
def test_adding_a_counted_row_never_lowers_credits(month, member, quantity) -> None:
    config, ledger, exceptions, states = month
    before = {m.member.casefold(): m.credits for m in compute_period(config, MONTH, ledger, exceptions, states).members}
    rule = config.rules[0]
    extra = LedgerRow("new-entry", dt.date(2026, 11, 15), member, rule.stakeholder, rule.id, quantity, "ev", "org",
                      dt.date(2026, 11, 16), "verified", where="row new")  # fmt: skip
    after = compute_period(config, MONTH, [*ledger, extra], exceptions, states)
    row = after.rows[-1]
    assert row.counted and not row.problems
    mine = next(m for m in after.members if m.member.casefold() == member.casefold())
    assert mine.credits >= before.get(member.casefold(), Decimal(0))


@given(st.lists(st.text(alphabet=st.sampled_from(["a", "B", " ", "\n", "ß", "İ", "x"]), max_size=6), max_size=8))
def test_keys_of_a_column_are_member_keys(texts) -> None:
    """The whole-column shortcut for entry ids gives exactly what member_key gives one by one."""
    from katsheet.engine.kat.period import _keys_of
    from katsheet.engine.names import member_key

    assert _keys_of(texts) == [member_key(t) for t in texts]


@given(st.text(alphabet=st.characters(max_codepoint=0x10FFFF), max_size=12), st.text(max_size=6))
def test_forbidden_characters_found_column_wide_as_one_by_one(text, ascii_tail) -> None:
    """The byte-table shortcut for ASCII columns finds exactly what the regular expression finds."""
    from katsheet.engine.names import FORBIDDEN_CHARACTERS, has_forbidden

    for t in (text, ascii_tail.encode("ascii", "ignore").decode(), text + "\x7f", "\n".join([ascii_tail] * 3)):
        assert has_forbidden(t) == (FORBIDDEN_CHARACTERS.search(t) is not None)
