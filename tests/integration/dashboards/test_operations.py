import psycopg

from tests.support.apptest import frame_with, open_page, texts, widget


def test_arbitrage_page(world):
    at = open_page("arbitrage")
    with psycopg.connect(world.url) as conn:
        total, live, fillable = conn.execute(
            "select count(*), count(*) filter (where closed_at is null), sum(fillable_size) from arbitrage_windows"
            " where opened_at >= now() - interval '30 days'"
        ).fetchone()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Windows"] == str(total) and metrics["Open now"] == str(live) == "1"
    assert metrics["Fillable at peak edge"] == f"${fillable:,.0f}"
    assert len(at.get("plotly_chart")) == 2
    widget(at, "radio", "Windows").set_value("closed").run()
    assert frame_with(at, "peak_edge")["closed_at"].notna().all()


def test_pipeline_page(world):
    at = open_page("pipeline")
    page = texts(at)
    assert "Dagster's run storage is not reachable" in page
    assert "Gaps in the stream" in page
    assert sorted(frame_with(at, "part")["part"]) == ["alert_delivery", "stream_consumer"]
    limits = frame_with(at, "responses_429")
    assert limits.iloc[0]["endpoint"] == "/v2/trades" and limits.iloc[0]["responses_429"] == 1
    assert {m.label: m.value for m in at.metric}["Gaps"] == "1"


def test_password_gate(world, monkeypatch):
    monkeypatch.setenv("PM_INTEL_DASHBOARD_PASSWORD", "s3cret")
    at = open_page()
    assert not at.metric and [t.value for t in at.title] == ["pm-intel"]
    at.text_input[0].input("wrong")
    at.button[0].click().run()
    assert "Wrong password (4 attempts left before a lockout)." in texts(at) and not at.metric
    at.text_input[0].input("s3cret")
    at.button[0].click().run()
    assert "Overview" in [t.value for t in at.title]


def test_password_attempts_lock_the_session_out_even_for_the_right_password(world, monkeypatch):
    monkeypatch.setenv("PM_INTEL_DASHBOARD_PASSWORD", "s3cret")
    at = open_page()
    for _ in range(5):
        at.text_input[0].input("guess")
        at.button[0].click().run()
    assert "Too many wrong passwords. Sign-in is locked for this session; try again in 60 s." in texts(at)
    at.text_input[0].input("s3cret")
    at.button[0].click().run()
    assert "Sign-in is locked for this session" in texts(at)
    assert "Overview" not in [t.value for t in at.title] and not at.metric
