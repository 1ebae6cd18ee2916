"""What `pm-intel up` hands the dashboards: their own logins, never the migrating user's URLs."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from pm_assets.cli.up import dashboards_env


def test_the_dashboards_process_gets_reader_and_editor_logins_and_no_admin_url():
    env = {
        "DATABASE_URL": "postgresql://admin:Sekr3t@db.internal:5432/pm_intel",
        "DAGSTER_PG_URL": "postgresql+psycopg2://admin:Sekr3t@db.internal:5432/pm_intel_dagster",
        "PATH": "/usr/bin",
    }
    out = dashboards_env(env)
    assert "DATABASE_URL" not in out and "Sekr3t" not in repr(out) and out["PATH"] == "/usr/bin"
    reader, editor = make_url(out["DASHBOARD_DATABASE_URL"]), make_url(out["DASHBOARD_EDITOR_DATABASE_URL"])
    assert (reader.username, reader.host, reader.database) == ("pm_intel_reader", "db.internal", "pm_intel")
    assert (editor.username, editor.database) == ("pm_intel_editor", "pm_intel")
    assert make_url(out["DAGSTER_PG_URL"]).username == "pm_intel_reader"


def test_logins_given_by_the_user_are_kept():
    given = "postgresql://pm_intel_reader:pw@db.internal/pm_intel"
    out = dashboards_env(
        {"DATABASE_URL": "postgresql://admin:x@db.internal/pm_intel", "DASHBOARD_DATABASE_URL": given}
    )
    assert out["DASHBOARD_DATABASE_URL"] == given
