"""The state of the Sheets and Drive emulator and the rules Google applies to it; nothing about HTTP.

Cells are stored per row (a list per non-empty row) so that reading or writing 100,000 rows is a
matter of list slicing. Every public method of `SheetsBackend` takes and returns plain JSON-shaped data.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import random
import re
import struct
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from . import a1
from .cells import (
    Cell,
    Locale,
    Stored,
    extended_value,
    locale_rules,
    raw_input,
    render,
    renderer,
    user_entered,
    value_of,
)
from .controls import WRITE_CALLS, Controls
from .exceptions import ApiError, DriveError, bad_request, not_found, permission_denied, protected_cell

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
DEFAULT_ROWS, DEFAULT_COLS = 1000, 26
#: Google's limit on the characters of one cell.
MAX_CELL_CHARS = 50_000
_GOOGLE_ID = re.compile(r"^[A-Za-z0-9_-]{44}$")
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "foregroundColorStyle": {"rgbColor": {}},
    },
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}


def _theme_color(kind: str, rgb: dict[str, float]) -> dict[str, Any]:
    return {"colorType": kind, "color": {"rgbColor": rgb}}


SPREADSHEET_THEME: dict[str, Any] = {
    "primaryFontFamily": "Arial",
    "themeColors": [
        _theme_color("TEXT", {}),
        _theme_color("BACKGROUND", {"red": 1, "green": 1, "blue": 1}),
        _theme_color("ACCENT1", {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}),
        _theme_color("ACCENT2", {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}),
        _theme_color("ACCENT3", {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}),
        _theme_color("ACCENT4", {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}),
        _theme_color("ACCENT5", {"red": 1, "green": 0.42745098, "blue": 0.003921569}),
        _theme_color("ACCENT6", {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}),
        _theme_color("LINK", {"red": 0.06666667, "green": 0.33333334, "blue": 0.8}),
    ],
}

VALUE_RENDER_OPTIONS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
DATETIME_RENDER_OPTIONS = ("SERIAL_NUMBER", "FORMATTED_STRING")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _float32(x: float) -> float | int:
    """Colours come back as float32, written in the fewest digits that survive the round trip."""
    f32 = struct.unpack("f", struct.pack("f", x))[0]
    for digits in range(1, 10):
        candidate = float(f"{f32:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == f32:
            return int(candidate) if candidate.is_integer() else candidate
    return f32


def _clean_color(color: dict[str, Any]) -> dict[str, Any]:
    return {k: _float32(v) for k, v in color.items() if isinstance(v, (int, float)) and v != 0}


def _style_colors(fmt: dict[str, Any]) -> dict[str, Any]:
    """Mirror Color fields into their ColorStyle twins (and back), as Sheets answers them."""
    out = copy.deepcopy(fmt)
    pairs = [(out, "backgroundColor")]
    if isinstance(out.get("textFormat"), dict):
        pairs.append((out["textFormat"], "foregroundColor"))
    for holder, name in pairs:
        style = name + "Style"
        if isinstance(holder.get(name), dict):
            holder[name] = _clean_color(holder[name])
            holder[style] = {"rgbColor": dict(holder[name])}
        elif isinstance(holder.get(style), dict) and isinstance(holder[style].get("rgbColor"), dict):
            holder[style] = {"rgbColor": _clean_color(holder[style]["rgbColor"])}
            holder[name] = dict(holder[style]["rgbColor"])
    return out


# ---------------------------------------------------------------- field masks


def parse_fields(text: str) -> dict[str, Any]:
    """Google's field mask syntax (`a.b,c(d,e/f)`) as a tree; an empty dict means 'everything below'."""
    tree: dict[str, Any] = {}
    pos = 0

    def parse_list(node: dict[str, Any]) -> None:
        nonlocal pos
        while pos < len(text):
            m = re.match(r"\s*([A-Za-z_*][A-Za-z0-9_]*)", text[pos:])
            if not m:
                raise bad_request(f"Invalid field selection {text}")
            pos += m.end()
            path = [m.group(1)]
            while pos < len(text) and text[pos] in "./":
                m = re.match(r"([A-Za-z_*][A-Za-z0-9_]*)", text[pos + 1 :])
                if not m:
                    raise bad_request(f"Invalid field selection {text}")
                path.append(m.group(1))
                pos += 1 + m.end()
            here = node
            for name in path:
                here = here.setdefault(name, {})
            if pos < len(text) and text[pos] == "(":
                pos += 1
                parse_list(here)
                if pos >= len(text) or text[pos] != ")":
                    raise bad_request(f"Invalid field selection {text}")
                pos += 1
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return

    parse_list(tree)
    if pos != len(text):
        raise bad_request(f"Invalid field selection {text}")
    return tree


def apply_fields(value: Any, tree: dict[str, Any]) -> Any:
    if not tree or "*" in tree:
        return value
    if isinstance(value, list):
        return [apply_fields(v, tree) for v in value]
    if isinstance(value, dict):
        return {k: apply_fields(v, tree[k]) for k, v in value.items() if k in tree}
    return value


def _mask_paths(fields: str) -> list[list[str]]:
    """'gridProperties/rowCount,title' -> [['gridProperties', 'rowCount'], ['title']]."""
    paths: list[list[str]] = []

    def walk(node: dict[str, Any], prefix: list[str]) -> None:
        for name, child in node.items():
            if child:
                walk(child, [*prefix, name])
            else:
                paths.append([*prefix, name])

    walk(parse_fields(fields), [])
    return paths


def _get_path(data: dict[str, Any], path: list[str]) -> Any:
    here: Any = data
    for name in path:
        if not isinstance(here, dict) or name not in here:
            return None
        here = here[name]
    return here


def _set_path(data: dict[str, Any], path: list[str], value: Any) -> None:
    here = data
    for name in path[:-1]:
        here = here.setdefault(name, {})
    if value is None:
        here.pop(path[-1], None)
    else:
        here[path[-1]] = copy.deepcopy(value)


# ---------------------------------------------------------------- sheets


