"""Validation every domain shares: text (titles, names, notes, filenames, passwords), phone
numbers and coordinates. Each check returns the value as kept or raises INVALID_INPUT naming
the field."""

from __future__ import annotations

import re
import unicodedata

from core.errors import InvalidInput

# Characters no text of the platform holds: control characters but tab and line breaks (NUL
# cannot even be stored), and format characters (Unicode's Cf: bidirectional overrides and
# isolates, zero-width joiners and marks), which make `ok-\u202egnp.exe` show as `ok-exe.png`.
_KEPT_CONTROLS = frozenset("\t\n\r")


def has_hidden_characters(value: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf") and c not in _KEPT_CONTROLS
               for c in value)


def check_text(value: str, field_name: str, *, maximum: int, required: bool = True) -> str:
    value = value.strip()
    if (required and not value) or len(value) > maximum:
        raise InvalidInput(f"{field_name} 长度须为{1 if required else 0}至{maximum}字",
                           f"{field_name} must be {1 if required else 0} to {maximum} characters",
                           field=field_name)
    if has_hidden_characters(value):
        raise InvalidInput(f"{field_name} 含有控制字符或格式字符",
                           f"{field_name} contains control or format characters",
                           field=field_name)
    return value


_PHONE = re.compile(r"^1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$")


def check_phone(phone: str, field_name: str = "phone") -> str:
    phone = phone.strip().replace(" ", "")
    if not _PHONE.match(phone):
        raise InvalidInput("电话号码格式不正确", "Malformed phone number", field=field_name)
    return phone


def check_coordinates(latitude: float | None, longitude: float | None) -> None:
    if (latitude is None) != (longitude is None):
        raise InvalidInput("经纬度须同时提供", "Give both latitude and longitude",
                           field="latitude")
    if latitude is not None and not -90 <= latitude <= 90:
        raise InvalidInput("纬度超出范围", "Latitude out of range", field="latitude")
    if longitude is not None and not -180 <= longitude <= 180:
        raise InvalidInput("经度超出范围", "Longitude out of range", field="longitude")
