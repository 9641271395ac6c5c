"""Exact number handling: parsing what people type, and Excel's ROUND / ROUNDDOWN.

Nothing here touches a binary float except to convert one that a spreadsheet handed us, and that
conversion goes through its shortest repr (what Excel shows), never through its binary expansion.

Nothing here depends on the ``decimal`` module's context either: its default precision (28 digits)
silently rounds sums and ``scaleb`` results of large amounts. Values are built from integers with
exact constructors, and the few Decimal sums run in ``EXACT``, a context that cannot round.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    localcontext,
)
from decimal import Overflow as DecimalOverflow
from fractions import Fraction

from .errors import InputError

#: Places at which intermediate amounts (base, bonus, excess, pools) are reported. The engine keeps
#: them exact inside; 12 places sit far below the one-unit-in-the-d-th-decimal tolerance.
AMOUNT_PLACES = 12
#: Places of a GRAPE weight and of the average weight (grape.md section 1 and 2.3).
WEIGHT_PLACES = 6
#: Numbers a spreadsheet can hold lie within 1e-308..1e308; anything beyond is a typo (or an
#: attack: ``1e1000000`` is a valid Decimal whose exact arithmetic takes minutes).
MAX_EXPONENT = 308

#: A context in which + and - are always exact (and anything inexact raises instead of rounding).
EXACT = Context(
    prec=MAX_PREC,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[Inexact, InvalidOperation, DivisionByZero, DecimalOverflow],
)

#: ``1,000`` or ``12,345.5``: thousands separators with a decimal point.
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
#: ``1.000`` or ``12.345,5``: thousands separators with a decimal comma (a European file).
_GROUPED_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$")
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


def parse_decimal(
    value: object, *, what: str, where: str = "", percent: bool = False, decimal_comma: bool = False
) -> Decimal:
    """A finite Decimal from a number or text such as ``1,000.5``, ``0.8`` or (``percent``) ``80%``.

    With ``decimal_comma`` (a file a European Excel saved with ``;`` separators), ``0,8`` is 0.8 and
    ``1.000,5`` is 1000.5. Without it a decimal comma is refused, never guessed.
    Raises InputError naming ``where`` and the value when it is not a number.
    """
    if isinstance(value, bool):
        raise InputError(f"{what} must be a number, not a true/false value", where=where, value=value)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, Fraction):
        raise TypeError("pass Fractions through round_half_up, not parse_decimal")
    elif isinstance(value, str):
        number = _parse_text(value, what=what, where=where, percent=percent, decimal_comma=decimal_comma)
    elif value is None:
        raise InputError(f"{what} is missing", where=where)
    else:
        raise InputError(f"{what} must be a number", where=where, value=value)
    if not number.is_finite():
        raise InputError(f"{what} must be a finite number", where=where, value=value)
    if number and abs(number.adjusted()) > MAX_EXPONENT:
        raise InputError(f"{what} is beyond what a spreadsheet can hold (1e-308 to 1e308)", where=where,
                         value=_short(value))  # fmt: skip
    return number


def _parse_text(value: str, *, what: str, where: str, percent: bool, decimal_comma: bool) -> Decimal:
    text = value.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    scale = 0
    if percent and text.endswith("%"):
        text, scale = text[:-1], -2
    if decimal_comma:
        if _GROUPED_COMMA.match(text):
            text = text.replace(".", "")
        text = text.replace(",", ".") if text.count(",") == 1 and "." not in text else text
    elif _GROUPED.match(text):
        text = text.replace(",", "")
    number = None
    if text and len(text) <= 400:  # a longer "number" is not one anybody typed
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
    if number is None:
        if not value.strip():
            raise InputError(f"{what} is missing", where=where) from None
        raise InputError(f"{what} must be a number", where=where, value=_short(value)) from None
    if not number.is_finite():
        raise InputError(f"{what} must be a finite number", where=where, value=_short(value))
    if number and abs(number.adjusted()) > MAX_EXPONENT:
        raise InputError(f"{what} is beyond what a spreadsheet can hold (1e-308 to 1e308)", where=where,
                         value=_short(value))  # fmt: skip
    return number.scaleb(scale, EXACT) if scale else number


def _short(value: object, limit: int = 60) -> object:
    """A value as an error line quotes it: long text cut, so one line stays one line."""
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 3] + "..."
    return value


def parse_bool(value: object, *, what: str, where: str = "") -> bool:
    """TRUE/FALSE as Excel, a CSV or a command line would spell it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InputError(f"{what} must be TRUE or FALSE", where=where, value=_short(value))


def from_units(units: int, places: int) -> Decimal:
    """``units`` x 10^-places as an exact Decimal (a string constructor: no context, no rounding)."""
    return Decimal(f"{units}E-{places}") if places else Decimal(units)


def to_units(value: Decimal, places: int) -> int:
    """``value`` x 10^places as an integer; ValueError if ``value`` has more places than that."""
    sign, digits, exponent = value.as_tuple()
    coefficient = int("".join(map(str, digits)) or "0")
    shift = exponent + places  # type: ignore[operator]
    if shift >= 0:
        units = coefficient * 10**shift
    else:
        units, rest = divmod(coefficient, 10**-shift)
        if rest:
            raise ValueError(f"{value} has more than {places} decimals")
    return -units if sign else units


def places_of(value: Decimal) -> int:
    """How many decimals ``value`` really has: 1.50 has 1, 100 has 0, 1E+3 has 0."""
    exponent = value.normalize(EXACT).as_tuple().exponent if value else 0
    return max(0, -exponent)  # type: ignore[operator]


def _ratio(value: Fraction | Decimal) -> tuple[int, int]:
    if isinstance(value, Decimal):
        return value.as_integer_ratio()
    return value.numerator, value.denominator


def round_half_up(value: Fraction | Decimal, places: int) -> Decimal:
    """Excel's ROUND: half away from zero, exact for any magnitude."""
    num, den = _ratio(value)
    num *= 10**places
    sign = -1 if num < 0 else 1
    units = (abs(num) * 2 + den) // (2 * den)
    return from_units(sign * units, places)


def round_down(value: Fraction | Decimal, places: int) -> Decimal:
    """Excel's ROUNDDOWN: toward zero, exact for any magnitude."""
    num, den = _ratio(value)
    num *= 10**places
    sign = -1 if num < 0 else 1
    return from_units(sign * (abs(num) // den), places)


def exact_sum(values: Iterable[Decimal], start: Decimal = Decimal(0)) -> Decimal:
    """The sum of Decimals, exactly (the default context would round past 28 digits)."""
    with localcontext(EXACT):
        return sum(values, start)


def plain(value: Decimal) -> str:
    """A Decimal as people write it: no exponent, no trailing zeros (``12000``, ``0.574``)."""
    text = format(value.normalize(EXACT), "f")
    return "0" if text in ("-0", "") else text


def grouped(value: Decimal | Fraction | int, places: int) -> str:
    """An amount as the workbooks and reports show it: thousands separated, ``places`` decimals
    (``1,234.50``); rounded past them (an exact fraction half up), so for display only, never
    for a total."""
    if isinstance(value, Fraction):
        value = round_half_up(value, places)
    return f"{Decimal(value):,.{places}f}"


def fixed(value: Decimal, places: int) -> str:
    """A Decimal with exactly ``places`` decimals, no exponent, no separators (``12000.000000``).

    For amounts that already have at most that many decimals (totals, returned): never rounds.
    """
    units = to_units(value, places)
    sign = "-" if units < 0 else ""
    digits = str(abs(units)).rjust(places + 1, "0")
    return sign + (f"{digits[:-places]}.{digits[-places:]}" if places else digits)
