"""A DAO's KAT configuration and the shared guardrails it must sit inside (kat.md section 1).

Both arrive as plain mappings (what ``tomllib`` gives, with ``parse_float=Decimal`` so that 0.5 is
exact); the file is read by a shell. Every refusal names the key, the value and the limit. Unknown
keys are refused too: a mistyped ``per_user_cups`` must not silently leave the default in place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from ..errors import InputError
from ..names import check_name, check_text, member_key
from ..numbers import EXACT, parse_decimal, plain

#: Ids end up in settlement ids and file names: letters and digits only.
_CODE = re.compile(r"^[A-Za-z0-9]{1,12}$")


@dataclass(frozen=True)
class Guardrails:
    """The limits every DAO's configuration must respect (shipped as kat_guardrails.toml)."""

    kat_per_credit_max: Decimal = Decimal(10)
    per_user_cap_share: Decimal = Decimal("0.05")
    multiplier_max: Decimal = Decimal(2)
    credits_max: Decimal = Decimal(5)
    decimals_max: int = 18
    forbidden_words: tuple[str, ...] = ()
    source: str = "guardrails"


@dataclass(frozen=True)
class Level:
    number: int
    name: str
    multiplier: Decimal


@dataclass(frozen=True)
class Rule:
    id: str
    stakeholder: str
    trigger: str
    verification: str
    credits: Decimal
    limit: int | None = None


@dataclass(frozen=True)
class Tier:
    name: str
    threshold: Decimal
    privileges: tuple[str, ...] = ()


