"""Small pieces several pages share: time windows, links out, number formats."""

from __future__ import annotations

import io
import os
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import orjson
import pandas as pd
import streamlit as st

from dashboards import db
from dashboards.csv_cells import csv_safe

WINDOWS = {
    "1 hour": timedelta(hours=1),
    "24 hours": timedelta(days=1),
    "7 days": timedelta(days=7),
    "30 days": timedelta(days=30),
    "1 year": timedelta(days=365),
}


def since_selector(label: str = "Window", default: str = "7 days", key: str | None = None) -> datetime:
    choice = st.selectbox(label, list(WINDOWS), index=list(WINDOWS).index(default), key=key)
    # Rounded to the minute so the cached query is reused across reruns within that minute.
    return (datetime.now(UTC) - WINDOWS[choice]).replace(second=0, microsecond=0)


def polymarket_url(event_slug: str | None) -> str | None:
    return f"https://polymarket.com/event/{quote(event_slug)}" if event_slug else None


def dagster_asset_url(asset_key: str) -> str:
    return f"{db.dagster_ui_url()}/assets/{quote(asset_key)}"


def money(value) -> str:
    return "—" if value is None or value != value else f"${float(value):,.0f}"


def ago(ts) -> str:
    if ts is None or ts != ts:
        return "never"
    ts = ts.to_pydatetime() if hasattr(ts, "to_pydatetime") else ts
    seconds = (datetime.now(UTC) - (ts if ts.tzinfo else ts.replace(tzinfo=UTC))).total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def short_wallet(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}" if address and len(address) > 12 else address


# Markdown (and Streamlit's LaTeX `$`, emoji `:` shortcodes) special characters: an upstream title written
# into st.markdown / st.header must read as the text it is, never as a link, image, heading or formula.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: object) -> str:
    """`text` with every Markdown special character backslash-escaped (None reads as an empty string)."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def csv_export(frame: pd.DataFrame) -> bytes:
    """The frame as CSV for a download, with formula-like text cells neutralised."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(csv_safe)
    safe.columns = [csv_safe(str(c)) for c in safe.columns]
    return safe.to_csv(index=False).encode()


def _parquet_cell(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool | datetime | pd.Timestamp):
        return value
    return orjson.dumps(value, default=str).decode()  # evidence dicts, wallet arrays: JSON text


def parquet_export(frame: pd.DataFrame) -> bytes:
    """The frame as Parquet for a download (mixed object columns as text, nested values as JSON)."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object:
            cells = safe[column].map(_parquet_cell)
            mixed = len({type(v) for v in cells if v is not None}) > 1
            safe[column] = cells.map(lambda v: v if v is None else str(v)) if mixed else cells
    buffer = io.BytesIO()
    safe.to_parquet(buffer, index=False)
    return buffer.getvalue()


def export_buttons(frame: pd.DataFrame, name: str, key: str) -> None:
    """CSV and Parquet downloads of what the page shows; the API exports every row (README, "The API")."""
    left, right = st.columns(2)
    with left:
        st.download_button(
            "Export CSV", csv_export(frame), file_name=f"{name}.csv", mime="text/csv", key=f"{key}_csv"
        )
    with right:
        st.download_button(
            "Export Parquet",
            parquet_export(frame),
            file_name=f"{name}.parquet",
            mime="application/vnd.apache.parquet",
            key=f"{key}_parquet",
        )


def api_export_hint(path: str) -> None:
    """Where the API streams every row of what the page shows a part of (when `pm-intel up` started it)."""
    base = os.environ.get("PM_INTEL_API_URL")
    if base:
        st.caption(f"Every row: `GET {base.rstrip('/')}{path}?format=csv` (or `parquet`) with an API token.")