class Sheet:
    """One tab: its properties and its cells (rows of stored cells, trailing rows omitted)."""

    def __init__(self, sheet_id: int, title: str, rows: int = DEFAULT_ROWS, cols: int = DEFAULT_COLS) -> None:
        self.sheet_id = sheet_id
        self.title = title
        self.row_count = rows
        self.col_count = cols
        self.hidden = False
        self.grid_extra: dict[str, Any] = {}  # other gridProperties: frozenRowCount, hideGridlines...
        self.extra: dict[str, Any] = {}  # other SheetProperties: tabColorStyle, rightToLeft...
        self.data: list[list[Stored] | None] = []
        self.row_meta: dict[int, dict[str, Any]] = {}
        self.col_meta: dict[int, dict[str, Any]] = {}
        # ConditionalFormatRule and FilterView objects, as Google answers them in a Sheet.
        self.conditional_formats: list[dict[str, Any]] = []
        self.filter_views: list[dict[str, Any]] = []
        # ProtectedRange objects, as stored (requestingUserCanEdit is worked out for each caller).
        self.protected_ranges: list[dict[str, Any]] = []
        # While a snapshot may still be restored: the rows it holds, which `data` shares until one of
        # them is about to change (it is copied first: `_own`), and their ids, worked out when needed.
        self._saved_rows: list[list[Stored] | None] | None = None
        self._shared: set[int] | None = None

    def properties(self, index: int) -> dict[str, Any]:
        props: dict[str, Any] = {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": {"rowCount": self.row_count, "columnCount": self.col_count, **self.grid_extra},
        }
        if self.hidden:
            props["hidden"] = True
        props.update(copy.deepcopy(self.extra))
        return props

    def extras(self) -> dict[str, Any]:
        """The parts of a Sheet beside its properties that Google answers only when there are any."""
        found: dict[str, Any] = {}
        if self.conditional_formats:
            found["conditionalFormats"] = copy.deepcopy(self.conditional_formats)
        if self.filter_views:
            found["filterViews"] = copy.deepcopy(self.filter_views)
        return found

    def snapshot(self) -> dict[str, Any]:
        """The sheet's state, for `restore`. Its rows are not copied now: the sheet copies a row before
        it first changes it, until `release` (copy on write), so a snapshot costs little whatever the
        sheet holds, and a row changed later is copied once."""
        state = copy.deepcopy({k: v for k, v in vars(self).items() if k not in _UNSAVED})
        state["data"] = self._saved_rows = self.data
        self.data = list(self.data)
        self._shared = None
        return state

    def restore(self, state: dict[str, Any]) -> None:
        vars(self).update(state)
        self.release()

    def release(self) -> None:
        """No snapshot will be restored: rows are changed in place again."""
        self._saved_rows = self._shared = None

    def _own(self, r: int, row: list[Stored]) -> list[Stored]:
        """Row `r` (which is `row`), safe to change in place: a copy of it when a snapshot holds it."""
        if self._saved_rows is None:
            return row
        if self._shared is None:
            self._shared = {id(saved) for saved in self._saved_rows if saved is not None}
        if id(row) in self._shared:
            row = self.data[r] = row[:]  # the snapshot keeps the original alive: its id stays its own
        return row

    # -- cells

    def row(self, r: int) -> list[Stored] | None:
        return self.data[r] if r < len(self.data) else None

    def get(self, r: int, c: int) -> Stored:
        row = self.row(r)
        return row[c] if row is not None and c < len(row) else None

    def put(self, r: int, c: int, entry: Stored) -> None:
        if r >= len(self.data):
            if entry is None:
                return
            self.data.extend([None] * (r + 1 - len(self.data)))
        row = self.data[r]
        if row is None:
            if entry is None:
                return
            row = self.data[r] = []
        if c >= len(row):
            if entry is None:
                return
            row = self._own(r, row)
            row.extend([None] * (c + 1 - len(row)))
        else:
            row = self._own(r, row)
        row[c] = entry

    def put_row(self, r: int, c0: int, entries: list[Stored | object]) -> None:
        """Write a run of cells starting at (r, c0); `SKIP` entries leave a cell as it is."""
        end = c0 + len(entries)
        if r >= len(self.data):
            self.data.extend([None] * (r + 1 - len(self.data)))
        row = self.data[r]
        if row is None:
            row = self.data[r] = []
        elif self._saved_rows is not None:
            row = self._own(r, row)
        if len(row) < end:
            row.extend([None] * (end - len(row)))
        if SKIP in entries:
            for i, entry in enumerate(entries):
                if entry is not SKIP:
                    row[c0 + i] = entry  # type: ignore[call-overload]
        else:
            row[c0:end] = entries  # type: ignore[assignment]

    def clear_values(self, r0: int, r1: int, c0: int, c1: int) -> None:
        for r in range(r0, min(r1, len(self.data))):
            row = self.data[r]
            if row is None or c0 >= min(c1, len(row)):
                continue
            row = self._own(r, row)
            for c in range(c0, min(c1, len(row))):
                entry = row[c]
                if isinstance(entry, Cell):
                    row[c] = entry.replace(value=None, formula=None).simplified()
                else:
                    row[c] = None

    def last_row(self) -> int:
        """Index after the last row holding anything."""
        for r in range(len(self.data) - 1, -1, -1):
            row = self.data[r]
            if row and any(e is not None for e in row):
                return r + 1
        return 0

    # -- dimensions

    def insert(self, dimension: str, start: int, end: int) -> None:
        n = end - start
        if dimension == "ROWS":
            if start < len(self.data):
                self.data[start:start] = [None] * n
            self.row_count += n
            self.row_meta = {(i + n if i >= start else i): m for i, m in self.row_meta.items()}
        else:
            for r, row in enumerate(self.data):
                if row is not None and start < len(row):
                    self._own(r, row)[start:start] = [None] * n
            self.col_count += n
            self.col_meta = {(i + n if i >= start else i): m for i, m in self.col_meta.items()}

    def delete(self, dimension: str, start: int, end: int) -> None:
        n = end - start
        if dimension == "ROWS":
            del self.data[start:end]
            self.row_count -= n
            self.row_meta = {
                (i - n if i >= end else i): m for i, m in self.row_meta.items() if not start <= i < end
            }
        else:
            for r, row in enumerate(self.data):
                if row is not None and start < len(row):
                    del self._own(r, row)[start:end]
            self.col_count -= n
            self.col_meta = {
                (i - n if i >= end else i): m for i, m in self.col_meta.items() if not start <= i < end
            }

    def resize(self, rows: int, cols: int) -> None:
        if rows < len(self.data):
            del self.data[rows:]
        if cols < self.col_count:
            for r, row in enumerate(self.data):
                if row is not None and len(row) > cols:
                    del self._own(r, row)[cols:]
        self.row_count, self.col_count = rows, cols


SKIP = object()  # a null in written values: leave the cell alone
#: What a snapshot of a sheet leaves out of its deep copy: the rows (shared, copied on write).
_UNSAVED = frozenset({"data", "_saved_rows", "_shared"})


#: Who may do what with a spreadsheet, from least to most.
ROLES = ("reader", "commenter", "writer", "owner")