@dataclass(frozen=True)
class KatConfig:
    """One DAO's configuration, validated: what the engine computes a period with."""

    name: str
    code: str
    kat_per_credit: Decimal
    global_cap: Decimal
    per_user_cap: Decimal
    decimals: int
    start_level: int
    promote_after: int
    inactivity_days: int
    levels: tuple[Level, ...]
    stakeholders: tuple[str, ...]
    rules: tuple[Rule, ...]
    tiers: tuple[Tier, ...]
    period: str = "monthly"
    method: str = "batch-mint"
    #: the rules by member_key of their id (derived from ``rules``)
    rules_by_key: dict[str, Rule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules_by_key", {member_key(r.id): r for r in self.rules})

    @property
    def top_level(self) -> int:
        return len(self.levels) - 1

    def multiplier(self, level: int) -> Decimal:
        return self.levels[level].multiplier

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, compared trimmed and case-blind (as a workbook's MATCH would)."""
        return self.rules_by_key.get(member_key(rule_id))

    def tier(self, cumulative: Decimal) -> Tier:
        """The tier with the highest threshold <= cumulative."""
        best = self.tiers[0]
        for t in self.tiers:
            if t.threshold <= cumulative:
                best = t
        return best

    def settlement_id(self, year: int, month: int) -> str:
        return f"{self.code}-{year:04d}-{month:02d}"


class _Table:
    """A TOML table being read: keys taken one by one, leftovers refused as unknown."""

    def __init__(self, data: object, path: str, source: str) -> None:
        if not isinstance(data, Mapping):
            raise InputError("must be a table", where=f"{source} {path}".strip(), value=_show(data))
        self.data, self.path, self.source = dict(data), path, source
        self.taken: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.source} {self.path + '.' if self.path else ''}{key}"

    def get(self, key: str, default: Any = ...) -> Any:
        self.taken.add(key)
        if key not in self.data:
            if default is ...:
                raise InputError("is missing", where=self.where(key))
            return default
        return self.data[key]

    def text(self, key: str, default: Any = ..., *, blank: bool = False) -> str:
        value = self.get(key, default)
        if not isinstance(value, str):
            raise InputError("must be text (in quotes)", where=self.where(key), value=_show(value))
        if not blank and not value.strip():
            raise InputError("must not be blank", where=self.where(key))
        return check_text(value.strip(), what="text", where=self.where(key))

    def number(self, key: str, default: Any = ...) -> Decimal:
        value = self.get(key, default)
        if isinstance(value, float):  # a shell that forgot parse_float=Decimal: repr is what was typed
            value = repr(value)
        elif isinstance(value, Decimal):
            value = str(value)  # so that a refusal quotes 1E+1000000 as typed, not as Decimal('...')
        return parse_decimal(value, what="the value", where=self.where(key))

    def whole(self, key: str, default: Any = ..., *, low: int, high: int | None = None) -> int:
        value = self.get(key, default)
        number = parse_decimal(value, what="the value", where=self.where(key)) if not isinstance(value, int) else value
        if isinstance(value, bool) or number != int(number) or number < low or (high is not None and number > high):
            span = f"from {low} to {high}" if high is not None else f">= {low}"
            raise InputError(f"must be a whole number {span}", where=self.where(key), value=_show(value))
        return int(number)

    def table(self, key: str) -> _Table:
        return _Table(self.get(key, {}), f"{self.path + '.' if self.path else ''}{key}", self.source)

    def array(self, key: str) -> list[Any]:
        value = self.get(key, [])
        if not isinstance(value, list):
            raise InputError("must be a list", where=self.where(key), value=_show(value))
        return value

    def done(self) -> None:
        extra = sorted(set(self.data) - self.taken)
        if extra:
            raise InputError("is not a key katsheet knows (a typo?)", where=self.where(extra[0]))


def _show(value: object) -> object:
    if isinstance(value, Decimal):
        return plain(value)
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse(problem: str, where: str, value: object) -> InputError:
    return InputError(problem, where=where, value=_show(value))


def parse_guardrails(data: Mapping[str, Any], *, source: str = "guardrails") -> Guardrails:
    """The guardrails file: its own limits are checked for sense (a cohort may tighten or loosen
    them, but not into nonsense such as 40 decimals)."""
    top = _Table(data, "", source)
    s, k, r, t = top.table("settlement"), top.table("karma"), top.table("rules"), top.table("tiers")
    g = Guardrails(
        kat_per_credit_max=s.number("kat_per_credit_max"),
        per_user_cap_share=s.number("per_user_cap_share"),
        decimals_max=s.whole("decimals_max", low=0, high=18),
        multiplier_max=k.number("multiplier_max"),
        credits_max=r.number("credits_max"),
        forbidden_words=tuple(str(w).strip().lower() for w in t.array("forbidden_words") if str(w).strip()),
        source=source,
    )
    for table in (s, k, r, t, top):
        table.done()
    for key, value in (
        ("settlement.kat_per_credit_max", g.kat_per_credit_max),
        ("settlement.per_user_cap_share", g.per_user_cap_share),
        ("karma.multiplier_max", g.multiplier_max),
        ("rules.credits_max", g.credits_max),
    ):
        if value <= 0:
            raise _refuse("must be > 0", f"{source} {key}", value)
    if g.per_user_cap_share > 1:
        raise _refuse("must be at most 1 (a share of the global cap)", f"{source} settlement.per_user_cap_share",
                      g.per_user_cap_share)  # fmt: skip
    return g


def parse_config(data: Mapping[str, Any], guardrails: Guardrails, *, source: str = "DAO.toml") -> KatConfig:
    """A DAO's configuration, refused with one line at the first key outside the guardrails."""
    top = _Table(data, "", source)
    dao, st, karma = top.table("dao"), top.table("settlement"), top.table("karma")
    name = dao.text("name")
    code = dao.text("code")
    if not _CODE.match(code):
        raise _refuse(
            "must be 1 to 12 letters or digits (it names settlements, e.g. CED-2026-11)", dao.where("code"), code
        )
    g = guardrails
    lim = f"(guardrails: {g.source})"

    period = st.text("period", "monthly").lower()
    if period != "monthly":
        raise _refuse("must be monthly (the only period katsheet settles)", st.where("period"), period)
    method = st.text("method", "batch-mint").lower()
    if method != "batch-mint":
        raise _refuse("must be batch-mint (the only method katsheet settles)", st.where("method"), method)
    decimals = st.whole("decimals", 2, low=0, high=g.decimals_max)
    kpc = st.number("kat_per_credit")
    if not 0 < kpc <= g.kat_per_credit_max:
        raise _refuse(f"must be in (0, {plain(g.kat_per_credit_max)}] {lim}", st.where("kat_per_credit"), kpc)
    global_cap = st.number("global_cap")
    if global_cap <= 0:
        raise _refuse(f"must be > 0 {lim}", st.where("global_cap"), global_cap)
    if global_cap.adjusted() + decimals >= 13:
        raise _refuse(
            f"at {decimals} decimals a workbook holds caps below 10^{13 - decimals} (10^13 units of the last decimal)",
            st.where("global_cap"),
            global_cap,
        )
    if global_cap != round(global_cap, decimals):
        raise _refuse(f"has more decimals than the mint list's {decimals}", st.where("global_cap"), global_cap)
    per_user_cap = st.number("per_user_cap")
    with localcontext(EXACT):  # a cohort's share may have many digits: never round the limit
        most = global_cap * g.per_user_cap_share
    if not 0 < per_user_cap <= most:
        raise _refuse(
            f"must be in (0, {plain(most)}], {plain(g.per_user_cap_share * 100)}% of global_cap {lim}",
            st.where("per_user_cap"),
            per_user_cap,
        )

    levels = _levels(karma, g, lim)
    start_level = karma.whole("start_level", 2, low=0)
    if start_level >= len(levels):
        raise _refuse(f"must be one of the levels 0..{len(levels) - 1}", karma.where("start_level"), start_level)
    if levels[start_level].multiplier <= 0:
        raise _refuse(f"must be a level whose multiplier is > 0 {lim}", karma.where("start_level"), start_level)
    promote_after = karma.whole("promote_after", 3, low=1, high=1000)
    inactivity_days = karma.whole("inactivity_days", 60, low=1, high=100_000)

    stakeholders = _stakeholders(top)
    rules = _rules(top, stakeholders, g, lim)
    tiers = _tiers(top, g, lim)
    for table in (dao, st, karma, top):
        table.done()
    return KatConfig(
        name=name, code=code, kat_per_credit=kpc, global_cap=global_cap, per_user_cap=per_user_cap, decimals=decimals,
        start_level=start_level, promote_after=promote_after, inactivity_days=inactivity_days, levels=levels,
        stakeholders=stakeholders, rules=rules, tiers=tiers, period=period, method=method,
    )  # fmt: skip


def _levels(karma: _Table, g: Guardrails, lim: str) -> tuple[Level, ...]:
    items = karma.array("levels")
    if not items:
        raise InputError("no levels: give [[karma.levels]] with level, name, multiplier", where=karma.where("levels"))
    levels: dict[int, Level] = {}
    for i, item in enumerate(items, start=1):
        t = _Table(item, f"karma.levels[{i}]", karma.source)
        number = t.whole("level", low=0, high=len(items) - 1)
        if number in levels:
            raise _refuse("is numbered twice (levels are 0..n-1, each once)", t.where("level"), number)
        multiplier = t.number("multiplier")
        if not 0 <= multiplier <= g.multiplier_max:
            raise _refuse(f"must be in [0, {plain(g.multiplier_max)}] {lim}", t.where("multiplier"), multiplier)
        levels[number] = Level(number, check_name(t.text("name"), what="level name", where=t.where("name")), multiplier)
        t.done()
    ordered = tuple(levels[n] for n in range(len(items)))
    if ordered[0].multiplier != 0:
        # kat.md: "at least one at 0" and "members at level 0 earn 0": the bottom level is the one at 0
        raise _refuse(f"level 0 must have multiplier 0 (members at level 0 earn nothing) {lim}",
                      f"{karma.source} karma.levels (level 0) multiplier", ordered[0].multiplier)  # fmt: skip
    return ordered


def _stakeholders(top: _Table) -> tuple[str, ...]:
    names: list[str] = []
    seen: set[str] = set()
    for i, value in enumerate(top.array("stakeholders"), start=1):
        where = f"{top.source} stakeholders[{i}]"
        if not isinstance(value, str) or not value.strip():
            raise _refuse("must be a group's name", where, value)
        if member_key(value) in seen:
            raise _refuse("is declared twice", where, value)
        seen.add(member_key(value))
        names.append(check_name(value.strip(), what="stakeholder", where=where))
    if not names:
        raise InputError("no stakeholders: list the DAO's groups", where=f"{top.source} stakeholders")
    return tuple(names)


def _rules(top: _Table, stakeholders: tuple[str, ...], g: Guardrails, lim: str) -> tuple[Rule, ...]:
    items = top.array("rules")
    if not items:
        raise InputError("no rules: give [[rules]] with id, stakeholder, trigger, verification, credits",
                         where=f"{top.source} rules")  # fmt: skip
    declared = {member_key(s): s for s in stakeholders}
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(items, start=1):
        t = _Table(item, f"rules[{i}]", top.source)
        rule_id = t.text("id")
        if not _CODE.match(rule_id):
            raise _refuse("must be 1 to 12 letters or digits", t.where("id"), rule_id)
        if member_key(rule_id) in seen:
            raise _refuse("is used by two rules (rule ids are unique)", t.where("id"), rule_id)
        seen.add(member_key(rule_id))
        stakeholder = t.text("stakeholder")
        if member_key(stakeholder) not in declared:
            raise _refuse("is not one of the declared stakeholders", t.where("stakeholder"), stakeholder)
        credits = t.number("credits")
        if not 0 < credits <= g.credits_max:
            raise _refuse(f"must be in (0, {plain(g.credits_max)}] {lim}", t.where("credits"), credits)
        limit = t.whole("limit", low=1) if "limit" in t.data else None
        rules.append(Rule(rule_id, declared[member_key(stakeholder)], t.text("trigger", "", blank=True),
                          t.text("verification", "", blank=True), credits, limit))  # fmt: skip
        t.done()
    return tuple(rules)


def _tiers(top: _Table, g: Guardrails, lim: str) -> tuple[Tier, ...]:
    items = top.array("tiers")
    if not items:
        raise InputError("no tiers: give [[tiers]] with name, threshold, privileges (the first at 0)",
                         where=f"{top.source} tiers")  # fmt: skip
    tiers: list[Tier] = []
    for i, item in enumerate(items, start=1):
        t = _Table(item, f"tiers[{i}]", top.source)
        name = check_name(t.text("name"), what="tier name", where=t.where("name"))
        threshold = t.number("threshold")
        if i == 1 and threshold != 0:
            raise _refuse("the first tier's threshold must be 0", t.where("threshold"), threshold)
        if tiers and threshold <= tiers[-1].threshold:
            raise _refuse(f"must be above the previous tier's {plain(tiers[-1].threshold)} (thresholds rise strictly)",
                          t.where("threshold"), threshold)  # fmt: skip
        raw = t.get("privileges", [])
        privileges = [raw] if isinstance(raw, str) else raw
        if not isinstance(privileges, list) or not all(isinstance(p, str) for p in privileges):
            raise _refuse("must be text or a list of texts", t.where("privileges"), raw)
        for text in privileges:
            word = _financial_word(text, g.forbidden_words)
            if word:
                raise _refuse(
                    f"privileges are non-financial: {word!r} is not allowed {lim}", t.where("privileges"), text
                )
        tiers.append(Tier(name, threshold, tuple(p.strip() for p in privileges if p.strip())))
        t.done()
    return tuple(tiers)


def _financial_word(text: str, words: tuple[str, ...]) -> str | None:
    for word in words:
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", text, re.IGNORECASE):
            return word
    return None
