"""What a person sees when something fails on a page: one line, secrets masked, details only in the log.

A database error carries its statement and, without `hide_parameters`, its bound values (a webhook URL);
an exception rendered by Streamlit shows all of it in the browser. So pages show `failure_line(exc)` and the
router turns an uncaught error into the same one line, unless PM_INTEL_DASHBOARD_DEBUG=1 (development and
the tests, which want Streamlit's own traceback).
"""

from __future__ import annotations

import logging
import os

import streamlit as st

from pm_assets.storage.urls import mask_secrets

log = logging.getLogger("pm_intel.dashboards")
DEBUG_ENV = "PM_INTEL_DASHBOARD_DEBUG"


def debug_mode() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def failure_line(exc: BaseException) -> str:
    """The exception's first line, masked and short: '<Type>: <message>'."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return mask_secrets(f"{type(exc).__name__}: {first}".rstrip(": "))[:300]


def show_failure(what: str, exc: BaseException) -> None:
    """`what` failed: one masked line on the page, the masked line with its type in the server log."""
    line = failure_line(exc)
    log.warning("%s failed: %s", what, line)
    st.error(f"{what} failed: {line}")
