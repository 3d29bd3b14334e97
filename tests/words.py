"""Messages as a person reads them: the bidi isolates that set values apart are invisible."""

from __future__ import annotations

import re

_ISOLATES = re.compile("[\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` without its bidi isolates (FSI, LRI, RLI, PDI): what a sheet or a sidebar shows."""
    return _ISOLATES.sub("", text)
