"""What text the platform holds: one rule for every domain's titles, names, notes, filenames
and passwords."""

from __future__ import annotations

import unicodedata

# Characters no text of the platform holds: control characters but tab and line breaks (NUL
# cannot even be stored), and format characters (Unicode's Cf: bidirectional overrides and
# isolates, zero-width joiners and marks), which make `ok-\u202egnp.exe` show as `ok-exe.png`.
_KEPT_CONTROLS = frozenset("\t\n\r")


def has_hidden_characters(value: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf") and c not in _KEPT_CONTROLS
               for c in value)
