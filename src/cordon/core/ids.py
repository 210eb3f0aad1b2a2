"""Resident ID numbers (GB 11643-1999) and mobile numbers. Pure: no Django."""
from __future__ import annotations

import datetime as dt
import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def check_char(first17: str) -> str:
    """The mod-11 check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def make_id_number(region: str, birth: dt.date, seq: int, sex: str) -> str:
    """Build a valid 18-character ID number. ``seq`` is 0..499; the third sequence digit is odd for men."""
    s = seq % 500
    seq3 = s * 2 + (1 if sex == "M" else 0)
    body = f"{region}{birth:%Y%m%d}{seq3:03d}"
    return body + check_char(body)


#: an ID number that went through a spreadsheet as a number: 6.20102193803021E+17, 620102193803021234.0
_SCIENTIFIC = re.compile(r"^\d+(?:\.\d*)?E\+?\d+$")
_DECIMAL = re.compile(r"^\d{15,18}\.\d*$")


def id_number_error(value: str) -> str | None:
    """Why ``value`` is not a valid ID number, or None when it is."""
    if not isinstance(value, str):
        return "not text"
    v = value.strip().upper()
    if _SCIENTIFIC.match(v):
        return (f"{v} is in scientific notation: a spreadsheet stored the ID number as a number and kept only "
                f"15 digits, so its last digits are lost; format the column as text and enter the numbers again")
    if _DECIMAL.match(v):
        return (f"{v} is written as a decimal number: a spreadsheet or export stored the ID number as a number, "
                f"which keeps only 15 to 17 digits, so its last digits may be wrong; format the column as text "
                f"and export it again")
    if len(v) != 18:
        return f"must be 18 characters, got {len(v)}"
    if not v[:17].isdigit() or not (v[17].isdigit() or v[17] == "X"):
        return "must be 17 digits followed by a digit or X"
    try:
        dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return f"birth date {v[6:14]} is not a real date"
    if check_char(v[:17]) != v[17]:
        return f"check character should be {check_char(v[:17])}, got {v[17]}"
    return None


def birth_date_of(id_number: str) -> dt.date:
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def sex_of(id_number: str) -> str:
    return "M" if int(id_number[16]) % 2 else "F"


def phone_error(value: str) -> str | None:
    if not _MOBILE.match(value or ""):
        return "must be an 11-digit mobile number starting with 1"
    return None


def mask_id_number(value: str) -> str:
    if not value:
        return ""
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)


def mask_phone(value: str) -> str:
    if not value:
        return ""
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)


def mask_name(value: str) -> str:
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1) if len(value) > 1 else value
