"""The status page's reads: the same facts `pm-intel status` prints, through the read-only engine."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import text

from dashboards import db
from pm_assets.coverage.status import StatusThresholds, system_status

STATUS_TTL = 10


@st.cache_data(ttl=STATUS_TTL, show_spinner=False)
def status_report() -> dict[str, Any]:
    with db.reader().connect() as conn:
        return system_status(conn.connection.driver_connection, thresholds=StatusThresholds.from_env())


def _frame(sql: str, **params) -> pd.DataFrame:
    with db.reader().connect() as conn:
        result = conn.execute(text(sql), params)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


@st.cache_data(ttl=STATUS_TTL, show_spinner=False)
def ledger_last_hours(hours: int = 6) -> pd.DataFrame:
    return _frame(
        "select source, minute, state from coverage_ledger where minute >= now() - make_interval(hours => :h) "
        "order by source, minute",
        h=hours,
    )


@st.cache_data(ttl=STATUS_TTL, show_spinner=False)
def open_gaps() -> pd.DataFrame:
    return _frame(
        """
        select 'trade feed' as source, interval_start as gap_start, interval_end as gap_end, reason,
               'awaiting repair' as state
        from trade_loss_events where repaired_at is null
        union all
        select 'stream', started_at, ended_at, coalesce(detail->>'reason', 'stream gap'),
               case when ended_at is null then 'open' else 'closed' end
        from stream_health where event = 'gap' and started_at >= now() - interval '1 day' and ended_at is null
        union all
        select 'reconciliation: ' || condition_id, minute, minute + interval '1 minute',
               detail->>'side_missing' || ' missed trades', state
        from reconciliation_mismatches where state = 'open'
        order by 2 desc limit 200
        """
    )


@st.cache_data(ttl=STATUS_TTL, show_spinner=False)
def recent_repairs() -> pd.DataFrame:
    return _frame(
        "select interval_start, interval_end, reason, repaired_at, repair->>'path' as path "
        "from trade_loss_events where repaired_at is not null order by repaired_at desc limit 50"
    )


@st.cache_data(ttl=STATUS_TTL, show_spinner=False)
def recent_errors() -> pd.DataFrame:
    return _frame(
        """
        select fetched_at as at, 'quarantined payload' as kind, endpoint as what, left(error, 200) as detail
        from raw_payloads where quarantined and fetched_at >= now() - interval '1 day'
        union all
        select coalesce(first_attempt_at, created_at), 'alert delivery ' || status, signal_table,
               left(coalesce(last_error, ''), 200)
        from alert_deliveries where status = 'failed' and created_at >= now() - interval '1 day'
        union all
        select at, 'dead-man ' || kind, part, detail->>'text' from deadman_events where at >= now() - interval '1 day'
        order by 1 desc limit 100
        """
    )


@st.cache_data(ttl=STATUS_TTL, show_spinner=False)
def rate_limit_waits() -> pd.DataFrame:
    """What the trade poll reported in its last heartbeat (the HTTP core's counters)."""
    return _frame(
        "select part, last_beat_at, detail from heartbeats where detail ? 'rate_limit_wait_s' "
        "or detail ? 'http_429' order by part"
    )
