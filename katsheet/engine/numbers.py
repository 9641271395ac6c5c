"""Exact number handling: parsing what people type, and Excel's ROUND / ROUNDDOWN.

Nothing here touches a binary float except to convert one that a spreadsheet handed us, and that
conversion goes through its shortest repr (what Excel shows), never through its binary expansion.
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from .errors import InputError

#: Places at which intermediate amounts (base, bonus, excess, pools) are reported. The engine keeps
#: them exact inside; 12 places sit far below the one-unit-in-the-d-th-decimal tolerance.
AMOUNT_PLACES = 12
#: Places of a GRAPE weight and of the average weight (grape.md section 1 and 2.3).
WEIGHT_PLACES = 6

#: ``1,000`` or ``12,345.5``: thousands separators (a decimal comma is refused, not guessed).
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


def parse_decimal(value: object, *, what: str, where: str = "", percent: bool = False) -> Decimal:
    """A finite Decimal from a number or text such as ``1,000.5``, ``0.8`` or (``percent``) ``80%``.

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
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        scale = 0
        if percent and text.endswith("%"):
            text, scale = text[:-1], -2
        if _GROUPED.match(text):
            text = text.replace(",", "")
        try:
            number = Decimal(text).scaleb(scale) if text else None
        except InvalidOperation:
            number = None
        if number is None:
            if not value.strip():
                raise InputError(f"{what} is missing", where=where) from None
            raise InputError(f"{what} must be a number", where=where, value=value) from None
    elif value is None:
        raise InputError(f"{what} is missing", where=where)
    else:
        raise InputError(f"{what} must be a number", where=where, value=value)
    if not number.is_finite():
        raise InputError(f"{what} must be a finite number", where=where, value=value)
    return number


def parse_bool(value: object, *, what: str, where: str = "") -> bool:
    """TRUE/FALSE as Excel, a CSV or a command line would spell it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InputError(f"{what} must be TRUE or FALSE", where=where, value=value)


def round_half_up(value: Fraction | Decimal, places: int) -> Decimal:
    """Excel's ROUND: half away from zero, exact for Fractions as well as Decimals."""
    if isinstance(value, Decimal):
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    scaled = value * 10**places
    sign = -1 if scaled < 0 else 1
    units = (abs(scaled.numerator) * 2 + scaled.denominator) // (2 * scaled.denominator)
    return Decimal(sign * units).scaleb(-places)


def round_down(value: Fraction | Decimal, places: int) -> Decimal:
    """Excel's ROUNDDOWN: toward zero, exact."""
    if isinstance(value, Decimal):
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
    scaled = value * 10**places
    sign = -1 if scaled < 0 else 1
    return Decimal(sign * (abs(scaled.numerator) // scaled.denominator)).scaleb(-places)


def plain(value: Decimal) -> str:
    """A Decimal as people write it: no exponent, no trailing zeros (``12000``, ``0.574``)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text
