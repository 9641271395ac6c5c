"""A member's figure explained step by step, in words and numbers, from the engine's own results.

GRAPE (grape.md section 2): the weight from the scores, the base, the threshold and eligibility,
the bonus and excess pools, what the dynamic cap did, the rounding; per role and SubDAO, then the
sum. KAT (kat.md sections 2 to 4): which ledger rows counted and why the others did not, the level
change and its reason, the caps and the scale. Plain text: the page escapes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..engine.names import member_key
from ..engine.numbers import grouped


@dataclass
class Step:
    title: str
    lines: list[str] = field(default_factory=list)


def percent(value: Any) -> str:
    return f"{Decimal(value) * 100:,.2f}%"


def grape_steps(book: Any, member: str) -> list[Step]:
    """Each of the member's role rows in each SubDAO, explained; then the total over them."""
    key = member_key(member)
    steps: list[Step] = []
    total = Decimal(0)
    for part in book.parts:
        a, o, d = part.allocation, part.options, part.options.decimals
        for row, m in zip(part.rows, a.members, strict=True):
            if member_key(row.member) != key:
                continue
            where = f"{part.subdao} · " if part.subdao else ""
            s = Step(f"{where}{row.role or 'role'}")
            scores = [f"{c.name} {percent(v) if isinstance(v, Decimal) else v} (criterion weight {c.weight})"
                      for c, v in zip(part.criteria.items, row.scores, strict=False)]  # fmt: skip
            if scores:
                s.lines.append("Scores: " + "; ".join(scores) + f". GRAPE weight w = {percent(m.grape_weight)}.")
            else:
                s.lines.append(f"GRAPE weight w = {percent(m.grape_weight)}.")
            budget = a.budget
            s.lines.append(f"Base: the budget {grouped(budget, d)} over {a.role_holders} role holders gives "
                           f"A = {grouped(a.base_allotted, 6)}; base = w × A = {grouped(m.base, 6)}.")  # fmt: skip
            if not m.performer:
                s.lines.append("A weight of 0% earns nothing and takes no part in the bonus or excess.")
            t_how = (
                "set for the month"
                if o.threshold is not None
                else f"the average weight of the {a.performers} performers"
            )
            verdict = (
                "above it: eligible for bonus and excess" if m.bonus_eligible else "not above it: no bonus or excess"
            )
            s.lines.append(f"Threshold t = {percent(a.threshold)} ({t_how}); w is {verdict} "
                           f"({a.bonus_eligible} eligible, divisor D = max({o.min_divisor}, {a.bonus_eligible}) = "
                           f"{a.bonus_divisor}).")  # fmt: skip
            if m.bonus_eligible:
                s.lines.append(f"Bonus pool = budget − all bases = {grouped(a.bonus_pool, 6)}; bonus = w × pool / D = "
                               f"{grouped(m.bonus_before_cap, 6)}. Excess pool = {grouped(a.excess_pool, 6)}; excess = "
                               f"w × pool / D = {grouped(m.excess_before_cap, 6)}.")  # fmt: skip
                if a.cap_engaged and o.cap_rule == "scale":
                    s.lines.append(f"The dynamic cap engaged (bonus + excess exceeded base + bonus): rule scale "
                                   f"multiplies both by r = excess pool / budget = {a.cap_ratio}, giving bonus "
                                   f"{grouped(m.bonus, 6)} and excess {grouped(m.excess, 6)}.")  # fmt: skip
                elif a.cap_engaged:
                    s.lines.append(f"The dynamic cap engaged: rule at-base cuts the excess to the base, "
                                   f"{grouped(m.excess, 6)}.")  # fmt: skip
                elif a.cap_condition:
                    s.lines.append("Bonus + excess exceeded base + bonus, but the cap rule is off: nothing changed.")
                else:
                    s.lines.append("The dynamic cap did not engage (excess ≤ base).")
            s.lines.append(f"Total = ROUNDDOWN(base + bonus + excess, {d}) = {grouped(m.total, d)}.")
            total += m.total
            steps.append(s)
    if len(steps) > 1:
        steps.append(Step("Total", [f"Over {len(steps)} role rows: {grouped(total, book.first.options.decimals)}."]))
    line = next((x for x in book.members if member_key(x.member) == key), None)
    if book.cap_section and line is not None:  # grape.md 6: the per-member cap, each asset
        s = Step("After the per-member cap")
        for k, a in enumerate(book.asset_list):
            before, after = line.units[k]
            cut = (f"the cap ({percent(book.max_share)} of {grouped(a.budget, a.decimals)}) cut it; the cut returns"
                   if after < before else "not cut")  # fmt: skip
            s.lines.append(f"{a.name}: {grouped(Decimal(before).scaleb(-a.decimals), a.decimals)} over the role rows, "
                           f"{cut}: paid {grouped(line.paid(book, k), a.decimals)}.")  # fmt: skip
        steps.append(s)
    return steps