class Spreadsheet:
    def __init__(self, spreadsheet_id: str, title: str, *, locale: str = "en_US", time_zone: str = "Etc/GMT"):
        self.id = spreadsheet_id
        self.title = title
        self.locale = locale
        self.time_zone = time_zone
        self.extra: dict[str, Any] = {}
        self.sheets: list[Sheet] = []
        self.created = self.modified = _now()
        # None: made outside any account (through the API, or by a test without an owner), and open to
        # every token, as the emulator always was. Otherwise Drive's sharing: email -> role.
        self.owner: str | None = None
        self.shares: dict[str, str] = {}

    def role(self, email: str | None) -> str | None:
        """What the account may do with this spreadsheet: one of ROLES, or None (it cannot open it)."""
        if self.owner is None:
            return "owner"
        if email is None:
            return None
        if email == self.owner:
            return "owner"
        return self.shares.get(email)

    @property
    def rules(self) -> Locale:
        return locale_rules(self.locale)

    def properties(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "locale": self.locale,
            "autoRecalc": "ON_CHANGE",
            "timeZone": self.time_zone,
            "defaultFormat": copy.deepcopy(DEFAULT_FORMAT),
            "spreadsheetTheme": copy.deepcopy(SPREADSHEET_THEME),
            **copy.deepcopy(self.extra),
        }

    def sheet_by_id(self, sheet_id: Any, where: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        raise bad_request(f"Invalid {where}: No grid with id: {sheet_id}")

    def sheet_by_title(self, title: str | None, text: str) -> Sheet:
        if title is None:
            visible = [s for s in self.sheets if not s.hidden]
            return (visible or self.sheets)[0]
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        raise bad_request(f"Unable to parse range: {text}")

    def ref(self, text: str) -> tuple[Sheet, a1.RangeRef]:
        try:
            ref = a1.parse_range(text, [s.title for s in self.sheets])
        except a1.A1Error as exc:
            raise bad_request(str(exc)) from None
        return self.sheet_by_title(ref.title, text), ref


def _grid_error(sheet: Sheet, r: int, c: int) -> ApiError:
    cell = f"{a1.quote_title(sheet.title)}!{a1.column_letters(c)}{r + 1}"
    return bad_request(
        f"Range ({cell}) exceeds grid limits. Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
    )


def read_bounds(sheet: Sheet, ref: a1.RangeRef) -> tuple[int, int, int, int]:
    """The bounds a read covers: open sides run to the grid's edge, the far side is clipped to it."""
    r0 = ref.start_row or 0
    c0 = ref.start_col or 0
    if r0 >= sheet.row_count or c0 >= sheet.col_count:
        raise _grid_error(sheet, r0, c0)
    r1 = sheet.row_count if ref.end_row is None else min(ref.end_row, sheet.row_count)
    c1 = sheet.col_count if ref.end_col is None else min(ref.end_col, sheet.col_count)
    return r0, r1, c0, c1


# ---------------------------------------------------------------- the backend


class SheetsBackend:
    """Every spreadsheet the emulator holds, Drive's view of them, and the test controls."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, seed: int | None = None) -> None:
        self.controls = Controls(clock=clock)
        self._lock = threading.RLock()
        # the request being served, per thread: whose it is (set by authorize)
        self._request = threading.local()
        self._random = random.Random(seed)
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.issued: set[str] = set()  # every id handed out, kept across resets: those are 404 once gone
        self.accounts: dict[str, str] = {}  # access token -> the account's email, kept across resets

    def reset(self) -> None:
        """Forget every spreadsheet and every control setting."""
        with self._lock:
            self.spreadsheets.clear()
            self.controls.reset()

    # -- controls, also reachable here for in-process use

    def set_latency(self, seconds: float) -> None:
        self.controls.set_latency(seconds)

    def set_quota(
        self,
        *,
        reads_per_minute: int | None = None,
        writes_per_minute: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.controls.set_quota(
            reads_per_minute=reads_per_minute, writes_per_minute=writes_per_minute, retry_after=retry_after
        )

    def inject_errors(self, codes: list[int]) -> None:
        self.controls.inject_errors(codes)

    def calls(self) -> dict[str, int]:
        return self.controls.calls()

    def reset_calls(self) -> None:
        self.controls.reset_calls()

    def call_log(self) -> list[dict[str, object]]:
        return self.controls.call_log()

    # -- accounts and sharing

    def sign_in(self, token: str, email: str) -> None:
        """Make ``token`` an access token of the account ``email`` (Google knows whose each token is)."""
        with self._lock:
            self.accounts[token] = email.lower()

    def share(self, spreadsheet_id: str, email: str, role: str) -> None:
        """Share a spreadsheet with an account as ``reader``, ``commenter`` or ``writer``."""
        if role not in ROLES[:-1]:
            raise ValueError(f"share as one of {', '.join(ROLES[:-1])}, not {role!r}")
        with self._lock:
            spreadsheet = self.spreadsheets[spreadsheet_id]
            if spreadsheet.owner is None:
                raise ValueError("a spreadsheet without an owner is open to every account already")
            spreadsheet.shares[email.lower()] = role

    def caller(self) -> str | None:
        """The account of the request being served (None: a spreadsheet open to every token, or a call
        made outside a request), as ``authorize`` found it."""
        return getattr(self._request, "email", None)

    def protect(
        self,
        spreadsheet_id: str,
        sheet_id: int,
        *,
        rows: tuple[int, int] | None = None,
        columns: tuple[int, int] | None = None,
        editors: Iterable[str] = (),
        warning_only: bool = False,
    ) -> int:
        """Protect a range of a sheet, as a spreadsheet's owner does in Data > Protect sheets and ranges
        (0-based, end exclusive ``rows`` and ``columns``; None: all of them). Only the owner and
        ``editors`` may then edit its cells; ``warning_only`` warns and lets everyone edit."""
        with self._lock:
            spreadsheet = self.spreadsheets[spreadsheet_id]
            sheet = spreadsheet.sheet_by_id(sheet_id, "protect")
            grid: dict[str, Any] = {"sheetId": sheet.sheet_id}
            if rows is not None:
                grid.update(startRowIndex=rows[0], endRowIndex=rows[1])
            if columns is not None:
                grid.update(startColumnIndex=columns[0], endColumnIndex=columns[1])
            taken = {p["protectedRangeId"] for s in spreadsheet.sheets for p in s.protected_ranges}
            ident = max(taken, default=1_000_000) + 1
            protected: dict[str, Any] = {"protectedRangeId": ident, "range": grid}
            if warning_only:
                protected["warningOnly"] = True
            else:
                owner = [spreadsheet.owner] if spreadsheet.owner else []
                protected["editors"] = {"users": sorted({*owner, *(e.lower() for e in editors)})}
            sheet.protected_ranges.append(protected)
            return ident

    def _can_edit(self, spreadsheet: Spreadsheet, protected: dict[str, Any]) -> bool:
        email = self.caller()
        if protected.get("warningOnly") or spreadsheet.role(email) == "owner":
            return True
        return email is not None and email in protected.get("editors", {}).get("users", [])

    def _protected_json(self, spreadsheet: Spreadsheet, sheet: Sheet) -> list[dict[str, Any]]:
        """A sheet's protected ranges as Google answers them to this caller: the editors only to one who
        may edit the range."""
        answered = []
        for protected in sheet.protected_ranges:
            can_edit = self._can_edit(spreadsheet, protected)
            entry = {k: copy.deepcopy(v) for k, v in protected.items() if k != "editors" or can_edit}
            answered.append({**entry, "requestingUserCanEdit": can_edit})
        return answered

    def _check_unprotected(
        self, spreadsheet: Spreadsheet, sheet: Sheet, rows: tuple[int, int], cols: tuple[int, int]
    ) -> None:
        """Refuse, as Google does, an edit of cells in a range protected from the caller."""
        for protected in sheet.protected_ranges:
            grid = protected["range"]
            r0, r1 = grid.get("startRowIndex", 0), grid.get("endRowIndex", sheet.row_count)
            c0, c1 = grid.get("startColumnIndex", 0), grid.get("endColumnIndex", sheet.col_count)
            overlaps = rows[0] < r1 and r0 < rows[1] and cols[0] < c1 and c0 < cols[1]
            if overlaps and not self._can_edit(spreadsheet, protected):
                raise protected_cell()

    def authorize(self, kind: str, file_id: str | None, authorization: str | None) -> None:
        """Refuse a call the token's account may not make, as Google does: Sheets answers 403 to an
        account that cannot open the spreadsheet and to one that may not edit it but tries to write;
        Drive hides a file its account cannot open (404) and lets only the owner delete it."""
        self._request.email = None
        if file_id is None:
            return
        with self._lock:
            spreadsheet = self.spreadsheets.get(file_id)
            if spreadsheet is None or spreadsheet.owner is None:
                return  # unknown ids are answered by the handlers; open spreadsheets admit everyone
            scheme, _, token = (authorization or "").strip().partition(" ")
            email = self.accounts.get(token.strip() if scheme.lower() == "bearer" else scheme)
            role = spreadsheet.role(email)
            self._request.email = email
        if kind.startswith("drive."):
            if role is None:
                raise DriveError(404, f"File not found: {file_id}.", reason="notFound")
            if kind == "drive.files.delete" and role != "owner":
                raise DriveError(
                    403,
                    "The user does not have sufficient permissions for this file.",
                    reason="insufficientFilePermissions",
                )
            return
        if role is None or (kind in WRITE_CALLS and ROLES.index(role) < ROLES.index("writer")):
            raise permission_denied()

    # -- lookup

    def _new_id(self) -> str:
        return "1" + "".join(self._random.choice(_ID_CHARS) for _ in range(43))

    def _new_sheet_id(self, spreadsheet: Spreadsheet) -> int:
        taken = {s.sheet_id for s in spreadsheet.sheets}
        while True:
            candidate = self._random.randrange(1, 2**31 - 1)
            if candidate not in taken:
                return candidate

    def get(self, spreadsheet_id: str) -> Spreadsheet:
        found = self.spreadsheets.get(spreadsheet_id)
        if found is not None:
            return found
        if spreadsheet_id not in self.issued and _GOOGLE_ID.match(spreadsheet_id):
            # A well-formed id this emulator never issued stands for someone else's file.
            raise permission_denied()
        raise not_found()

    # ------------------------------------------------------------ Drive

    def create_spreadsheet(
        self,
        title: str = "Untitled spreadsheet",
        *,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
        sheets: Iterable[dict[str, Any]] | None = None,
        owner: str | None = None,
    ) -> Spreadsheet:
        """A new spreadsheet with one 1000x26 sheet (or the sheets given, as SheetProperties). With an
        ``owner`` (an email), only the owner and the accounts it is shared with may use it."""
        with self._lock:
            spreadsheet = Spreadsheet(self._new_id(), title, locale=locale, time_zone=time_zone)
            spreadsheet.owner = owner.lower() if owner else None
            for i, props in enumerate(sheets or [{}]):
                grid = props.get("gridProperties", {})
                sheet_id = props.get("sheetId", 0 if i == 0 else self._new_sheet_id(spreadsheet))
                spreadsheet.sheets.append(
                    Sheet(
                        sheet_id,
                        props.get("title", f"Sheet{i + 1}"),
                        grid.get("rowCount", DEFAULT_ROWS),
                        grid.get("columnCount", DEFAULT_COLS),
                    )
                )
            self.spreadsheets[spreadsheet.id] = spreadsheet
            self.issued.add(spreadsheet.id)
            return spreadsheet

    def drive_create(self, body: dict[str, Any]) -> dict[str, Any]:
        mime = body.get("mimeType")
        if mime != SPREADSHEET_MIME:
            raise DriveError(
                400, f"This emulator creates only {SPREADSHEET_MIME} files.", reason="badRequest"
            )
        spreadsheet = self.create_spreadsheet(body.get("name") or "Untitled spreadsheet")
        return {
            "kind": "drive#file",
            "id": spreadsheet.id,
            "name": spreadsheet.title,
            "mimeType": SPREADSHEET_MIME,
        }

    def _drive_file(self, file_id: str) -> Spreadsheet:
        found = self.spreadsheets.get(file_id)
        if found is None:
            raise DriveError(404, f"File not found: {file_id}.", reason="notFound")
        return found

    @staticmethod
    def _file_json(spreadsheet: Spreadsheet, fields: str | None) -> dict[str, Any]:
        full = {
            "kind": "drive#file",
            "id": spreadsheet.id,
            "name": spreadsheet.title,
            "mimeType": SPREADSHEET_MIME,
            "createdTime": spreadsheet.created,
            "modifiedTime": spreadsheet.modified,
        }
        if not fields:
            return {k: full[k] for k in ("kind", "id", "name", "mimeType")}
        return apply_fields(full, parse_fields(fields))

    def drive_get(self, file_id: str, fields: str | None) -> dict[str, Any]:
        with self._lock:
            return self._file_json(self._drive_file(file_id), fields)

    def drive_delete(self, file_id: str) -> None:
        with self._lock:
            self._drive_file(file_id)
            del self.spreadsheets[file_id]

    def drive_list(self, q: str | None, fields: str | None) -> dict[str, Any]:
        with self._lock:
            found = list(self.spreadsheets.values())
            name = re.search(r"name\s*=\s*'((?:[^'\\]|\\.)*)'", q or "")
            if name:
                wanted = name.group(1).replace("\\'", "'")
                found = [s for s in found if s.title == wanted]
            files_fields = None
            if fields:
                m = re.search(r"files\(([^)]*)\)", fields)
                files_fields = m.group(1) if m else None
            return {
                "kind": "drive#fileList",
                "incompleteSearch": False,
                "files": [self._file_json(s, files_fields) for s in found],
            }

    # ------------------------------------------------------------ spreadsheets.get / create

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """spreadsheets.create: properties (title, locale, timeZone) and sheets' properties."""
        props = body.get("properties") or {}
        spreadsheet = self.create_spreadsheet(
            props.get("title", "Untitled spreadsheet"),
            locale=props.get("locale", "en_US"),
            time_zone=props.get("timeZone", "Etc/GMT"),
            sheets=[s.get("properties", {}) for s in body.get("sheets") or []] or None,
        )
        return self.spreadsheet_json(spreadsheet.id)

    def spreadsheet_json(
        self,
        spreadsheet_id: str,
        *,
        ranges: list[str] | None = None,
        include_grid_data: bool = False,
        fields: str | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            spreadsheet = self.get(spreadsheet_id)
            tree = parse_fields(fields) if fields else None
            wants_data = include_grid_data or bool(tree and "data" in tree.get("sheets", {}))
            sheets_out: list[dict[str, Any]] = []
            if ranges:
                picked: dict[int, list[dict[str, Any]]] = {}
                order: list[Sheet] = []
                for text in ranges:
                    sheet, ref = spreadsheet.ref(text)
                    if sheet.sheet_id not in picked:
                        picked[sheet.sheet_id] = []
                        order.append(sheet)
                    if wants_data:
                        picked[sheet.sheet_id].append(
                            self._grid_data(spreadsheet, sheet, read_bounds(sheet, ref))
                        )
                order.sort(key=spreadsheet.sheets.index)
                for sheet in order:
                    entry: dict[str, Any] = {"properties": sheet.properties(spreadsheet.sheets.index(sheet))}
                    entry.update(sheet.extras())
                    if sheet.protected_ranges:
                        entry["protectedRanges"] = self._protected_json(spreadsheet, sheet)
                    if wants_data:
                        entry["data"] = picked[sheet.sheet_id]
                    sheets_out.append(entry)
            else:
                for index, sheet in enumerate(spreadsheet.sheets):
                    entry = {"properties": sheet.properties(index), **sheet.extras()}
                    if sheet.protected_ranges:
                        entry["protectedRanges"] = self._protected_json(spreadsheet, sheet)
                    if wants_data:
                        bounds = (0, sheet.row_count, 0, sheet.col_count)
                        entry["data"] = [self._grid_data(spreadsheet, sheet, bounds)]
                    sheets_out.append(entry)
            result = {
                "spreadsheetId": spreadsheet.id,
                "properties": spreadsheet.properties(),
                "sheets": sheets_out,
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{spreadsheet.id}/edit",
            }
            return apply_fields(result, tree) if tree else result

    def _grid_data(
        self, spreadsheet: Spreadsheet, sheet: Sheet, bounds: tuple[int, int, int, int]
    ) -> dict[str, Any]:
        r0, r1, c0, c1 = bounds
        rules = spreadsheet.rules
        row_data: list[dict[str, Any]] = []
        for r in range(r0, r1):
            row = sheet.row(r)
            values = [] if row is None else [_cell_data(e, rules) for e in row[c0:c1]]
            while values and not values[-1]:
                values.pop()
            row_data.append({"values": values} if values else {})
        while row_data and not row_data[-1]:
            row_data.pop()
        data: dict[str, Any] = {}
        if r0:
            data["startRow"] = r0
        if c0:
            data["startColumn"] = c0
        if row_data:
            data["rowData"] = row_data
        data["rowMetadata"] = [{"pixelSize": 21, **sheet.row_meta.get(r, {})} for r in range(r0, r1)]
        data["columnMetadata"] = [{"pixelSize": 100, **sheet.col_meta.get(c, {})} for c in range(c0, c1)]
        return data

    # ------------------------------------------------------------ values

    def values_get(
        self,
        spreadsheet_id: str,
        range_text: str,
        *,
        value_option: str = "FORMATTED_VALUE",
        datetime_option: str = "SERIAL_NUMBER",
        major: str = "ROWS",
    ) -> dict[str, Any]:
        with self._lock:
            spreadsheet = self.get(spreadsheet_id)
            return self._value_range(spreadsheet, range_text, value_option, datetime_option, major)

    def values_batch_get(
        self,
        spreadsheet_id: str,
        ranges: list[str],
        *,
        value_option: str = "FORMATTED_VALUE",
        datetime_option: str = "SERIAL_NUMBER",
        major: str = "ROWS",
    ) -> dict[str, Any]:
        with self._lock:
            spreadsheet = self.get(spreadsheet_id)
            value_ranges = [
                self._value_range(spreadsheet, text, value_option, datetime_option, major) for text in ranges
            ]
            result: dict[str, Any] = {"spreadsheetId": spreadsheet.id}
            if value_ranges:
                result["valueRanges"] = value_ranges
            return result

    def values_batch_get_by_data_filter(self, spreadsheet_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """values:batchGetByDataFilter with ``a1Range`` filters: each range read as values:batchGet
        reads it, answered as a MatchedValueRange that names the filters of the request it matched
        (identical filters share one). Developer-metadata and grid-range filters are not emulated."""
        filters = body.get("dataFilters")
        if not isinstance(filters, list) or not filters:
            raise bad_request("Must specify at least one data filter.")
        for key in body:
            if key not in {"dataFilters", "majorDimension", "valueRenderOption", "dateTimeRenderOption"}:
                raise bad_request(f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
        texts: list[str] = []
        for data_filter in filters:
            if not isinstance(data_filter, dict) or list(data_filter) != ["a1Range"]:
                raise bad_request("The emulator answers data filters with a1Range only.")
            if data_filter["a1Range"] not in texts:
                texts.append(data_filter["a1Range"])
        with self._lock:
            spreadsheet = self.get(spreadsheet_id)
            matched = [
                {
                    "valueRange": self._value_range(
                        spreadsheet,
                        text,
                        body.get("valueRenderOption") or "FORMATTED_VALUE",
                        body.get("dateTimeRenderOption") or "SERIAL_NUMBER",
                        body.get("majorDimension") or "ROWS",
                    ),
                    "dataFilters": [f for f in filters if f["a1Range"] == text],
                }
                for text in texts
            ]
            return {"spreadsheetId": spreadsheet.id, "valueRanges": matched}

    def _value_range(
        self, spreadsheet: Spreadsheet, text: str, value_option: str, datetime_option: str, major: str
    ) -> dict[str, Any]:
        _check_option("valueRenderOption", value_option, VALUE_RENDER_OPTIONS)
        _check_option("dateTimeRenderOption", datetime_option, DATETIME_RENDER_OPTIONS)
        _check_option("majorDimension", major, ("ROWS", "COLUMNS"))
        sheet, ref = spreadsheet.ref(text)
        r0, r1, c0, c1 = read_bounds(sheet, ref)
        values = _read(sheet, (r0, r1, c0, c1), value_option, datetime_option, spreadsheet.rules)
        if major == "COLUMNS":
            values = _transpose(values)
        out: dict[str, Any] = {"range": a1.format_range(sheet.title, r0, r1, c0, c1), "majorDimension": major}
        if values:
            out["values"] = values
        return out

    def values_update(
        self,
        spreadsheet_id: str,
        range_text: str,
        body: dict[str, Any],
        *,
        input_option: str | None,
        include_values: bool = False,
        value_option: str = "FORMATTED_VALUE",
        datetime_option: str = "SERIAL_NUMBER",
    ) -> dict[str, Any]:
        with self._lock:
            spreadsheet = self.get(spreadsheet_id)
            option = _input_option(input_option)
            if body.get("range") and _strip(body["range"]) != _strip(range_text):
                raise bad_request(
                    f"Requested range ({range_text}) does not match the range in the body ({body['range']})."
                )
            plan = self._plan_write(spreadsheet, range_text, body)
            result = self._apply_write(spreadsheet, plan, option)
            if include_values:
                result["updatedData"] = self._value_range(
                    spreadsheet, result["updatedRange"], value_option, datetime_option, "ROWS"
                )
            spreadsheet.modified = _now()
            return {"spreadsheetId": spreadsheet.id, **result}

    def values_batch_update(self, spreadsheet_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            spreadsheet = self.get(spreadsheet_id)
            option = _input_option(body.get("valueInputOption"))
            data = body.get("data") or []
            # Check every entry before writing any, so a bad one leaves the sheet untouched.
            plans = [self._plan_write(spreadsheet, entry.get("range", ""), entry) for entry in data]
            responses = [self._apply_write(spreadsheet, plan, option) for plan in plans]
            rows: dict[int, set[int]] = {}  # sheet id -> rows touched
            cols: dict[int, set[int]] = {}
            for plan in plans:
                rows.setdefault(plan.sheet.sheet_id, set()).update(plan.rows_touched)
                cols.setdefault(plan.sheet.sheet_id, set()).update(plan.cols_touched)
            total_cells = sum(r.get("updatedCells", 0) for r in responses)
            result: dict[str, Any] = {"spreadsheetId": spreadsheet.id}
            if total_cells:
                result.update(
                    totalUpdatedRows=sum(map(len, rows.values())),
                    totalUpdatedColumns=sum(map(len, cols.values())),
                    totalUpdatedCells=total_cells,
                    totalUpdatedSheets=len({p.sheet.sheet_id for p in plans if p.cells}),
                )
            result["responses"] = [{"spreadsheetId": spreadsheet.id, **r} for r in responses]
            if body.get("includeValuesInResponse"):
                for plan, response in zip(plans, result["responses"], strict=True):
                    response["updatedData"] = self._value_range(
                        spreadsheet,
                        response["updatedRange"],
                        body.get("responseValueRenderOption", "FORMATTED_VALUE"),
                        body.get("responseDateTimeRenderOption", "SERIAL_NUMBER"),
                        "ROWS",
                    )
                    del plan
            spreadsheet.modified = _now()
            return result

    def _plan_write(self, spreadsheet: Spreadsheet, range_text: str, body: dict[str, Any]) -> _WritePlan:
        sheet, ref = spreadsheet.ref(range_text)
        values = body.get("values") or []
        if not isinstance(values, list) or not all(map(list.__instancecheck__, values)):
            raise bad_request("Invalid values: expected a list of lists.")
        major = body.get("majorDimension") or "ROWS"
        _check_option("majorDimension", major, ("ROWS", "COLUMNS"))
        if major == "COLUMNS":
            values = _transpose_raw(values)
        r0, c0 = ref.start_row or 0, ref.start_col or 0
        height = len(values)
        width = max(map(len, values), default=0)
        given = ref

        def label() -> str:
            end_row, end_col = given.end_row or r0 + max(height, 1), given.end_col or c0 + max(width, 1)
            return a1.format_range(sheet.title, r0, end_row, c0, end_col)

        if (
            ref.end_row is not None
            and ref.end_col is not None
            and (ref.end_row - r0, ref.end_col - c0) == (1, 1)
        ):
            ref = a1.RangeRef(ref.title, r0, None, c0, None)  # one cell is an anchor: the values set the size
        if ref.end_row is not None and r0 + height > ref.end_row:
            raise bad_request(
                f"Requested writing within range [{label()}], but tried writing to row [{r0 + height}]"
            )
        if ref.end_col is not None and c0 + width > ref.end_col:
            raise bad_request(
                f"Requested writing within range [{label()}], but tried writing to column "
                f"[{a1.column_letters(c0 + width - 1)}]"
            )
        if height and (r0 + height > sheet.row_count or c0 + width > sheet.col_count):
            raise _grid_error(sheet, max(r0, min(r0 + height, sheet.row_count)), c0)
        if not height and (r0 >= sheet.row_count or c0 >= sheet.col_count):
            raise _grid_error(sheet, r0, c0)
        for row in values:
            for value in row:
                # Google counts a cell's characters in UTF-16 code units, as its editor does: in ASCII
                # text, one a character, so only other text needs encoding to be counted.
                if (
                    isinstance(value, str)
                    and (len(value) > MAX_CELL_CHARS or not value.isascii())
                    and len(value.encode("utf-16-le")) // 2 > MAX_CELL_CHARS
                ):
                    raise bad_request(
                        f"Your input contains more than the maximum of {MAX_CELL_CHARS} characters in a "
                        "single cell."
                    )
        if height and width:
            self._check_unprotected(spreadsheet, sheet, (r0, r0 + height), (c0, c0 + width))
        return _WritePlan(sheet, r0, c0, values, ref)

    def _apply_write(self, spreadsheet: Spreadsheet, plan: _WritePlan, option: str) -> dict[str, Any]:
        sheet, r0, c0 = plan.sheet, plan.r0, plan.c0
        rules = spreadsheet.rules
        raw = option == "RAW"
        full_widths: set[int] = set()  # of rows with no null: every cell of theirs is written
        for i, row in enumerate(plan.values):
            if not row:
                continue
            try:
                if raw:  # raw_input keeps text that is not empty as it is
                    entries = [
                        v if type(v) is str and v else SKIP if v is None else raw_input(v) for v in row
                    ]
                else:
                    entries = [SKIP if v is None else user_entered(v, rules) for v in row]
            except ValueError as exc:
                raise bad_request(f"Invalid values[{i}]: {exc}") from None
            if None in row:
                written = [j for j, v in enumerate(row) if v is not None]
                if not written:
                    continue
                plan.cols_touched.update(c0 + j for j in written)
                plan.cells += len(written)
            else:
                full_widths.add(len(row))
                plan.cells += len(row)
            plan.rows_touched.add(r0 + i)
            sheet.put_row(r0 + i, c0, entries)
        for width in full_widths:
            plan.cols_touched.update(range(c0, c0 + width))
        height = len(plan.values)
        width = max(map(len, plan.values), default=0)
        if height and width:
            updated_range = a1.format_range(sheet.title, r0, r0 + height, c0, c0 + width)
        else:
            bounds = read_bounds(sheet, plan.ref)
            updated_range = a1.format_range(sheet.title, *bounds)
        result: dict[str, Any] = {"updatedRange": updated_range}
        if plan.cells:
            result.update(
                updatedRows=len(plan.rows_touched),
                updatedColumns=len(plan.cols_touched),
                updatedCells=plan.cells,
            )
        return result

    def values_append(
        self,
        spreadsheet_id: str,
        range_text: str,
        body: dict[str, Any],
        *,
        input_option: str | None,
        insert_option: str | None = None,
        include_values: bool = False,
    ) -> dict[str, Any]:
        with self._lock:
            spreadsheet = self.get(spreadsheet_id)
            option = _input_option(input_option)
            _check_option("insertDataOption", insert_option or "OVERWRITE", ("OVERWRITE", "INSERT_ROWS"))
            sheet, ref = spreadsheet.ref(range_text)
            values = body.get("values") or []
            if (body.get("majorDimension") or "ROWS") == "COLUMNS":
                values = _transpose_raw(values)
            table = _find_table(sheet, ref)
            height = len(values)
            width = max((len(row) for row in values), default=0)
            if table is None:
                r0, c0 = ref.start_row or 0, ref.start_col or 0
            else:
                r0, c0 = table[1], table[2]
            if c0 + width > sheet.col_count:
                raise _grid_error(sheet, r0, sheet.col_count)
            if insert_option == "INSERT_ROWS" and r0 < sheet.row_count:
                sheet.insert("ROWS", r0, r0 + height)
            elif r0 + height > sheet.row_count:
                sheet.row_count = r0 + height  # appending grows the sheet, as in the Sheets UI
            plan = _WritePlan(
                sheet, r0, c0, values, a1.RangeRef(sheet.title, r0, r0 + height, c0, c0 + width)
            )
            updates = {"spreadsheetId": spreadsheet.id, **self._apply_write(spreadsheet, plan, option)}
            if include_values:
                updates["updatedData"] = self._value_range(
                    spreadsheet, updates["updatedRange"], "FORMATTED_VALUE", "SERIAL_NUMBER", "ROWS"
                )
            result: dict[str, Any] = {"spreadsheetId": spreadsheet.id}
            if table is not None:
                result["tableRange"] = a1.format_range(sheet.title, table[0], table[1], table[2], table[3])
            result["updates"] = updates
            spreadsheet.modified = _now()
            return result

    def values_clear(self, spreadsheet_id: str, range_text: str) -> dict[str, Any]:
        with self._lock:
            spreadsheet = self.get(spreadsheet_id)
            cleared = self._clear(spreadsheet, [range_text])
            return {"spreadsheetId": spreadsheet.id, "clearedRange": cleared[0]}

    def values_batch_clear(self, spreadsheet_id: str, ranges: list[str]) -> dict[str, Any]:
        with self._lock:
            spreadsheet = self.get(spreadsheet_id)
            cleared = self._clear(spreadsheet, ranges)
            return {"spreadsheetId": spreadsheet.id, "clearedRanges": cleared}

    def _clear(self, spreadsheet: Spreadsheet, ranges: list[str]) -> list[str]:
        targets = []
        for text in ranges:
            sheet, ref = spreadsheet.ref(text)
            targets.append((sheet, read_bounds(sheet, ref)))
        for sheet, (r0, r1, c0, c1) in targets:
            self._check_unprotected(spreadsheet, sheet, (r0, r1), (c0, c1))
        for sheet, bounds in targets:
            sheet.clear_values(*bounds)
        spreadsheet.modified = _now()
        return [a1.format_range(sheet.title, *bounds) for sheet, bounds in targets]

    # ------------------------------------------------------------ spreadsheets.batchUpdate

    def batch_update(self, spreadsheet_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Apply every request in order; if one fails, none has happened (Google's batches are atomic)."""
        with self._lock:
            spreadsheet = self.get(spreadsheet_id)
            requests = body.get("requests")
            if not isinstance(requests, list) or not requests:
                raise bad_request("Must specify at least one request.")
            saved = (
                list(spreadsheet.sheets),
                {s.sheet_id: s.snapshot() for s in spreadsheet.sheets},
                (
                    spreadsheet.title,
                    spreadsheet.locale,
                    spreadsheet.time_zone,
                    copy.deepcopy(spreadsheet.extra),
                ),
            )
            replies = []
            try:
                for i, request in enumerate(requests):
                    if not isinstance(request, dict) or len(request) != 1:
                        raise bad_request(f"Invalid requests[{i}]: exactly one kind of request is expected.")
                    kind, args = next(iter(request.items()))
                    handler = getattr(self, f"_req_{kind}", None)
                    if handler is None:
                        raise bad_request(
                            f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]': "
                            "Cannot find field."
                        )
                    replies.append(handler(spreadsheet, args or {}, f"requests[{i}].{kind}"))
            except ApiError:
                sheets, states, (title, locale, time_zone, extra) = saved
                spreadsheet.sheets = sheets
                for sheet in sheets:
                    sheet.restore(states[sheet.sheet_id])
                spreadsheet.title, spreadsheet.locale, spreadsheet.time_zone = title, locale, time_zone
                spreadsheet.extra = extra
                raise
            finally:
                for sheet in saved[0]:
                    sheet.release()
            spreadsheet.modified = _now()
            result: dict[str, Any] = {"spreadsheetId": spreadsheet.id, "replies": replies}
            if body.get("includeSpreadsheetInResponse"):
                result["updatedSpreadsheet"] = self.spreadsheet_json(spreadsheet.id)
            return result

    def _req_addSheet(self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str) -> dict[str, Any]:
        props = args.get("properties") or {}
        titles = {s.title.lower() for s in spreadsheet.sheets}
        title = props.get("title")
        if title is None:
            n = len(spreadsheet.sheets) + 1
            while f"sheet{n}" in titles:
                n += 1
            title = f"Sheet{n}"
        elif title.lower() in titles:
            raise bad_request(
                f'Invalid {where}: A sheet with the name "{title}" already exists. Please enter another name.'
            )
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = self._new_sheet_id(spreadsheet)
        elif any(s.sheet_id == sheet_id for s in spreadsheet.sheets):
            raise bad_request(f"Invalid {where}: A sheet with id {sheet_id} already exists.")
        grid = props.get("gridProperties") or {}
        sheet = Sheet(
            sheet_id, title, grid.get("rowCount", DEFAULT_ROWS), grid.get("columnCount", DEFAULT_COLS)
        )
        sheet.grid_extra = {k: v for k, v in grid.items() if k not in ("rowCount", "columnCount")}
        sheet.hidden = bool(props.get("hidden", False))
        for key in ("tabColor", "tabColorStyle", "rightToLeft"):
            if key in props:
                self._set_sheet_prop(sheet, [key], props[key])
        index = props.get("index", len(spreadsheet.sheets))
        spreadsheet.sheets.insert(min(max(index, 0), len(spreadsheet.sheets)), sheet)
        return {"addSheet": {"properties": sheet.properties(spreadsheet.sheets.index(sheet))}}

    def _req_deleteSheet(self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str) -> dict[str, Any]:
        sheet = spreadsheet.sheet_by_id(args.get("sheetId"), where)
        if len(spreadsheet.sheets) == 1:
            raise bad_request(f"Invalid {where}: You can't remove all the sheets in a document.")
        spreadsheet.sheets.remove(sheet)
        if all(s.hidden for s in spreadsheet.sheets):
            spreadsheet.sheets[0].hidden = False
        return {}

    def _set_sheet_prop(self, sheet: Sheet, path: list[str], value: Any) -> None:
        head = path[0]
        if head in ("tabColor", "tabColorStyle"):
            color = value.get("rgbColor") if head == "tabColorStyle" and isinstance(value, dict) else value
            if head == "tabColorStyle" and isinstance(value, dict) and "themeColor" in value:
                sheet.extra["tabColorStyle"] = {"themeColor": value["themeColor"]}
                sheet.extra.pop("tabColor", None)
                return
            if not isinstance(color, dict):
                sheet.extra.pop("tabColor", None)
                sheet.extra.pop("tabColorStyle", None)
                return
            cleaned = _clean_color(color)
            sheet.extra["tabColor"] = cleaned
            sheet.extra["tabColorStyle"] = {"rgbColor": dict(cleaned)}
            return
        if value is None:
            sheet.extra.pop(head, None)
        else:
            _set_path(sheet.extra, path, value)

    def _req_updateSheetProperties(
        self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str
    ) -> dict[str, Any]:
        props = args.get("properties") or {}
        fields = args.get("fields")
        if not fields:
            raise bad_request(f"Invalid {where}: At least one field must be updated.")
        sheet = spreadsheet.sheet_by_id(props.get("sheetId"), where)
        paths = [p for p in _mask_paths(fields) if p != ["sheetId"]]
        if ["*"] in paths:
            paths = [[k] for k in props if k != "sheetId"] + [
                ["gridProperties", k] for k in (props.get("gridProperties") or {})
            ]
            paths = [p for p in paths if p != ["gridProperties"]]
        rows, cols = sheet.row_count, sheet.col_count
        for path in paths:
            value = _get_path(props, path)
            head = path[0]
            if head == "title":
                if not value:
                    raise bad_request(f"Invalid {where}: The sheet name cannot be empty.")
                if any(s is not sheet and s.title.lower() == str(value).lower() for s in spreadsheet.sheets):
                    raise bad_request(
                        f'Invalid {where}: A sheet with the name "{value}" already exists. '
                        "Please enter another name."
                    )
                sheet.title = value
            elif head == "index":
                spreadsheet.sheets.remove(sheet)
                spreadsheet.sheets.insert(min(max(int(value or 0), 0), len(spreadsheet.sheets)), sheet)
            elif head == "hidden":
                if value and all(s.hidden or s is sheet for s in spreadsheet.sheets):
                    raise bad_request(f"Invalid {where}: You can't hide all the sheets in a document.")
                sheet.hidden = bool(value)
            elif head == "gridProperties":
                sub = path[1:] or list((props.get("gridProperties") or {}).keys())
                for name in [sub[0]] if path[1:] else sub:
                    v = (props.get("gridProperties") or {}).get(name)
                    if name == "rowCount":
                        rows = int(v or 0)
                    elif name == "columnCount":
                        cols = int(v or 0)
                    elif v in (None, False, 0):
                        sheet.grid_extra.pop(name, None)
                    else:
                        sheet.grid_extra[name] = v
            elif head in ("sheetType",):
                continue
            else:
                self._set_sheet_prop(sheet, path, value)
        if (rows, cols) != (sheet.row_count, sheet.col_count):
            if rows < 1 or cols < 1:
                raise bad_request(f"Invalid {where}: A sheet must have at least one row and one column.")
            sheet.resize(rows, cols)
        return {}

    def _req_updateSpreadsheetProperties(
        self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str
    ) -> dict[str, Any]:
        props = args.get("properties") or {}
        fields = args.get("fields")
        if not fields:
            raise bad_request(f"Invalid {where}: At least one field must be updated.")
        paths = _mask_paths(fields)
        if ["*"] in paths:
            paths = [[k] for k in props]
        for path in paths:
            value = _get_path(props, path)
            if path == ["title"]:
                spreadsheet.title = value or "Untitled spreadsheet"
            elif path == ["locale"]:
                spreadsheet.locale = value or "en_US"
            elif path == ["timeZone"]:
                spreadsheet.time_zone = value or "Etc/GMT"
            else:
                _set_path(spreadsheet.extra, path, value)
        return {}

    def _dimension_range(
        self, spreadsheet: Spreadsheet, rng: dict[str, Any], where: str
    ) -> tuple[Sheet, str, int, int]:
        sheet = spreadsheet.sheet_by_id(rng.get("sheetId", 0), where)
        dimension = rng.get("dimension")
        if dimension not in ("ROWS", "COLUMNS"):
            raise bad_request(f"Invalid {where}: dimension must be ROWS or COLUMNS.")
        limit = sheet.row_count if dimension == "ROWS" else sheet.col_count
        start = int(rng.get("startIndex", 0))
        end = int(rng.get("endIndex", limit))
        if not 0 <= start < end:
            raise bad_request(f"Invalid {where}: startIndex must be less than endIndex.")
        return sheet, dimension, start, end

    def _req_insertDimension(
        self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str
    ) -> dict[str, Any]:
        sheet, dimension, start, end = self._dimension_range(spreadsheet, args.get("range") or {}, where)
        limit = sheet.row_count if dimension == "ROWS" else sheet.col_count
        if start > limit:
            raise bad_request(f"Invalid {where}: range ({start}..{end}) exceeds the sheet's size ({limit}).")
        if start == 0 and args.get("inheritFromBefore"):
            raise bad_request(
                f"Invalid {where}: Cannot inherit properties from before the first row or column."
            )
        sheet.insert(dimension, start, end)
        return {}

    def _req_deleteDimension(
        self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str
    ) -> dict[str, Any]:
        sheet, dimension, start, end = self._dimension_range(spreadsheet, args.get("range") or {}, where)
        limit = sheet.row_count if dimension == "ROWS" else sheet.col_count
        end = min(end, limit)
        if start >= limit:
            raise bad_request(f"Invalid {where}: range is outside the sheet.")
        if start == 0 and end == limit:
            noun = "rows" if dimension == "ROWS" else "columns"
            raise bad_request(f"Invalid {where}: You can't delete all the {noun} on the sheet.")
        sheet.delete(dimension, start, end)
        return {}

    def _req_appendDimension(
        self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str
    ) -> dict[str, Any]:
        sheet = spreadsheet.sheet_by_id(args.get("sheetId"), where)
        length = int(args.get("length", 0))
        if length < 1:
            raise bad_request(f"Invalid {where}: length must be positive.")
        if args.get("dimension") == "ROWS":
            sheet.row_count += length
        elif args.get("dimension") == "COLUMNS":
            sheet.col_count += length
        else:
            raise bad_request(f"Invalid {where}: dimension must be ROWS or COLUMNS.")
        return {}

    def _rule_ranges(self, spreadsheet: Spreadsheet, ranges: Any, where: str) -> list[dict[str, Any]]:
        """GridRanges of one sheet, each inside its grid (an end left out runs to the grid's end)."""
        if not isinstance(ranges, list) or not ranges:
            raise bad_request(f"Invalid {where}: ranges must not be empty.")
        sheet_ids = set()
        for rng in ranges:
            if not isinstance(rng, dict):
                raise bad_request(f"Invalid {where}: a range must be a GridRange.")
            sheet, r0, r1, c0, c1 = self._grid_range(spreadsheet, rng, where)
            if r0 >= r1 or c0 >= c1:
                raise bad_request(f"Invalid {where}: empty range.")
            sheet_ids.add(sheet.sheet_id)
        if len(sheet_ids) != 1:
            raise bad_request(f"Invalid {where}: All ranges must be on the same sheet.")
        return [
            {"sheetId": next(iter(sheet_ids)), **{k: v for k, v in r.items() if k != "sheetId"}}
            for r in ranges
        ]

    def _req_addConditionalFormatRule(
        self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str
    ) -> dict[str, Any]:
        rule = args.get("rule")
        if not isinstance(rule, dict):
            raise bad_request(f"Invalid {where}: rule must be set.")
        ranges = self._rule_ranges(spreadsheet, rule.get("ranges"), f"{where}.rule")
        kinds = [k for k in ("booleanRule", "gradientRule") if k in rule]
        if len(kinds) != 1:
            raise bad_request(f"Invalid {where}: a rule is either a booleanRule or a gradientRule.")
        stored: dict[str, Any] = {"ranges": ranges}
        if kinds[0] == "booleanRule":
            boolean = rule["booleanRule"]
            condition = boolean.get("condition") if isinstance(boolean, dict) else None
            if not isinstance(condition, dict) or not condition.get("type"):
                raise bad_request(f"Invalid {where}: booleanRule.condition.type must be set.")
            stored["booleanRule"] = {
                "condition": copy.deepcopy(condition),
                "format": _style_colors(copy.deepcopy(boolean.get("format") or {})),
            }
        else:
            stored["gradientRule"] = copy.deepcopy(rule["gradientRule"])
        sheet = spreadsheet.sheet_by_id(ranges[0]["sheetId"], where)
        index = int(args.get("index", 0))
        if not 0 <= index <= len(sheet.conditional_formats):
            raise bad_request(f"Invalid {where}: index {index} is out of bounds.")
        sheet.conditional_formats.insert(index, stored)
        # Google's Response has no reply for this request: an empty one stands in its place.
        return {}

    def _req_addFilterView(
        self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str
    ) -> dict[str, Any]:
        view = args.get("filter")
        if not isinstance(view, dict) or not isinstance(view.get("range"), dict):
            raise bad_request(f"Invalid {where}: filter.range must be set.")
        [rng] = self._rule_ranges(spreadsheet, [view["range"]], f"{where}.filter")
        sheet = spreadsheet.sheet_by_id(rng["sheetId"], where)
        taken = {v["filterViewId"] for s in spreadsheet.sheets for v in s.filter_views}
        view_id = view.get("filterViewId")
        if view_id is None:
            view_id = self._random.randrange(1, 2**31 - 1)
            while view_id in taken:
                view_id = self._random.randrange(1, 2**31 - 1)
        elif view_id in taken:
            raise bad_request(f"Invalid {where}: Duplicate filter view ID: {view_id}")
        stored = {**copy.deepcopy(view), "filterViewId": int(view_id), "range": rng}
        sheet.filter_views.append(stored)
        return {"addFilterView": {"filter": copy.deepcopy(stored)}}

    def _req_updateDimensionProperties(
        self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str
    ) -> dict[str, Any]:
        sheet, dimension, start, end = self._dimension_range(spreadsheet, args.get("range") or {}, where)
        props = args.get("properties") or {}
        fields = args.get("fields")
        if not fields:
            raise bad_request(f"Invalid {where}: At least one field must be updated.")
        meta = sheet.row_meta if dimension == "ROWS" else sheet.col_meta
        paths = _mask_paths(fields)
        if ["*"] in paths:
            paths = [[k] for k in props]
        for i in range(start, end):
            entry = meta.setdefault(i, {})
            for path in paths:
                value = _get_path(props, path)
                _set_path(entry, path, None if value is False else value)
            if not entry:
                del meta[i]
        return {}

    def _grid_range(
        self, spreadsheet: Spreadsheet, rng: dict[str, Any], where: str
    ) -> tuple[Sheet, int, int, int, int]:
        sheet = spreadsheet.sheet_by_id(rng.get("sheetId", 0), where)
        r0 = int(rng.get("startRowIndex", 0))
        r1 = int(rng.get("endRowIndex", sheet.row_count))
        c0 = int(rng.get("startColumnIndex", 0))
        c1 = int(rng.get("endColumnIndex", sheet.col_count))
        if r1 > sheet.row_count or c1 > sheet.col_count:
            label = a1.format_range(sheet.title, r0, max(r1, r0 + 1), c0, max(c1, c0 + 1))
            raise bad_request(
                f"Invalid {where}: Range ({label}) exceeds grid limits. "
                f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
            )
        return sheet, r0, r1, c0, c1

    def _set_cell_fields(
        self, spreadsheet: Spreadsheet, entry: Stored, data: dict[str, Any], paths: list[list[str]]
    ) -> Stored:
        cell = entry if isinstance(entry, Cell) else Cell(entry)
        rules = spreadsheet.rules
        for path in paths:
            head = path[0]
            if head == "*":
                return self._set_cell_fields(
                    spreadsheet, entry, data, [["userEnteredValue"], ["userEnteredFormat"], ["note"]]
                )
            if head == "note":
                cell = cell.replace(note=data.get("note") or None)
            elif head == "userEnteredValue":
                value = data.get("userEnteredValue") or {}
                if "formulaValue" in value:
                    cell = cell.replace(**vars_of(user_entered(value["formulaValue"], rules)))
                elif "stringValue" in value:
                    cell = cell.replace(value=value["stringValue"] or None, formula=None)
                elif "numberValue" in value:
                    cell = cell.replace(value=value["numberValue"], formula=None)
                elif "boolValue" in value:
                    cell = cell.replace(value=bool(value["boolValue"]), formula=None)
                else:
                    cell = cell.replace(value=None, formula=None)
            elif head == "userEnteredFormat":
                fmt = copy.deepcopy(cell.format or {})
                given = data.get("userEnteredFormat") or {}
                if len(path) == 1:
                    fmt = copy.deepcopy(given)
                else:
                    _set_path(fmt, path[1:], _get_path(given, path[1:]))
                number_format = fmt.get("numberFormat") or cell.number_format
                cell = cell.replace(format=_style_colors(fmt) or None, number_format=number_format)
            else:
                continue
        return cell.simplified()

    def _req_findReplace(self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str) -> dict[str, Any]:
        """Replace text in the values of cells (formulas are not searched: includeFormulas is refused)."""
        find = args.get("find")
        if not isinstance(find, str) or not find:
            raise bad_request(f"Invalid {where}: find must not be empty.")
        replacement = args.get("replacement") or ""
        scopes = [name for name in ("range", "sheetId") if args.get(name) is not None]
        scopes += ["allSheets"] if args.get("allSheets") is True else []
        if len(scopes) != 1:
            raise bad_request(f"Invalid {where}: exactly one of range, sheetId or allSheets must be set.")
        if args.get("includeFormulas"):
            raise bad_request(f"Invalid {where}: this emulator does not search formulas.")
        if scopes == ["range"]:
            sheet, r0, r1, c0, c1 = self._grid_range(spreadsheet, args["range"], where)
            areas = [(sheet, r0, r1, c0, c1)]
        elif scopes == ["sheetId"]:
            sheet = spreadsheet.sheet_by_id(args["sheetId"], where)
            areas = [(sheet, 0, sheet.row_count, 0, sheet.col_count)]
        else:
            areas = [(sheet, 0, sheet.row_count, 0, sheet.col_count) for sheet in spreadsheet.sheets]
        for sheet, r0, r1, c0, c1 in areas:
            self._check_unprotected(spreadsheet, sheet, (r0, r1), (c0, c1))
        flags = 0 if args.get("matchCase") else re.IGNORECASE
        pattern = re.compile(find if args.get("searchByRegex") else re.escape(find), flags)
        entire = bool(args.get("matchEntireCell"))
        occurrences = values = 0
        rows: set[tuple[int, int]] = set()
        sheets: set[int] = set()
        for sheet, r0, r1, c0, c1 in areas:
            for r in range(r0, min(r1, len(sheet.data))):
                row = sheet.data[r]
                for c in range(c0, min(c1, len(row) if row else 0)):
                    entry = row[c]  # type: ignore[index]
                    text = value_of(entry)
                    if not isinstance(text, str) or (isinstance(entry, Cell) and entry.formula):
                        continue
                    if entire:
                        found = 1 if pattern.fullmatch(text) else 0
                        new = replacement if found else text
                    else:
                        new, found = pattern.subn(lambda _match: replacement, text)
                    if not found:
                        continue
                    occurrences += found
                    values += 1
                    rows.add((sheet.sheet_id, r))
                    sheets.add(sheet.sheet_id)
                    sheet.put(r, c, entry.replace(value=new) if isinstance(entry, Cell) else new)
        counts = {
            "valuesChanged": values,
            "rowsChanged": len(rows),
            "sheetsChanged": len(sheets),
            "occurrencesChanged": occurrences,
        }
        # Google leaves counts of zero out of the reply, as it does every zero number.
        return {"findReplace": {name: n for name, n in counts.items() if n}}

    def _req_updateCells(self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str) -> dict[str, Any]:
        fields = args.get("fields")
        if not fields:
            raise bad_request(f"Invalid {where}: At least one field must be updated.")
        paths = _mask_paths(fields)
        rows = args.get("rows") or []
        if "range" in args:
            sheet, r0, r1, c0, c1 = self._grid_range(spreadsheet, args["range"], where)
        else:
            start = args.get("start") or {}
            sheet = spreadsheet.sheet_by_id(start.get("sheetId", 0), where)
            r0, c0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
            r1 = r0 + len(rows)
            c1 = c0 + max((len(row.get("values") or []) for row in rows), default=0)
            if r1 > sheet.row_count or c1 > sheet.col_count:
                raise _grid_error(sheet, r1 - 1, c1 - 1)
        for r in range(r0, r1):
            given = rows[r - r0].get("values") or [] if r - r0 < len(rows) else []
            for c in range(c0, c1):
                data = given[c - c0] if c - c0 < len(given) else {}
                sheet.put(r, c, self._set_cell_fields(spreadsheet, sheet.get(r, c), data or {}, paths))
        return {}

    def _req_repeatCell(self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str) -> dict[str, Any]:
        fields = args.get("fields")
        if not fields:
            raise bad_request(f"Invalid {where}: At least one field must be updated.")
        paths = _mask_paths(fields)
        sheet, r0, r1, c0, c1 = self._grid_range(spreadsheet, args.get("range") or {}, where)
        data = args.get("cell") or {}
        for r in range(r0, r1):
            for c in range(c0, c1):
                sheet.put(r, c, self._set_cell_fields(spreadsheet, sheet.get(r, c), data, paths))
        return {}

    def _req_sortRange(self, spreadsheet: Spreadsheet, args: dict[str, Any], where: str) -> dict[str, Any]:
        sheet, r0, r1, c0, c1 = self._grid_range(spreadsheet, args.get("range") or {}, where)
        specs = args.get("sortSpecs") or [{"dimensionIndex": c0, "sortOrder": "ASCENDING"}]
        r1 = min(r1, len(sheet.data))
        block = [(sheet.row(r) or [])[c0:c1] for r in range(r0, r1)]
        for spec in reversed(specs):
            index = int(spec.get("dimensionIndex", c0)) - c0
            if not 0 <= index < c1 - c0:
                raise bad_request(f"Invalid {where}: dimensionIndex is outside the range.")
            descending = spec.get("sortOrder") == "DESCENDING"
            present = [row for row in block if _sort_value(row, index) is not None]
            empty = [row for row in block if _sort_value(row, index) is None]
            present.sort(key=functools.partial(_row_sort_key, index=index), reverse=descending)
            block = present + empty  # empty cells go last either way, as in Sheets
        for offset, cells in enumerate(block):
            r = r0 + offset
            padded: list[Stored | object] = [*cells, *([None] * (c1 - c0 - len(cells)))]
            sheet.put_row(r, c0, padded)
        return {}


def vars_of(entry: Stored) -> dict[str, Any]:
    if isinstance(entry, Cell):
        return {"value": entry.value, "formula": entry.formula}
    return {"value": entry, "formula": None}


def _row_sort_key(row: list[Stored], index: int) -> tuple[int, Any]:
    return _sort_key(_sort_value(row, index))


def _sort_value(row: list[Stored], index: int) -> Any:
    return value_of(row[index]) if index < len(row) else None


def _sort_key(value: Any) -> tuple[int, Any]:
    # Sheets orders numbers, then text (ignoring case), then booleans.
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, str(value).lower())


class _WritePlan:
    __slots__ = ("c0", "cells", "cols_touched", "r0", "ref", "rows_touched", "sheet", "values")

    def __init__(self, sheet: Sheet, r0: int, c0: int, values: list[list[Any]], ref: a1.RangeRef) -> None:
        self.sheet, self.r0, self.c0, self.values, self.ref = sheet, r0, c0, values, ref
        self.rows_touched: set[int] = set()
        self.cols_touched: set[int] = set()
        self.cells = 0


def _check_option(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise bad_request(f"Invalid value at '{name}' (\"{value}\")")


def _input_option(value: str | None) -> str:
    if not value:
        raise bad_request("'valueInputOption' is required but not specified")
    _check_option("value_input_option", value, ("RAW", "USER_ENTERED"))
    return value


def _strip(text: str) -> str:
    return text.replace("'", "").strip()


def _read(
    sheet: Sheet, bounds: tuple[int, int, int, int], value_option: str, datetime_option: str, rules: Locale
) -> list[list[Any]]:
    r0, r1, c0, c1 = bounds
    out: list[list[Any]] = []
    last = 0
    data = sheet.data
    stop = min(r1, len(data))
    one = renderer(value_option, datetime_option, rules)
    for r in range(r0, stop):
        row = data[r]
        if not row:
            out.append([])
            continue
        values = [v if type(v) is str else "" if v is None else one(v) for v in row[c0:c1]]
        while values and (values[-1] == "" or values[-1] is None):
            values.pop()
        if None in values:
            values = ["" if v is None else v for v in values]
        out.append(values)
        if values:
            last = len(out)
    del out[last:]
    return out


def _transpose(rows: list[list[Any]]) -> list[list[Any]]:
    width = max((len(r) for r in rows), default=0)
    columns = []
    for c in range(width):
        column = [row[c] if c < len(row) else "" for row in rows]
        while column and column[-1] == "":
            column.pop()
        columns.append(column)
    return columns


def _transpose_raw(values: list[list[Any]]) -> list[list[Any]]:
    height = max((len(col) for col in values), default=0)
    return [[col[r] if r < len(col) else None for col in values] for r in range(height)]


def _find_table(sheet: Sheet, ref: a1.RangeRef) -> tuple[int, int, int, int] | None:
    """The 'table' values.append writes under: the last block of touching non-empty cells in the range."""
    r0, r1, c0, c1 = ref.start_row or 0, ref.end_row, ref.start_col or 0, ref.end_col
    r1 = min(r1 if r1 is not None else sheet.row_count, len(sheet.data))
    c1 = c1 if c1 is not None else sheet.col_count
    filled = {
        (r, c)
        for r in range(r0, r1)
        for c, e in enumerate((sheet.row(r) or [])[c0:c1], start=c0)
        if value_of(e) is not None or (isinstance(e, Cell) and e.formula)
    }
    if not filled:
        return None
    seen: set[tuple[int, int]] = set()
    best: tuple[int, int, int, int] | None = None
    for start in sorted(filled):
        if start in seen:
            continue
        stack, block = [start], []
        seen.add(start)
        while stack:
            r, c = stack.pop()
            block.append((r, c))
            for nxt in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if nxt in filled and nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        rows = [p[0] for p in block]
        cols = [p[1] for p in block]
        box = (min(rows), max(rows) + 1, min(cols), max(cols) + 1)
        if best is None or (box[1], box[2]) >= (best[1], best[2]):
            best = box
    return best


def _cell_data(entry: Stored, rules: Locale) -> dict[str, Any]:
    if entry is None:
        return {}
    out: dict[str, Any] = {}
    value = value_of(entry)
    cell = entry if isinstance(entry, Cell) else None
    if value is not None:
        from_formula = bool(cell and cell.formula)
        if cell and cell.formula:
            out["userEnteredValue"] = {"formulaValue": cell.formula}
        else:
            out["userEnteredValue"] = extended_value(value)
        out["effectiveValue"] = extended_value(value, from_formula=from_formula)
        out["formattedValue"] = render(entry, "FORMATTED_VALUE", "FORMATTED_STRING", rules)
    if cell is not None:
        fmt = copy.deepcopy(cell.format or {})
        if cell.number_format:
            fmt.setdefault("numberFormat", cell.number_format)
        if fmt:
            out["userEnteredFormat"] = fmt
        if cell.note:
            out["note"] = cell.note
    return out
