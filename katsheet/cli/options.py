"""Command-line option values to engine values, with the engine's one-line errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import click

from ..engine import CAP_RULES, FOUR_CRITERIA, SINGLE_CRITERION, Criteria, InputError, Options, parse_decimal
from ..engine.criteria import check_unit_interval
from ..io.csvfile import read_criteria


def parse_budget(text: str | None) -> Decimal:
    if text is None:
        raise InputError("the budget is missing: give --budget AMOUNT", where="--budget")
    budget = parse_decimal(text, what="budget", where="--budget")
    if budget < 0:
        raise InputError("the budget must be >= 0", where="--budget", value=text)
    return budget


def parse_whole(text: str, *, what: str, where: str) -> int:
    number = parse_decimal(text, what=what, where=where)
    if number != number.to_integral_value():
        raise InputError(f"{what} must be a whole number", where=where, value=text)
    return int(number)


def build_options(
    threshold: str | None, min_divisor: str, bonus: bool, excess: bool, cap_rule: str, decimals: str
) -> Options:
    t = None
    if threshold is not None:
        t = parse_decimal(threshold, what="threshold", where="--threshold", percent=True)
        check_unit_interval(t, what="threshold", where="--threshold", value=threshold)
    k = parse_whole(min_divisor, what="minimum divisor", where="--min-divisor")
    if k < 1:
        raise InputError("the minimum divisor must be >= 1", where="--min-divisor", value=min_divisor)
    if cap_rule not in CAP_RULES:
        raise InputError(f"the cap rule must be one of {', '.join(CAP_RULES)}", where="--cap-rule", value=cap_rule)
    d = parse_whole(decimals, what="decimals", where="--decimals")
    try:
        return Options(threshold=t, min_divisor=k, bonus=bonus, excess=excess, cap_rule=cap_rule, decimals=d)  # type: ignore[arg-type]
    except InputError as e:  # name the option as typed, with the text the user gave
        typed = {"threshold": threshold, "min_divisor": min_divisor, "cap_rule": cap_rule, "decimals": decimals}
        raise InputError(e.problem, where=f"--{e.where.replace('_', '-')}", value=typed.get(e.where, e.value)) from None


def load_criteria(spec: str | None) -> Criteria:
    """``four`` (default), ``single``, or a CSV file of (name, weight)."""
    if spec is None or spec == "four":
        return FOUR_CRITERIA
    if spec == "single":
        return SINGLE_CRITERION
    return read_criteria(Path(spec))


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
