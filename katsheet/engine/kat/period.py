"""One period of KAT, in kat.md's order: Credits (section 2), then Karma (3), then KAT (4).

Every intermediate figure is kept in the result, per row, per member and per period, so that a
table, a workbook or a dashboard can show each step. Arithmetic is exact: Decimal sums and products
run in a context that cannot round, the pro-rata scale is a Fraction, and the only rounding is
kat.md's ROUNDDOWN of each member's KAT.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from ..bulk import without_cycle_collection
from ..dates import parse_month
from ..errors import InputError
from ..names import member_key
from ..numbers import AMOUNT_PLACES, EXACT, round_down, round_half_up
from .config import KatConfig
from .records import DECISIONS, STATUSES, ExceptionRecord, LedgerRow, MemberState


@dataclass(slots=True)
class RowResult:
    """What became of one ledger row in the period."""

    entry: str
    member: str
    rule: str
    status: str
    quantity: int | None
    counted: bool
    late: bool
    beyond_limit: bool
    problems: tuple[str, ...]
    #: why a row without problems did not count (pending, disputed, void, verified after the period)
    reason: str = ""
    #: quantity x the rule's credits, before the rule's limit (0 when it does not count)
    credits: Decimal = Decimal(0)
    history: bool = False
    where: str = ""


@dataclass(slots=True)
class MemberResult:
    """One member's period: Karma first, then KAT."""

    member: str
    level_before: int
    level: int
    multiplier: Decimal
    active: bool
    inactive: bool
    upheld: bool
    streak: int
    last_active: dt.date | None
    first_seen: dt.date | None
    credits: Decimal
    raw: Decimal
    capped: Decimal
    scaled: Decimal
    kat: Decimal
    cumulative: Decimal
    tier: str
    #: the level change in words: "inactive 76 days (>= 60)", "active 3 periods in a row (>= 3)", ...
    reason: str = ""
    #: days since last active (or first seen) at the period's end; None when neither is known
    idle_days: int | None = None
    #: the exact scaled amount (``scaled`` is it rounded half up to 12 places, for display)
    scaled_exact: Fraction = field(default=Fraction(0), repr=False, compare=False)


@dataclass(frozen=True)
class MintRow:
    settlement_id: str
    period: str
    member: str
    amount: Decimal


