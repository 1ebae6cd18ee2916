"""Alerts and thresholds: alert rules (webhooks validated, shown masked) with their scorecard, threshold
overrides backtested before saving, deliveries with their signal's scorecard.

The only page that writes, through the editor role (alert_rules and threshold_overrides only).
"""

import json

import pandas as pd
import psycopg
import sqlalchemy as sa
import streamlit as st

from dashboards import queries, scorecards
from dashboards.failures import show_failure
from dashboards.rule_form import RuleError, rule_params
from dashboards.threshold_form import render_thresholds
from dashboards.webhook_targets import WebhookTargetError, mask_webhook_url, test_send
from pm_sensors.alerts.sources import signal_types, source_for

st.title("Alerts and thresholds")
state = st.session_state
state.setdefault("rule_form_gen", 0)
if state.get("rule_flash"):
    st.success(state.pop("rule_flash"))

rules = queries.alert_rules()
st.subheader("Alert rules")
if rules.empty:
    st.info("No alert rules yet.")
else:
    headlines = scorecards.rule_headlines()
    shown = rules.assign(
        webhook=[mask_webhook_url(u) for u in rules["webhook_url"]],
        scorecard=[headlines.get(int(r), "not scored") for r in rules["rule_id"]],
    )
    shown = shown.drop(columns=["webhook_url"])
    first = ["name", "scorecard"]
    st.dataframe(
        shown[first + [c for c in shown.columns if c not in first]],
        hide_index=True,
        width="stretch",
        column_config={
            "scorecard": st.column_config.TextColumn(
                "Scorecard (what it would have sent, at 24 h)", width="large"
            )
        },
    )

NEW = "(new rule)"
names = [NEW] + rules["name"].tolist()
picked = st.selectbox("Create or edit", names, key="rule_pick")
current = None if picked == NEW else rules[rules["name"] == picked].iloc[0].to_dict()
if current is not None:
    st.caption(
        f"Scorecard of {current['name']!r} (what its filters would have sent, at 24 h): "
        f"{scorecards.rule_headlines().get(int(current['rule_id']), 'not scored')}"
    )
with st.form(f"rule_form_{state.rule_form_gen}"):
    name = st.text_input("Name", value="" if current is None else current["name"], max_chars=100)
    types = signal_types()
    if current is not None and current["signal_type"] not in types:
        types = [current["signal_type"], *types]  # a table-name synonym stored by an older rule
    signal_type = st.selectbox("Signal", types, index=types.index(current["signal_type"]) if current else 0)
    kinds = ["slack", "discord", "json"]
    kind = st.selectbox(
        "Destination", kinds, index=kinds.index(current["destination_kind"]) if current else 0
    )
    hint = "" if current is None else f" (stored: {mask_webhook_url(current['webhook_url'])}; blank keeps it)"
    webhook = st.text_input("Webhook URL" + hint, type="password", max_chars=2000)
    known_tags = queries.tags()
    stored = {} if current is None else current["filters"] or {}
    tag_col, exclude_col = st.columns(2)
    only_tags = tag_col.multiselect(
        "Only signals tagged (any of)",
        known_tags,
        default=[t for t in known_tags if t.lower() in stored.get("tags", [])],
    )
    never_tags = exclude_col.multiselect(
        "Never signals tagged",
        known_tags,
        default=[t for t in known_tags if t.lower() in stored.get("exclude_tags", [])],
    )
    filters = st.text_area(
        "Filters (JSON object)",
        value="{}" if current is None else json.dumps(current["filters"]),
    )
    st.caption(
        "Also `event_slugs`, `series` and, for fresh_wallet / size_anomaly, `against_favourite` (see README, "
        "Alerts); the tag pickers above fill `tags` / `exclude_tags`."
    )
    budget = st.number_input(
        "Daily budget (0 = unlimited)",
        min_value=0,
        max_value=100_000,
        step=1,
        value=0 if current is None or pd.isna(current["daily_budget"]) else int(current["daily_budget"]),
    )
    enabled = st.checkbox("Enabled", value=True if current is None else bool(current["enabled"]))
    submitted = st.form_submit_button("Save rule")
if submitted:
    try:
        source = source_for(signal_type)
        params = rule_params(
            rule_id=None if current is None else int(current["rule_id"]),
            name=name,
            signal_type=signal_type,
            destination_kind=kind,
            webhook_url=webhook,
            filters=filters,
            daily_budget=budget,
            enabled=enabled,
            numeric_columns=queries.numeric_columns(source.table) if source else [],
            tags=only_tags,
            exclude_tags=never_tags,
        )
        queries.save_rule(params)
    except (RuleError, WebhookTargetError) as exc:
        st.error(f"Not saved: {exc}")
    except sa.exc.IntegrityError as exc:
        if isinstance(exc.orig, psycopg.errors.UniqueViolation):
            st.error(f"Not saved: a rule named {name.strip()!r} already exists.")
        else:
            show_failure("Saving the rule", exc)
    except Exception as exc:  # the database refused it: one masked line, never the statement's values
        show_failure("Saving the rule", exc)
    else:
        state.rule_form_gen += 1
        state.rule_flash = f"Saved rule {params['name']!r}."
        st.rerun()

if current is not None and st.button(f"Send a test message to {mask_webhook_url(current['webhook_url'])}"):
    try:
        result = test_send(int(current["rule_id"]))
    except Exception as exc:
        show_failure("The test message", exc)
    else:
        (st.success if result.ok else st.error)(f"Test message {result.text}")

st.subheader("Delivery history")
status = st.selectbox("Status", ["all", "failed", "delivered", "pending", "over_budget", "digested"])
history = queries.deliveries(status)
failed = int((history["status"] == "failed").sum()) if not history.empty else 0
st.caption(f"{len(history)} deliveries shown, {failed} failed")
if not history.empty:
    history.insert(
        history.columns.get_loc("signal_key") + 1,
        "signal_scorecard",
        [scorecards.signal_headline(t) or "not scored" for t in history["signal_table"]],
    )
st.dataframe(
    history,
    hide_index=True,
    width="stretch",
    column_config={"signal_scorecard": st.column_config.TextColumn("Its signal's scorecard (24 h)")},
)

st.subheader("Signal thresholds")
render_thresholds()
