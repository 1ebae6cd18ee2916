"""Status: is pm-intel seeing everything right now? Green, amber or red, always with the reason."""

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import status_queries as q

COLOURS = {"green": "#1a7f37", "amber": "#bf8700", "red": "#cf222e"}
STATE_COLOURS = {"covered": "#1a7f37", "repaired": "#54aeff", "gap": "#cf222e"}


def show_table(df: pd.DataFrame, empty_text: str) -> None:
    if df.empty:
        st.write(empty_text)
    else:
        st.dataframe(df, hide_index=True, use_container_width=True)


st.title("Status")
report = q.status_report()
overall = report["overall"]
reasons = report["reasons"] or ["every part is beating, coverage is proven, no gap is open"]
st.markdown(
    f"<div data-testid='pm-status' style='padding:0.8rem 1rem;border-radius:6px;color:white;"
    f"background:{COLOURS[overall]};font-size:1.3rem'><b>{overall.upper()}</b></div>",
    unsafe_allow_html=True,
)
for reason in reasons:
    st.markdown(f"- {reason}")

cols = st.columns(4)
cols[0].metric("Open gaps", report["open_gaps"])
lat = report["latency_s"]
cols[1].metric("Trade-to-alert p50 (1 h)", "n/a" if lat["p50"] is None else f"{lat['p50']:.1f} s")
cols[2].metric("p95 (1 h)", "n/a" if lat["p95"] is None else f"{lat['p95']:.1f} s")
cols[3].metric("p99 (1 h)", "n/a" if lat["p99"] is None else f"{lat['p99']:.1f} s")

st.subheader("Heartbeats")
beats = report["heartbeats"]
if beats:
    st.dataframe(
        pd.DataFrame(
            [{"part": p, "last beat": f["last_beat"], "age (s)": f["age_s"]} for p, f in beats.items()]
        ),
        hide_index=True,
        use_container_width=True,
    )
else:
    st.warning("No part has ever written a heartbeat: nothing is running, or it cannot reach this database.")

st.subheader("Coverage today")
if report["coverage"]:
    st.dataframe(
        pd.DataFrame([{"source": s, "covered or repaired (%)": p} for s, p in report["coverage"].items()]),
        hide_index=True,
        use_container_width=True,
    )
    ledger = q.ledger_last_hours()
    if not ledger.empty:
        ledger["end"] = ledger["minute"] + pd.Timedelta(minutes=1)
        fig = px.timeline(
            ledger,
            x_start="minute",
            x_end="end",
            y="source",
            color="state",
            color_discrete_map=STATE_COLOURS,
            title="Last 6 hours, minute by minute",
        )
        st.plotly_chart(fig, use_container_width=True)
else:
    st.info("The coverage ledger has nothing for today yet: coverage is unproven.")

st.subheader("Open gaps")
show_table(q.open_gaps(), "None.")
st.subheader("Recent repairs")
show_table(q.recent_repairs(), "None.")

st.subheader("Latency by signal")
by_signal = report.get("latency_by_signal_s", {})
rows = [{"window": w, "signal": t, **v} for w, tables in by_signal.items() for t, v in tables.items()]
show_table(pd.DataFrame(rows), "No delivered alerts yet.")

st.subheader("Recent errors")
show_table(q.recent_errors(), "None in 24 h.")

st.subheader("Rate-limit waits")
show_table(q.rate_limit_waits(), "No poller has reported rate-limit waits yet.")
st.caption(f"Checked {report['checked_at']}; the same facts as `pm-intel status --json`.")
