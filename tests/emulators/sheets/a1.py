"""A1 notation as the Sheets API reads and writes it: sheet titles (quoted or not), cells, open ranges.

Pure functions: parsing yields a `RangeRef` with zero-based, end-exclusive bounds (None where open).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CELL = re.compile(r"^\$?([A-Za-z]{0,3})\$?(\d*)$")
# A title is written bare only when Sheets itself would: ASCII word characters, and not a cell reference.
_BARE_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE = re.compile(r"^([A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*|TRUE|FALSE)$", re.IGNORECASE)


class A1Error(ValueError):
    """The text is not A1 notation."""


@dataclass(frozen=True)
class RangeRef:
    """A parsed range: the sheet title (None: not given) and zero-based, end-exclusive bounds."""

    title: str | None
    start_row: int | None = None
    end_row: int | None = None
    start_col: int | None = None
    end_col: int | None = None

    @property
    def is_whole_sheet(self) -> bool:
        return (
            self.start_row is None
            and self.end_row is None
            and self.start_col is None
            and self.end_col is None
        )


def column_index(letters: str) -> int:
    """'A' -> 0, 'Z' -> 25, 'AA' -> 26."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def column_letters(index: int) -> str:
    """0 -> 'A', 26 -> 'AA'."""
    out = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def split_sheet(text: str) -> tuple[str | None, str | None]:
    """Split `'My sheet'!A1:B2` into (title, cells). Either part may be None."""
    if text.startswith("'"):
        i, title = 1, []
        while i < len(text):
            ch = text[i]
            if ch == "'":
                if text[i + 1 : i + 2] == "'":
                    title.append("'")
                    i += 2
                    continue
                break
            title.append(ch)
            i += 1
        else:
            raise A1Error(f"Unable to parse range: {text}")
        rest = text[i + 1 :]
        if rest == "":
            return "".join(title), None
        if not rest.startswith("!"):
            raise A1Error(f"Unable to parse range: {text}")
        return "".join(title), rest[1:]
    if "!" in text:
        bare, _, cells = text.rpartition("!")
        return bare, cells
    return None, text


def parse_cells(cells: str) -> tuple[int | None, int | None, int | None, int | None]:
    """Parse the cell part (`A1`, `A1:B2`, `A:A`, `2:5`, `A2:F`, `A1:1`) into (r0, r1, c0, c1)."""
    parts = cells.split(":")
    if len(parts) > 2 or not cells:
        raise A1Error(f"Unable to parse range: {cells}")
    parsed = []
    for part in parts:
        m = _CELL.match(part.strip())
        if not m or (not m.group(1) and not m.group(2)):
            raise A1Error(f"Unable to parse range: {cells}")
        col = column_index(m.group(1)) if m.group(1) else None
        row = int(m.group(2)) - 1 if m.group(2) else None
        if row is not None and row < 0:
            raise A1Error(f"Unable to parse range: {cells}")
        parsed.append((row, col))
    if len(parsed) == 1:
        (row, col) = parsed[0]
        if row is None or col is None:
            # A lone column or row ("A", "3") is a range only with a sheet title before it.
            return (row, None if row is None else row + 1, col, None if col is None else col + 1)
        return row, row + 1, col, col + 1
    (ra, ca), (rb, cb) = parsed
    if ra is not None and rb is not None and ra > rb:
        ra, rb = rb, ra
    if ca is not None and cb is not None and ca > cb:
        ca, cb = cb, ca
    # "A1:A" and "A1:1": the row or column missing on one side is open on the far side only.
    r0 = ra if ra is not None else (rb if ca is None and cb is None else None)
    if ra is None and ca is not None and rb is not None:
        r0 = 0
    r1 = rb + 1 if rb is not None else None
    if ra is not None and rb is None and ca is None and cb is None:
        r1 = ra + 1
    c0 = ca if ca is not None else None
    if ca is None and ra is not None and cb is not None:
        c0 = 0
    c1 = cb + 1 if cb is not None else None
    return r0, r1, c0, c1


def parse_range(text: str, titles: list[str]) -> RangeRef:
    """Parse a range the way Sheets does, given the spreadsheet's sheet titles (for bare titles)."""
    text = text.strip()
    if not text:
        raise A1Error("Unable to parse range: ")
    title, cells = split_sheet(text)
    if title is None:
        assert cells is not None
        if cells in titles:
            return RangeRef(cells)
        if ":" not in cells and not re.match(r"^\$?[A-Za-z]{1,3}\$?\d+$", cells):
            raise A1Error(f"Unable to parse range: {text}")
        r0, r1, c0, c1 = parse_cells(cells)
        return RangeRef(None, r0, r1, c0, c1)
    if cells is None or cells == "":
        return RangeRef(title)
    r0, r1, c0, c1 = parse_cells(cells)
    return RangeRef(title, r0, r1, c0, c1)


def quote_title(title: str) -> str:
    """A title as Sheets writes it in a range: bare when unambiguous, else quoted with '' escapes."""
    if _BARE_TITLE.match(title) and not _CELL_LIKE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def format_range(title: str, r0: int, r1: int, c0: int, c1: int) -> str:
    """Bounds (zero-based, end-exclusive) as `Sheet1!A1:B2`, or `Sheet1!A1` for one cell."""
    start = f"{column_letters(c0)}{r0 + 1}"
    cells = start if (r1 - r0 == 1 and c1 - c0 == 1) else f"{start}:{column_letters(c1 - 1)}{r1}"
    return f"{quote_title(title)}!{cells}"