@dataclass(frozen=True)
class KatPeriod:
    """The whole period: the per-member and per-row figures and the totals of kat.md section 4."""

    config: KatConfig
    period: str
    start: dt.date
    end: dt.date
    settlement_id: str
    members: tuple[MemberResult, ...]
    rows: Sequence[RowResult]
    total_capped: Decimal
    scale_exact: Fraction
    global_cap_engaged: bool
    minted: Decimal
    residue: Decimal
    mint_list: tuple[MintRow, ...]
    open_exceptions: tuple[ExceptionRecord, ...] = ()

    @property
    def scale(self) -> Decimal:
        """r = MIN(1, global_cap / T), rounded half up to 12 places for display (exact inside)."""
        return round_half_up(self.scale_exact, AMOUNT_PLACES)

    @property
    def blocking(self) -> tuple[RowResult, ...]:
        """The rows whose problems must be fixed (or the rows voided) before the period settles."""
        return tuple(r for r in self._unusual() if r.problems)

    @property
    def carried(self) -> tuple[RowResult, ...]:
        """Pending and disputed rows: open, carried into the next period."""
        return tuple(r for r in self._unusual() if not r.history and r.status in ("pending", "disputed"))

    def _unusual(self) -> Iterable[RowResult]:
        """Only rows that did not simply count can have problems or be carried."""
        rows = self.rows
        return rows.kept_rows() if isinstance(rows, RowResults) else rows

    def records(self) -> list[dict[str, Any]]:
        """The members' figures as dicts (exact Decimals), one per member."""
        return [{k: v for k, v in asdict(m).items() if k != "scaled_exact"} for m in self.members]

    def to_frame(self):  # -> pandas.DataFrame; pandas imported here so the engine stays light
        """The members' figures as a pandas DataFrame (Decimal values, exact)."""
        import pandas as pd

        return pd.DataFrame(self.records())

    def rows_frame(self):
        """The ledger rows' outcomes as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.rows])


def compute_period(
    config: KatConfig,
    month: str,
    ledger: Iterable[LedgerRow],
    exceptions: Iterable[ExceptionRecord] = (),
    states: Iterable[MemberState] = (),
) -> KatPeriod:
    """Credits, Karma and KAT of ``month`` (YYYY-MM) as kat.md sections 2 to 4 say."""
    with without_cycle_collection():
        return _compute(config, month, list(ledger), exceptions, states)


def _compute(
    config: KatConfig, month: str, ledger: list[LedgerRow], exceptions: Iterable[ExceptionRecord],
    states: Iterable[MemberState],
) -> KatPeriod:  # fmt: skip
    start, end = parse_month(month, where="month")
    period = f"{start.year:04d}-{start.month:02d}"
    carried = _states(config, states)
    key = _Keys()
    get = key.get
    member_keys = [get(m) or key(m) for m in [row.member for row in ledger]]
    rows, tally = _evaluate_rows(config, period, start, end, ledger, member_keys, key)
    upheld, open_exceptions = _exceptions(period, end, exceptions, set(carried) | set(member_keys))

    names: dict[str, str] = {k: s.member for k, s in carried.items()}
    first_dates: dict[str, dt.date] = {}
    for row, k in zip(ledger, member_keys, strict=True):
        if not k:
            continue  # a row without a member blocks settlement; it makes no member
        if k not in names:
            names[k] = row.member.strip()
        day = row.date
        if day is not None and (k not in first_dates or day < first_dates[k]):
            first_dates[k] = day

    credits = _credits(config, tally)
    members: list[dict[str, Any]] = []
    with localcontext(EXACT):
        for k, name in names.items():
            state = carried.get(k) or MemberState(name, config.start_level)
            figures = _karma(config, end, state, tally.last_counted.get(k), k in upheld, first_dates.get(k))
            c = credits.get(k, _ZERO)
            multiplier = config.multiplier(figures["level"])
            raw = c * config.kat_per_credit * multiplier
            figures.update(member=name, credits=c, multiplier=multiplier, raw=raw, capped=min(raw, config.per_user_cap),
                           cumulative_before=state.cumulative)  # fmt: skip
            members.append(figures)
        total = sum((m["capped"] for m in members), Decimal(0))
    scale = Fraction(1) if total <= config.global_cap else Fraction(config.global_cap) / Fraction(total)
    d = config.decimals
    results: list[MemberResult] = []
    minted_units = 0
    for m in sorted(members, key=lambda m: (member_key(m["member"]), m["member"])):
        exact = Fraction(m["capped"]) * scale if scale != 1 else Fraction(m["capped"])
        kat = round_down(exact, d)
        minted_units += int(kat.scaleb(d, EXACT))
        with localcontext(EXACT):
            cumulative = m.pop("cumulative_before") + kat
        results.append(MemberResult(**m, scaled=round_half_up(exact, AMOUNT_PLACES), kat=kat, cumulative=cumulative,
                                    tier=config.tier(cumulative).name, scaled_exact=exact))  # fmt: skip
    minted = Decimal(minted_units).scaleb(-d, EXACT)
    with localcontext(EXACT):
        residue = min(total, config.global_cap) - minted
    settlement_id = config.settlement_id(start.year, start.month)
    mint_list = tuple(MintRow(settlement_id, period, m.member, m.kat) for m in results if m.kat > 0)
    return KatPeriod(
        config=config, period=period, start=start, end=end, settlement_id=settlement_id, members=tuple(results),
        rows=rows, total_capped=total, scale_exact=scale, global_cap_engaged=scale < 1, minted=minted,
        residue=residue, mint_list=mint_list, open_exceptions=tuple(open_exceptions),
    )  # fmt: skip


def _states(config: KatConfig, states: Iterable[MemberState]) -> dict[str, MemberState]:
    out: dict[str, MemberState] = {}
    for s in states:
        key = member_key(s.member)
        if not key:
            raise InputError("the member is blank", where=s.where)
        if key in out:
            raise InputError(f"the member is listed twice in the state (also at {out[key].where})", where=s.where,
                             value=s.member)  # fmt: skip
        if not 0 <= s.level <= config.top_level:
            raise InputError(f"the level must be one of 0..{config.top_level}", where=s.where, value=s.level)
        if s.streak < 0:
            raise InputError("the streak must be a whole number >= 0", where=s.where, value=s.streak)
        if s.cumulative < 0:
            raise InputError("cumulative KAT must be >= 0", where=s.where, value=str(s.cumulative))
        out[key] = s
    return out


def _settled_before(settled: str, period: str, where: str) -> bool:
    """Is this record sealed by an earlier period (history)? A later one is impossible: refuse it."""
    text = settled.strip()
    if not text:
        return False
    start, _ = parse_month(text, where=f"{where}, column settled")
    label = f"{start.year:04d}-{start.month:02d}"
    if label > period:
        raise InputError(f"was settled in a period after {period}", where=f"{where}, column settled", value=text)
    return label < period


def _quantity(value: object) -> int | None:
    """A whole number of events >= 1 (blank is 1), else None."""
    if type(value) is str:
        if value.isdecimal() and len(value) < 10:  # the common case, "1" or "2"
            number = int(value)
            return number if number >= 1 else None
        if not value.strip():
            return 1
    elif value is None:
        return 1
    elif type(value) is int:
        return value if value >= 1 else None
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except ArithmeticError:
        return None
    if not number.is_finite() or number != number.to_integral_value() or number < 1 or number.adjusted() > 9:
        return None
    return int(number)


def _keys_of(texts: list[str]) -> list[str]:
    """member_key of each text: at C speed when none has spaces to trim or collapse (entry ids)."""
    joined = "\n".join(texts)
    if not ("  " in joined or " \n" in joined or "\n " in joined or joined[:1] == " " or joined[-1:] == " "):
        keys = joined.casefold().split("\n")
        if len(keys) == len(texts):  # else a text held a line break of its own
            return keys
    return [member_key(t) for t in texts]


class _Keys(dict):
    """member_key, remembered: members, rules and verifiers repeat row after row."""

    def __call__(self, text: str) -> str:
        found = self.get(text)
        if found is None:
            found = self[text] = member_key(text)
        return found


@dataclass
class Tally:
    """What the counted rows add up to, per member: events per rule, the latest counted date."""

    events: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    last_counted: dict[str, dt.date] = field(default_factory=dict)
    #: counted rows of rules with a limit, per (member, rule): (row index, quantity)
    limited: dict[tuple[str, str], list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))


class RowResults(Sequence[RowResult]):
    """Every ledger row's outcome, made on demand. A ledger has 100,000 rows and nearly all of them
    simply count: those are kept as the row itself and turned into a RowResult when someone reads
    it; rows with a problem or a reason are kept whole."""

    def __init__(self, ledger: list[LedgerRow], config: KatConfig, start: dt.date) -> None:
        self.ledger, self.config, self.start = ledger, config, start
        self.kept: dict[int, RowResult] = {}
        self.beyond: set[int] = set()

    def __len__(self) -> int:
        return len(self.ledger)

    def _make(self, i: int) -> RowResult:
        kept = self.kept.get(i)
        if kept is None:
            row = self.ledger[i]
            quantity = _quantity(row.quantity)
            rule = self.config.rule(row.rule)
            kept = RowResult(row.entry, row.member, row.rule, "verified", quantity, True, row.date < self.start,  # type: ignore[operator]
                             False, (), "", rule.credits * quantity, False, row.where)  # type: ignore[union-attr,operator]  # fmt: skip
        if i in self.beyond:
            kept = replace(kept, beyond_limit=True)
        return kept

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self._make(j) for j in range(*i.indices(len(self)))]
        return self._make(range(len(self))[i])

    def __iter__(self) -> Iterator[RowResult]:
        return (self._make(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def kept_rows(self) -> list[RowResult]:
        """The rows that did not simply count (problems, pending, void, ...), in ledger order."""
        return [self._make(i) for i in sorted(self.kept)]


def _evaluate_rows(
    config: KatConfig, period: str, start: dt.date, end: dt.date, ledger: list[LedgerRow], member_keys: list[str],
    key: _Keys,
) -> tuple[RowResults, Tally]:  # fmt: skip
    """Each row's outcome, and what the counted rows add up to."""
    entry_keys = _keys_of([row.entry for row in ledger])
    seen = Counter(entry_keys)
    results = RowResults(ledger, config, start)
    kept = results.kept
    tally = Tally()
    events, last_counted, limited = tally.events, tally.last_counted, tally.limited
    rules = config.rules_by_key
    get = key.get
    rule_groups = {k: key(r.stakeholder) for k, r in rules.items()}
    limited_rules = {k for k, r in rules.items() if r.limit is not None}
    for i, row in enumerate(ledger):
        member = member_keys[i]
        if row.status == "verified" and not row.settled:
            # The common row, tested in one go: it counts. Anything else takes the path below that names
            # every problem (a ledger has 100,000 rows; this keeps them about a microsecond each).
            q = row.quantity
            quantity = int(q) if type(q) is str and q.isdecimal() and len(q) < 10 else _quantity(q)
            rule_key = get(row.rule) or key(row.rule)
            verifier = get(row.verified_by) or key(row.verified_by)
            day, verified_on, entry_key = row.date, row.verified_on, entry_keys[i]
            if (
                quantity and member and verifier and verifier != member and entry_key and seen[entry_key] == 1
                and rule_key in rule_groups and (get(row.stakeholder) or key(row.stakeholder)) == rule_groups[rule_key]
                and day is not None and day <= end and verified_on is not None and verified_on <= end
                and row.evidence.strip()
            ):  # fmt: skip
                events[member][rule_key] += quantity
                if member not in last_counted or last_counted[member] < day:
                    last_counted[member] = day
                if rule_key in limited_rules:
                    limited[member, rule_key].append((i, quantity))
                continue
        status = row.status.strip().lower()
        quantity = _quantity(row.quantity)
        rule_key = key(row.rule)
        rule = rules.get(rule_key)
        history = bool(row.settled) and _settled_before(row.settled, period, row.where)
        problems: list[str] = []
        reason = ""
        entry_key = entry_keys[i]
        if not entry_key:
            problems.append("the entry id is blank")
        elif seen[entry_key] > 1:
            problems.append(f"entry id {row.entry.strip()} is used twice")
        if not member:
            problems.append("the member is blank")
        if status not in STATUSES:
            problems.append("status must be pending, verified, disputed or void")
        elif quantity is None and status != "void":
            problems.append("quantity must be a whole number >= 1")
        if history:
            problems.clear()  # sealed by an earlier period: its chain, not this period, answers for it
            reason = f"settled in {row.settled.strip()}"
        elif status == "verified":
            problems += _verified_problems(row, member, rule, end, key)
            if not problems and row.verified_on > end:  # type: ignore[operator]
                reason = "verified after the period: counts in the next one"
        elif status in ("pending", "disputed"):
            reason = f"{status}: carried open into the next period"
        elif status == "void":
            reason = "void"
        count = status == "verified" and not problems and not reason
        if count:  # a verified row with surrounding spaces or capitals, say: it counts like any other
            events[member][rule_key] += quantity  # type: ignore[operator]
            if member not in last_counted or last_counted[member] < row.date:  # type: ignore[operator]
                last_counted[member] = row.date  # type: ignore[assignment]
            if rule_key in limited_rules:
                limited[member, rule_key].append((i, quantity))  # type: ignore[arg-type]
        kept[i] = RowResult(
            row.entry, row.member, row.rule, status, quantity, count, count and row.date < start,  # type: ignore[operator]
            False, tuple(problems), reason, rule.credits * quantity if count else _ZERO, history, row.where,  # type: ignore[union-attr,operator]
        )  # fmt: skip
    for (_member, rule_key), items in limited.items():
        limit = rules[rule_key].limit
        if sum(q for _, q in items) <= limit:  # type: ignore[operator]
            continue
        used = 0
        for i, q in sorted(items, key=lambda item: (ledger[item[0]].date, entry_keys[item[0]], item[0])):
            used += q
            if used > limit:  # type: ignore[operator]
                results.beyond.add(i)
    return results, tally


