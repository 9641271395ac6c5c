"""Dates as people type them: ISO only (2026-11-03). Shared by the engines and every reader.

``11/03/2026`` is the 3rd of November in the US and the 11th of March elsewhere: a ledger that
moves tokens must not guess, so such a date is refused with its row and value.
"""

from __future__ import annotations

import datetime as dt
import re

from .errors import InputError

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_date(value: object, *, what: str, where: str, required: bool = True) -> dt.date | None:
    """A date from an ISO text (``2026-11-03``), a date, or a datetime at midnight (a date cell).

    Blank gives None unless ``required``. Anything else raises InputError naming ``where``.
    """
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise InputError(f"{what} must be a date without a time of day", where=where, value=str(value))
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise InputError(f"{what} is missing: give it as YYYY-MM-DD", where=where)
        return None
    if _ISO.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise InputError(f"{what} is not a real date", where=where, value=text) from None
    raise InputError(
        f"{what} must be an ISO date YYYY-MM-DD (a date such as 11/03/2026 reads differently from country "
        "to country and is never guessed)",
        where=where,
        value=text[:60],
    )


def parse_month(text: str, *, where: str) -> tuple[dt.date, dt.date]:
    """``YYYY-MM`` to the period's first and last day."""
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise InputError("the month must be given as YYYY-MM, e.g. 2026-11", where=where, value=text[:60])
    year, month = int(m.group(1)), int(m.group(2))
    start = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1) if year < 9999 or month < 12 else None
    end = following - dt.timedelta(days=1) if following else dt.date(9999, 12, 31)
    return start, end


#: Day 0 of a spreadsheet's date serial numbers (the 1900 date system Excel and LibreOffice save
#: .xlsx files in): serial n is this date plus n days.
EXCEL_EPOCH = dt.date(1899, 12, 30)
