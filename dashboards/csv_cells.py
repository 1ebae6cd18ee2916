"""CSV cells a spreadsheet will not run: the one neutraliser the dashboards' downloads and the API's exports use."""

from __future__ import annotations

# A spreadsheet reads a cell starting with one of these as a formula (=HYPERLINK(...), +cmd|...);
# OWASP's CSV-injection advice: prefix such text cells with an apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