_ZERO = Decimal(0)


def _verified_problems(row: LedgerRow, member: str, rule: Any, end: dt.date, key: Any = member_key) -> list[str]:
    problems = []
    if rule is None:
        problems.append(f"rule {row.rule.strip() or '(blank)'} does not exist")
    elif key(row.stakeholder) != key(rule.stakeholder):
        problems.append(
            f"stakeholder {row.stakeholder.strip() or '(blank)'} is not rule {rule.id}'s ({rule.stakeholder})"
        )
    if not row.evidence.strip():
        problems.append("no evidence")
    if not row.verified_by.strip():
        problems.append("no verifier (verified_by is blank)")
    elif key(row.verified_by) == member:
        problems.append("verified by the member themself")
    if row.date is None:
        problems.append("no date")
    elif row.date > end:
        problems.append(f"dated after the period's end ({end.isoformat()})")
    if row.verified_on is None:
        problems.append("verified but verified_on is blank")
    return problems


def _exceptions(
    period: str, end: dt.date, exceptions: Iterable[ExceptionRecord], known: set[str]
) -> tuple[dict[str, list[str]], list[ExceptionRecord]]:
    """Upheld exceptions per member in the period, and the open ones (carried)."""
    ids: dict[str, str] = {}
    upheld: dict[str, list[str]] = defaultdict(list)
    still_open: list[ExceptionRecord] = []
    for e in exceptions:
        key = member_key(e.id)
        if not key:
            raise InputError("the exception id is blank", where=e.where)
        if key in ids:
            raise InputError(f"the exception id is used twice (also at {ids[key]})", where=e.where, value=e.id)
        ids[key] = e.where
        decision = e.decision.strip().lower()
        if decision not in DECISIONS:
            raise InputError("the decision must be open, upheld or dismissed", where=e.where, value=e.decision)
        if member_key(e.member) not in known:
            raise InputError("the exception names a member who is neither in the state nor in the ledger",
                             where=e.where, value=e.member)  # fmt: skip
        if _settled_before(e.settled, period, e.where):
            continue
        if decision == "open":
            still_open.append(e)
        elif decision == "upheld" and (e.date is None or e.date <= end):
            upheld[member_key(e.member)].append(e.id.strip())
    return upheld, still_open


