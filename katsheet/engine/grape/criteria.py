"""GRAPE weight from criteria scores: the Scoring Grid of grape.md section 1."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from ..errors import InputError
from ..limits import CRITERION_WEIGHT_PLACES, MAX_CRITERION_WEIGHT
from ..numbers import WEIGHT_PLACES, exact_sum, parse_decimal, places_of, round_half_up


def check_criterion_weight(weight: Decimal, *, where: str, value: object = None) -> None:
    """A criterion weight a workbook can hold exactly: 0 to 1,000,000 with at most 6 decimals."""
    shown = str(weight) if value is None else value
    if weight < 0:
        raise InputError("a criterion weight must be >= 0", where=where, value=shown)
    if weight > MAX_CRITERION_WEIGHT or places_of(weight) > CRITERION_WEIGHT_PLACES:
        raise InputError(
            f"a criterion weight must lie in [0, {MAX_CRITERION_WEIGHT:,}] with at most {CRITERION_WEIGHT_PLACES} "
            "decimals (weights are relative: 60/10/10/20 and 0.6/0.1/0.1/0.2 mean the same)",
            where=where,
            value=shown,
        )


@dataclass(frozen=True)
class Criterion:
    """One column of the Scoring Grid: a name and its (unnormalised) weight."""

    name: str
    weight: Decimal

    @property
    def key(self) -> str:
        """The roster column that holds this criterion's score (``Ops/Org`` -> ``ops_org``)."""
        return slug(self.name)


def slug(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


@dataclass(frozen=True)
class Criteria:
    """An editable criteria table. Weights are >= 0 and sum to > 0; they are normalised."""

    items: tuple[Criterion, ...]

    def __post_init__(self) -> None:
        if not self.items:
            raise InputError("the criteria table is empty")
        seen: set[str] = set()
        for i, c in enumerate(self.items, start=1):
            check_criterion_weight(c.weight, where=f"criterion {i} ({c.name})")
            if not c.key:
                raise InputError("a criterion needs a name", where=f"criterion {i}", value=c.name)
            if c.key in seen:
                raise InputError("criterion named twice", where=f"criterion {i}", value=c.name)
            seen.add(c.key)
        if self.total_weight == 0:
            raise InputError("criteria weights are all zero: at least one must be > 0")

    @property
    def total_weight(self) -> Decimal:
        return exact_sum(c.weight for c in self.items)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.items)

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[object, object]], *, source: str = "criteria", decimal_comma: bool = False
    ) -> Criteria:
        """Criteria from (name, weight) pairs, e.g. the rows of a criteria CSV (numbered from 2)."""
        items = []
        for n, (name, weight) in enumerate(rows, start=2):
            where = f"{source} row {n}"
            label = str(name or "").strip()
            if not label:
                raise InputError("a criterion needs a name", where=where, value=name)
            at = f"{where} ({label}), column weight"
            number = parse_decimal(weight, what="criterion weight", where=at, decimal_comma=decimal_comma)
            check_criterion_weight(number, where=at, value=weight)
            items.append(Criterion(label, number))
        return cls(tuple(items))


#: The original's four criteria, weights 60/10/10/20.
FOUR_CRITERIA = Criteria(
    (
        Criterion("Work Produced", Decimal(60)),
        Criterion("Work Utilized", Decimal(10)),
        Criterion("Activity", Decimal(10)),
        Criterion("Ops/Org", Decimal(20)),
    )
)
#: The one-criterion variant of the Scoring Grid.
SINGLE_CRITERION = Criteria((Criterion("Performance", Decimal(100)),))

#: Default performance levels: LEVEL 0..3 -> 0%, 33%, 66%, 100%.
DEFAULT_LEVELS: Mapping[str, Decimal] = {
    "LEVEL 0": Decimal("0"),
    "LEVEL 1": Decimal("0.33"),
    "LEVEL 2": Decimal("0.66"),
    "LEVEL 3": Decimal("1"),
}


def parse_score(
    value: object,
    *,
    where: str,
    levels: Mapping[str, Decimal] = DEFAULT_LEVELS,
    what: str = "score",
    decimal_comma: bool = False,
) -> Decimal:
    """A score in [0, 1] from ``0.8``, ``80%`` or a performance level such as ``LEVEL 2``."""
    if isinstance(value, str):
        level = levels.get(" ".join(value.upper().split()))
        if level is not None:
            return level
    score = parse_decimal(value, what=what, where=where, percent=True, decimal_comma=decimal_comma)
    check_unit_interval(score, what=what, where=where, value=value)
    return score


def check_unit_interval(number: Decimal, *, what: str, where: str, value: object) -> None:
    if not Decimal(0) <= number <= Decimal(1):
        raise InputError(f"{what} must lie in [0, 1] (0% to 100%)", where=where, value=value)


def grape_weight(scores: Sequence[Decimal], criteria: Criteria = FOUR_CRITERIA) -> Decimal:
    """ROUND(sum(score * weight) / sum(weight), 6); scores already checked to lie in [0, 1].

    Scores are read to 6 decimals (ROUND, half away from zero) first, as the Scoring sheet does:
    a score typed with more decimals than a GRAPE weight has would otherwise be the one place
    where the sheet and the engine could differ.
    """
    if len(scores) != len(criteria.items):
        raise InputError(f"expected {len(criteria.items)} scores, got {len(scores)}")
    held = [Fraction(round_half_up(s, WEIGHT_PLACES)) for s in scores]
    weighted = sum((s * Fraction(c.weight) for s, c in zip(held, criteria.items, strict=True)), Fraction(0))
    return round_half_up(weighted / sum((Fraction(c.weight) for c in criteria.items), Fraction(0)), WEIGHT_PLACES)
