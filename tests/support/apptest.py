"""Helpers for the AppTest dashboard tests: open a page of the real app, read its text, find a widget or a frame.
The seeded `world` fixture is in tests/integration/dashboards/conftest.py."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"


def open_page(page: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Everything a person reads on the page (markdown, captions, headers, alerts), one string."""
    parts = []
    for kind in (
        "markdown",
        "caption",
        "title",
        "header",
        "subheader",
        "info",
        "warning",
        "error",
        "success",
    ):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def widget(at: AppTest, kind: str, label: str):
    """The widget of this kind whose label starts with `label`."""
    for element in getattr(at, kind):
        if str(element.label).startswith(label):
            return element
    raise AssertionError(f"no {kind} labelled {label!r}: {[e.label for e in getattr(at, kind)]}")


def frame_with(at: AppTest, column: str):
    """The first dataframe on the page that has `column`."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no dataframe with column {column!r}")
