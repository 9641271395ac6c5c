"""Command-line option values to engine values, with the engine's one-line errors.

Words are compared without regard to case (``Scale``, ``Compact``, ``CSV``), as Excel compares
text; numbers are bounded by what a workbook can hold (katsheet/engine/limits.py).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import click

from ..engine import CAP_RULES, FOUR_CRITERIA, SINGLE_CRITERION, Criteria, InputError, Options, parse_decimal
from ..engine.grape.allocation import parse_budget_text
from ..engine.grape.criteria import check_unit_interval
from ..engine.limits import MAX_MIN_DIVISOR
from ..io.csvfile import read_criteria


class FilePath(click.ParamType):
    """A path as typed: a name no file system takes (a NUL byte, thousands of characters) is one
    line, not an exception from deep inside a library."""

    name = "path"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        return usable_path(str(value), where=param.get_error_hint(ctx) if param is not None else "path")


PATH = FilePath()


def usable_path(text: str, *, where: str) -> Path:
    if "\x00" in text or not text:
        raise InputError("is not a usable file name", where=where, value=text[:60])
    if len(text) > 4096 or any(len(part) > 255 for part in Path(text).parts):
        raise InputError("is too long for a file name", where=where, value=text[:60] + "...")
    return Path(text)


def choice(text: str, allowed: tuple[str, ...], *, what: str, where: str) -> str:
    """``text`` as one of ``allowed``, compared case-blind and without surrounding spaces."""
    word = text.strip().lower()
    if word not in allowed:
        raise InputError(f"{what} must be one of {', '.join(allowed)}", where=where, value=text)
    return word


def parse_budget(text: str | None, decimals: int) -> Decimal:
    """The budget as typed, checked against the rules and against what a workbook can hold."""
    if text is None:
        raise InputError("the budget is missing: give --budget AMOUNT", where="--budget")
    return parse_budget_text(text, decimals)


def parse_whole(text: str, *, what: str, where: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``, compared before it is expanded (``1e300000`` is cheap)."""
    number = parse_decimal(text, what=what, where=where)
    if number != number.to_integral_value() or not low <= number <= high:
        raise InputError(f"{what} must be a whole number from {low:,} to {high:,}", where=where, value=text)
    return int(number)


def build_options(
    threshold: str | None, min_divisor: str, bonus: bool, excess: bool, cap_rule: str, decimals: str
) -> Options:
    t = None
    if threshold is not None:
        t = parse_decimal(threshold, what="threshold", where="--threshold", percent=True)
        check_unit_interval(t, what="threshold", where="--threshold", value=threshold)
    k = parse_whole(min_divisor, what="the minimum divisor", where="--min-divisor", low=1, high=MAX_MIN_DIVISOR)
    rule = choice(cap_rule, CAP_RULES, what="the cap rule", where="--cap-rule")
    d = parse_whole(decimals, what="decimals", where="--decimals", low=0, high=18)
    return Options(threshold=t, min_divisor=k, bonus=bonus, excess=excess, cap_rule=rule, decimals=d)  # type: ignore[arg-type]


def load_criteria(spec: str | None) -> Criteria:
    """``four`` (default), ``single``, or a CSV file of (name, weight)."""
    if spec is None or spec.strip().lower() == "four":
        return FOUR_CRITERIA
    if spec.strip().lower() == "single":
        return SINGLE_CRITERION
    return read_criteria(usable_path(spec, where="--criteria"))


def allocation_options(command):
    """The options of grape.md section 2, shared by `compute` and `new`."""
    for option in reversed(
        [
            click.option("--budget", help="The month's token budget (e.g. 100000)."),
            click.option("--threshold", help="Bonus threshold override in [0, 1] or as 70%; default: the average."),
            click.option("--min-divisor", default="3", show_default=True, help="Minimum bonus divisor K."),
            click.option("--no-bonus", is_flag=True, help="Switch the BONUS tier off."),
            click.option("--no-excess", is_flag=True, help="Switch the EXCESS tier off."),
            click.option("--cap-rule", default="scale", show_default=True, help="Dynamic cap: scale, at-base or off."),
            click.option("--decimals", default="6", show_default=True, help="Decimals of the totals (ROUNDDOWN)."),
            click.option("--criteria", "criteria_spec", help="four (default), single, or a CSV file of name,weight."),
            click.option("--sample", is_flag=True, help="Use the roster (and budget) shipped inside katsheet."),
        ]
    ):
        command = option(command)
    return command