def kat_steps(month: Any, member: str) -> list[Step]:
    """The member's ledger rows, level, KAT and the caps, for one KAT month."""
    key = member_key(member)
    c, p, d = month.config, month.period, month.config.decimals
    result = next((m for m in p.members if member_key(m.member) == key), None)
    if result is None:
        return [Step("Not in this month", ["The member has no ledger row and no carried state this month."])]
    rows = Step("Ledger rows (credits)")
    for r in month.results:
        if member_key(r.member) != key or r.history:
            continue
        if r.counted:
            why = f"counted: {r.credits} credits"
        else:
            why = "not counted: " + (r.reason or "; ".join(r.problems) or r.status)
        rows.lines.append(f"{r.entry or '(no id)'} · {r.rule} × {r.quantity if r.quantity is not None else '?'} · "
                          f"{r.status}: {why}.")  # fmt: skip
    if not rows.lines:
        rows.lines.append("No ledger row in the period.")
    rows.lines.append(f"Credits this period: {result.credits}.")
    level = Step("Karma level")
    change = ("unchanged" if result.level == result.level_before
              else "promoted" if result.level > result.level_before else "demoted")  # fmt: skip
    level.lines.append(f"Level {result.level_before} → {result.level} ({change})"
                       + (f": {result.reason}." if result.reason else ".")
                       + f" Streak {result.streak}; multiplier {result.multiplier}.")  # fmt: skip
    kat = Step("KAT")
    kat.lines.append(f"raw = credits × KAT per credit × multiplier = {result.credits} × {c.kat_per_credit} × "
                     f"{result.multiplier} = {grouped(result.raw, d)}.")  # fmt: skip
    if result.capped < result.raw:
        kat.lines.append(f"The per-member cap {grouped(c.per_user_cap, d)} cut it to {grouped(result.capped, d)}.")
    else:
        kat.lines.append(
            f"Under the per-member cap ({grouped(c.per_user_cap, d)}): capped = {grouped(result.capped, d)}."
        )
    if p.global_cap_engaged:
        kat.lines.append(f"All members' capped KAT ({grouped(p.total_capped, d)}) exceeded the global cap "
                         f"{grouped(c.global_cap, d)}: scale r = {p.scale}, scaled = {grouped(result.scaled, d)}.")  # fmt: skip
    else:
        kat.lines.append(f"The global cap ({grouped(c.global_cap, d)}) was not reached: no scaling.")
    kat.lines.append(f"KAT = ROUNDDOWN(scaled, {d}) = {grouped(result.kat, d)}; cumulative {grouped(result.cumulative, d)}, "
                     f"tier {result.tier or '(none)'}.")  # fmt: skip
    return [rows, level, kat]


def pools_steps(month: Any, member: str) -> list[Step]:
    """Each task the member scored on (the pool, TPWS and scorers, the PWR), then per asset the
    sum, the cap and the rounding (grape.md section 6)."""
    from fractions import Fraction

    key = member_key(member)
    row = next((r for r in month.rows if member_key(r.member) == key), None)
    if row is None:
        return []
    first, main = month.assets[0], month.allocations[0]
    steps: list[Step] = []
    for t, result in enumerate(main.tasks):
        score = row.scores[t]
        if not score:
            continue
        s = Step(f"Task {result.task}")
        shown = row.shown[t] if isinstance(row.shown[t], str) else percent(score)
        s.lines.append(f"Score (PWS) {shown}"
                       + (f" = {percent(score)}." if isinstance(row.shown[t], str) else "."))  # fmt: skip
        s.lines.append(f"Pool PAT = {first.name} budget × share {result.share} / sum of shares = "
                       f"{grouped(result.pat, 6)}.")  # fmt: skip
        if result.scorers == 1:
            s.lines.append("The member is the task's only scorer above 0: PWR = PWS × PAT (the rest of the pool "
                           "returns to the treasury).")  # fmt: skip
        else:
            s.lines.append(f"{result.scorers} members score above 0, TPWS = {result.tpws}: PWR = PWS / TPWS × PAT.")
        pwr = Fraction(score) * result.rate
        s.lines.append(f"PWR = {grouped(pwr, 6)} {first.name}.")
        steps.append(s)
    for asset, allocation in zip(month.assets, month.allocations, strict=True):
        m = next((x for x in allocation.members if member_key(x.member) == key), None)
        if m is None:
            continue
        d = asset.decimals
        s = Step(f"{asset.name}: total")
        s.lines.append(f"Sum of PWR before the cap: {grouped(m.before_cap, d + 3)} {asset.name}.")
        if month.max_share is not None:
            s.lines.append(f"Cap: {percent(month.max_share)} of the budget {grouped(asset.budget, d)}"
                           + (" cut the member's amount; the cut returns to the treasury." if m.capped
                              else " did not cut the amount."))  # fmt: skip
        s.lines.append(f"Rounded down to {d} decimals: {grouped(m.total, d)} {asset.name}.")
        steps.append(s)
    return steps
