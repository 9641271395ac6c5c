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
from itertools import compress, repeat
from operator import add, and_, eq, itemgetter, mul, ne, not_
from typing import Any

from ..bulk import without_cycle_collection
from ..dates import parse_month
from ..errors import InputError
from ..names import member_key
from ..numbers import AMOUNT_PLACES, EXACT, from_units, round_half_up
from .config import KatConfig
from .records import DECISIONS, STATUSES, ExceptionRecord, Ledger, LedgerRow, MemberState


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
    #: capped x r, rounded half up to 12 places for display (exact: capped x KatPeriod.scale_exact)
    scaled: Decimal
    kat: Decimal
    cumulative: Decimal
    tier: str
    #: the level change in words: "inactive 76 days (>= 60)", "active 3 periods in a row (>= 3)", ...
    reason: str = ""
    #: days since last active (or first seen) at the period's end; None when neither is known
    idle_days: int | None = None


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
        return [asdict(m) for m in self.members]

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
        return _compute(config, month, Ledger.of(ledger), exceptions, states)


def _compute(
    config: KatConfig, month: str, ledger: Ledger, exceptions: Iterable[ExceptionRecord],
    states: Iterable[MemberState],
) -> KatPeriod:  # fmt: skip
    start, end = parse_month(month, where="month")
    period = f"{start.year:04d}-{start.month:02d}"
    carried = _states(config, states)
    columns = ledger.columns
    member_keys = _memo_map(member_key, columns["member"])
    rows, tally = _evaluate_rows(config, period, start, end, ledger, member_keys)
    upheld, open_exceptions = _exceptions(period, end, exceptions, set(carried) | set(member_keys))

    # A member's name is as first typed (the state's, if carried); first seen is their earliest row.
    # A row without a member blocks settlement; it makes no member.
    typed = dict(zip(reversed(member_keys), reversed(columns["member"]), strict=True))
    typed.pop("", None)
    names = {k: m.strip() for k, m in typed.items()} | {k: s.member for k, s in carried.items()}
    first_dates = tally.first_dates

    credits = _credits(config, tally)
    last_counted, per_user_cap, kat_per_credit = tally.last_counted, config.per_user_cap, config.kat_per_credit
    members: list[tuple[str, str, MemberState, dict[str, Any], Decimal, Decimal, Decimal, Decimal]] = []
    with localcontext(EXACT):
        for k, name in names.items():
            state = carried.get(k) or MemberState(name, config.start_level)
            karma = karma_step(config, end, state, last_counted.get(k), k in upheld, first_dates.get(k))
            c = credits.get(k, _ZERO)
            multiplier = config.multiplier(karma["level"])
            raw = c * kat_per_credit * multiplier
            members.append((k, name, state, karma, c, multiplier, raw, min(raw, per_user_cap)))
        total = sum(map(itemgetter(7), members), _ZERO)
    # r = MIN(1, global_cap / T) as a ratio of integers: each member's exact share is then two integer
    # products, and ROUNDDOWN (and the 12-place display, half up) an integer division.
    if total <= config.global_cap:
        scale_num, scale_den = 1, 1
    else:
        (cap_num, cap_den), (total_num, total_den) = config.global_cap.as_integer_ratio(), total.as_integer_ratio()
        scale_num, scale_den = cap_num * total_den, cap_den * total_num
    scale = Fraction(scale_num, scale_den)
    d = config.decimals
    unit, display = 10**d, 2 * 10**AMOUNT_PLACES
    results: list[MemberResult] = []
    minted_units = 0
    with localcontext(EXACT):
        for _k, name, state, karma, c, multiplier, raw, capped in sorted(members, key=itemgetter(0, 1)):
            capped_num, capped_den = capped.as_integer_ratio()
            num, den = capped_num * scale_num, capped_den * scale_den
            kat_units = num * unit // den
            minted_units += kat_units
            kat = from_units(kat_units, d)
            cumulative = state.cumulative + kat
            results.append(MemberResult(
                member=name, credits=c, multiplier=multiplier, raw=raw, capped=capped,
                scaled=from_units((num * display + den) // (2 * den), AMOUNT_PLACES), kat=kat, cumulative=cumulative,
                tier=config.tier(cumulative).name, **karma,
            ))  # fmt: skip
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


def _memo_map(function: Any, values: list) -> list:
    """function(value) for each value, computed once per distinct value: members, rules, verifiers
    and dates repeat row after row. Values must be strings or dates (1, True and Decimal(1) are
    equal as dict keys, and _quantity tells them apart)."""
    memo = {v: function(v) for v in set(values)}
    return list(map(memo.__getitem__, values))


@dataclass
class Tally:
    """What the counted rows add up to, per member: events per rule, the latest counted date."""

    #: counted events per (member, rule)
    events: Counter[tuple[str, str]] = field(default_factory=Counter)
    last_counted: dict[str, dt.date] = field(default_factory=dict)
    #: each member's earliest dated row, counted or not (for first_seen)
    first_dates: dict[str, dt.date] = field(default_factory=dict)


@dataclass(frozen=True)
class KarmaRules:
    """What Karma's step reads of a configuration (kat.md section 3)."""

    inactivity_days: int
    promote_after: int
    top_level: int


class RowResults(Sequence[RowResult]):
    """Every ledger row's outcome, made on demand. A ledger has 100,000 rows and nearly all of them
    simply count: those are kept as the row itself and turned into a RowResult when someone reads
    it; rows with a problem or a reason are kept whole."""

    def __init__(self, ledger: Sequence[LedgerRow], config: KatConfig, start: dt.date) -> None:
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
    config: KatConfig, period: str, start: dt.date, end: dt.date, ledger: Ledger, member_keys: list[str]
) -> tuple[RowResults, Tally]:
    """Each row's outcome, and what the counted rows add up to.

    The common row (verified, in the period, nothing wrong) is recognised column by column at C
    speed; only the others go row by row, through the path that names every problem."""
    c = ledger.columns
    n = len(ledger)
    rules = config.rules_by_key
    entry_keys = _keys_of(c["entry"])
    if len(set(entry_keys)) == n:
        twice: set[str] = set()
    else:
        twice = {k for k, count in Counter(entry_keys).items() if count > 1}
    rule_keys = _memo_map(member_key, c["rule"])
    verifiers = _memo_map(member_key, c["verified_by"])
    raw_quantities = c["quantity"]
    if set(map(type, raw_quantities)) <= {str}:
        quantities = _memo_map(_quantity, raw_quantities)
    else:
        quantities = list(map(_quantity, raw_quantities))
    groups = {k: member_key(r.stakeholder) for k, r in rules.items()}
    in_period = {d: d is not None and d <= end for d in {*c["date"], *c["verified_on"]}}
    evidence = list(map(str.strip, c["evidence"]))
    simple = _all_rows(n, [
        map("verified".__eq__, c["status"]),
        # Each test below is left out when no row can fail it (the usual month): a ledger has 100,000 rows.
        any(c["settled"]) and map(not_, c["settled"]),
        None in quantities and quantities,
        "" in member_keys and member_keys,
        "" in verifiers and verifiers,
        map(ne, verifiers, member_keys),
        "" in entry_keys and entry_keys,
        bool(twice) and map(not_, map(twice.__contains__, entry_keys)),
        map(eq, _memo_map(member_key, c["stakeholder"]), map(groups.get, rule_keys)),
        not all(in_period[d] for d in set(c["date"])) and map(in_period.__getitem__, c["date"]),
        not all(in_period[d] for d in set(c["verified_on"])) and map(in_period.__getitem__, c["verified_on"]),
        not all(evidence) and evidence,
    ])  # fmt: skip

    results = RowResults(ledger, config, start)
    kept = results.kept
    tally = Tally()
    events, last_counted = tally.events, tally.last_counted
    _count_events(events, member_keys, rule_keys, quantities, simple)
    # Rows in date order, once (integer keys sort fast): each member's latest counted date, and
    # earliest date of all (first seen; read backwards, so undated rows, sorted last, come first and are overwritten).
    dates = c["date"]
    order = sorted(range(n), key=_memo_map(_day_number, dates).__getitem__)
    keys_by_date, dates_by_date = list(map(member_keys.__getitem__, order)), list(map(dates.__getitem__, order))
    counted_by_date = list(map(simple.__getitem__, order))
    last_counted.update(
        zip(compress(keys_by_date, counted_by_date), compress(dates_by_date, counted_by_date), strict=True)
    )
    first = dict(zip(reversed(keys_by_date), reversed(dates_by_date), strict=True))
    tally.first_dates = {k: d for k, d in first.items() if k and d is not None}

    counted = simple[:]  # and the unusual rows that count all the same, below
    statuses, settled, entries, members, rule_texts, wheres = (
        c["status"],
        c["settled"],
        c["entry"],
        c["member"],
        c["rule"],
        c["where"],
    )
    for i in compress(range(n), map(not_, simple)):
        member, rule_key, quantity, status, entry_key = (
            member_keys[i],
            rule_keys[i],
            quantities[i],
            statuses[i],
            entry_keys[i],
        )
        if (
            status in _OPEN and not settled[i] and member and entry_key and entry_key not in twice
            and (quantity or status == "void")
        ):  # fmt: skip
            # The other common row: pending, disputed or void as typed, nothing wrong; it does not count.
            kept[i] = RowResult(entries[i], members[i], rule_texts[i], status, quantity, False, False, False, (),
                                _OPEN[status], _ZERO, False, wheres[i])  # fmt: skip
            continue
        row = ledger[i]
        status = status.strip().lower()
        rule = rules.get(rule_key)
        history = bool(row.settled) and _settled_before(row.settled, period, row.where)
        problems: list[str] = []
        reason = ""
        entry_key = entry_keys[i]
        if not entry_key:
            problems.append("the entry id is blank")
        elif entry_key in twice:
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
            problems += _verified_problems(row, member, rule, end)
            if not problems and row.verified_on > end:  # type: ignore[operator]
                reason = "verified after the period: counts in the next one"
        elif status in _OPEN:
            reason = _OPEN[status]
        count = status == "verified" and not problems and not reason
        if count:  # a verified row with surrounding spaces or capitals, say: it counts like any other
            events[member, rule_key] += quantity  # type: ignore[operator]
            if member not in last_counted or last_counted[member] < row.date:  # type: ignore[operator]
                last_counted[member] = row.date  # type: ignore[assignment]
            counted[i] = True
        kept[i] = RowResult(
            row.entry, row.member, row.rule, status, quantity, count, count and row.date < start,  # type: ignore[operator]
            False, tuple(problems), reason, rule.credits * quantity if count else _ZERO, history, row.where,  # type: ignore[union-attr,operator]
        )  # fmt: skip
    results.beyond = _beyond_limits(config, events, counted, member_keys, rule_keys, quantities, c["date"], entry_keys)
    return results, tally


