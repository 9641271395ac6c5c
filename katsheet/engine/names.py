"""Names people type (members, roles): what a workbook can hold and look up. Shared by both engines."""

from __future__ import annotations

import re

from .errors import InputError

#: Names are looked up by MATCH in the workbooks, and Excel's lookups fail on keys past 255
#: characters (an escaped wildcard doubles a character): a name is short.
MAX_NAME = 100
#: Characters an .xlsx cannot hold (XML 1.0 forbids them; writers escape them as _xHHHH_ and
#: readers do not all undo it): control characters other than tab and line breaks.
FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_FORBIDDEN_ASCII = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def has_forbidden(text: str) -> bool:
    """Does ``text`` hold a character of FORBIDDEN_CHARACTERS? A whole column at once: for ASCII
    text (nearly every ledger) a byte-table pass, five times as fast as the regular expression."""
    if text.isascii():
        data = text.encode("ascii")
        return len(data.translate(None, _FORBIDDEN_ASCII)) != len(data)
    return FORBIDDEN_CHARACTERS.search(text) is not None


def check_text(text: str, *, what: str, where: str) -> str:
    """Text a workbook can hold (notes, a rule's trigger): no control characters."""
    bad = FORBIDDEN_CHARACTERS.search(text)
    if bad:
        raise InputError(
            f"the {what} holds a control character (U+{ord(bad.group()):04X}): retype it", where=where, value=text[:60]
        )
    return text


def check_name(text: str, *, what: str, where: str) -> str:
    """A member or role name a workbook can hold and look up: no control characters, not too long."""
    check_text(text, what=what, where=where)
    if len(text) > MAX_NAME:
        raise InputError(f"the {what} is longer than {MAX_NAME} characters", where=where, value=text[:57] + "...")
    return text


def excel_trim(text: str) -> str:
    """What Excel's TRIM makes of a name: no spaces around it, single spaces inside (U+0020 only)."""
    if "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # already trimmed, as nearly every name and id is (a ledger trims 200,000)
    return " ".join(part for part in text.split(" ") if part)


def member_key(name: str) -> str:
    """How names are compared, by the engine and by the workbooks' TRIM and MATCH alike:
    spaces around a name and doubled inside it do not count, nor does letter case."""
    if "  " not in name and name[:1] != " " and name[-1:] != " ":
        return name.casefold()
    return excel_trim(name).casefold()