def _credits(config: KatConfig, tally: Tally) -> dict[str, Decimal]:
    """credits(m) = sum over rules of MIN(events, limit) x the rule's credits."""
    rules = config.rules_by_key
    out: dict[str, Decimal] = {}
    with localcontext(EXACT):
        for member, per_rule in tally.events.items():
            total = _ZERO
            for rule_key, n in per_rule.items():
                rule = rules[rule_key]
                credited = n if rule.limit is None else min(n, rule.limit)
                total += credited * rule.credits
            out[member] = total
    return out


def _karma(
    config: KatConfig, end: dt.date, state: MemberState, last_counted: dt.date | None, upheld: bool,
    first_date: dt.date | None,
) -> dict[str, Any]:  # fmt: skip
    """kat.md section 3 for one member."""
    active = last_counted is not None
    last_active = max([d for d in (state.last_active, last_counted) if d is not None], default=None)
    first_seen = min([d for d in (state.first_seen, first_date) if d is not None], default=None)
    reference = last_active or first_seen
    idle = (end - reference).days if reference is not None else None
    inactive = idle is not None and idle >= config.inactivity_days
    down = inactive or upheld
    streak = 0 if down or not active else state.streak + 1
    up = not down and streak >= config.promote_after
    level = state.level
    if down:
        level = max(0, state.level - 1)
        why = [f"inactive {idle} days (>= {config.inactivity_days})"] if inactive else []
        why += ["an upheld exception"] if upheld else []
        reason = " and ".join(why)
    elif up and state.level < config.top_level:
        level, reason = state.level + 1, f"active {streak} periods in a row (>= {config.promote_after})"
        streak = 0
    elif up:
        reason = f"active {streak} periods in a row, already at the top level"
    else:
        reason = f"active, streak {streak} of {config.promote_after}" if active else "not active this period"
    return {
        "level_before": state.level, "level": level, "active": active, "inactive": inactive, "upheld": upheld,
        "streak": streak, "last_active": last_active, "first_seen": first_seen, "reason": reason, "idle_days": idle,
    }  # fmt: skip