def _all_rows(n: int, tests: list) -> list[bool]:
    """Row i passes when every test's i-th value is true; a test given as False is left out."""
    tests = [t for t in tests if t is not False]
    return list(map(all, zip(*tests, strict=True))) if tests else [True] * n


def _count_events(
    events: Counter[tuple[str, str]], members: list[str], rules: list[str], quantities: list, counted: list[bool]
) -> None:  # fmt: skip
    """events[member, rule] += quantity over the counted rows, at C speed: each pair coded as one
    integer (counting integers is three times as fast as counting pairs), quantities above 1 added after."""
    member_ids = {k: i for i, k in enumerate(set(members))}
    rule_list = list(set(rules))
    width = len(rule_list)
    rule_ids = {k: i for i, k in enumerate(rule_list)}
    codes = list(compress(map(add, map(mul, map(member_ids.__getitem__, members), repeat(width)),
                              map(rule_ids.__getitem__, rules)), counted))  # fmt: skip
    counts = Counter(codes)
    extra = list(compress(quantities, counted))
    for code, q in compress(zip(codes, extra, strict=True), map(ne, extra, repeat(1))):
        counts[code] += q - 1
    by_id = list(member_ids)
    events.update({(by_id[code // width], rule_list[code % width]): count for code, count in counts.items()})


def _beyond_limits(
    config: KatConfig, events: Counter[tuple[str, str]], counted: list[bool], member_keys: list[str],
    rule_keys: list[str], quantities: list, dates: list, entry_keys: list[str],
) -> set[int]:  # fmt: skip
    """The counted rows past their rule's limit: a member's events of the rule in date order (then
    entry id), those after the limit is reached. Only the (member, rule) pairs over a limit are looked at."""
    limits = {k: r.limit for k, r in config.rules_by_key.items() if r.limit is not None}
    over = {pair for pair, total in events.items() if pair[1] in limits and total > limits[pair[1]]}
    beyond: set[int] = set()
    if not over:
        return beyond
    rows: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in compress(range(len(counted)), map(and_, counted, map({m for m, _ in over}.__contains__, member_keys))):
        pair = (member_keys[i], rule_keys[i])
        if pair in over:
            rows[pair].append(i)
    for (_member, rule_key), indices in rows.items():
        used = 0
        for i in sorted(indices, key=lambda i: (dates[i], entry_keys[i], i)):
            used += quantities[i]
            if used > limits[rule_key]:  # type: ignore[operator]
                beyond.add(i)
    return beyond


def _day_number(day: dt.date | None) -> int:
    """A date as an integer that sorts as it does; no date sorts last (after 9999-12-31)."""
    return day.toordinal() if day is not None else 10**7


_ZERO = Decimal(0)
#: why a row with one of these statuses does not count
_OPEN = {
    "pending": "pending: carried open into the next period",
    "disputed": "disputed: carried open into the next period",
    "void": "void",
}


def _verified_problems(row: LedgerRow, member: str, rule: Any, end: dt.date) -> list[str]:
    problems = []
    if rule is None:
        problems.append(f"rule {row.rule.strip() or '(blank)'} does not exist")
    elif member_key(row.stakeholder) != member_key(rule.stakeholder):
        problems.append(
            f"stakeholder {row.stakeholder.strip() or '(blank)'} is not rule {rule.id}'s ({rule.stakeholder})"
        )
    if not row.evidence.strip():
        problems.append("no evidence")
    if not row.verified_by.strip():
        problems.append("no verifier (verified_by is blank)")
    elif member_key(row.verified_by) == member:
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
    """credits(m) = sum over rules of MIN(events, limit) x the rule's credits.

    Summed as whole units of the rules' finest decimal place (exact, and much faster than
    Decimals for 5,000 members), turned into a Decimal once per member."""
    rules = config.rules_by_key
    places = max((-r.credits.as_tuple().exponent for r in rules.values()), default=0)  # type: ignore[operator]
    places = max(places, 0)
    units = {k: int(r.credits.scaleb(places, EXACT)) for k, r in rules.items()}
    limits = {k: r.limit for k, r in rules.items()}
    totals: dict[str, int] = defaultdict(int)
    for (member, rule_key), n in tally.events.items():
        limit = limits[rule_key]
        totals[member] += (n if limit is None or n <= limit else limit) * units[rule_key]
    return {member: Decimal(total).scaleb(-places, EXACT) for member, total in totals.items()}


def karma_step(
    config: KarmaRules | KatConfig, end: dt.date, state: MemberState, last_counted: dt.date | None, upheld: bool,
    first_date: dt.date | None = None,
) -> dict[str, Any]:  # fmt: skip
    """kat.md section 3 for one member: from the state carried in, the latest counted row of the
    period (None: not active), an upheld exception, and the member's first ledger row, the level,
    streak, activity and the reason, in words. ``config`` needs only inactivity_days,
    promote_after and top_level (a KatConfig, or KarmaRules for the Excel function KAT_LEVEL)."""
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
