"""Alert payloads for Slack, Discord and generic JSON, built from a realistic signal row."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from pm_sensors.alerts.messages import (
    digest_message,
    discord_payload,
    json_payload,
    render_payload,
    rule_test_message,
    signal_message,
    slack_payload,
    system_message,
)

ROW = {
    "signal_key": "fw-abc123",
    "condition_id": "0x" + "ab" * 32,
    "wallet": "0x" + "12" * 20,
    "side": "BUY",
    "price": 0.12,
    "usdc_size": 48200.0,
    "wallet_age_hours": 3.0,
    "suppressed_reason": None,
    "evidence": {"summary": "wallet first active 3 h before this $48,200 buy of YES at 0.12 <@everyone>"},
    "detected_at": datetime(2026, 11, 25, 14, 0, 5, tzinfo=UTC),
    "upstream_at": datetime(2026, 11, 25, 14, 0, 0, tzinfo=UTC),
}


def test_slack_payload_has_text_and_blocks_with_escaped_summary():
    payload = slack_payload(signal_message("fresh_wallet", "fresh_wallet_trades", ROW))
    assert "$48,200 buy of YES" in payload["text"]
    assert "<@everyone>" not in json.dumps(payload)  # Slack mrkdwn control characters are escaped
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds[:2] == ["header", "section"] and "context" in kinds
    fields = next(b for b in payload["blocks"] if "fields" in b)["fields"]
    assert any("48,200" in f["text"] for f in fields)


def test_discord_payload_has_content_and_embed_and_never_pings():
    payload = discord_payload(signal_message("fresh_wallet", "fresh_wallet_trades", ROW))
    assert "$48,200 buy of YES" in payload["content"]
    embed = payload["embeds"][0]
    assert embed["timestamp"].startswith("2026-11-25T14:00:05")
    assert {"name": "size (USDC)", "value": "48,200", "inline": True} in embed["fields"]
    assert payload["allowed_mentions"] == {"parse": []}


def test_json_payload_carries_keys_times_and_evidence():
    payload = json_payload(signal_message("fresh_wallet", "fresh_wallet_trades", ROW))
    assert payload["signal_key"] == "fw-abc123" and payload["signal_table"] == "fresh_wallet_trades"
    assert payload["occurred_at"] == "2026-11-25T14:00:00+00:00"
    assert payload["evidence"]["summary"].startswith("wallet first active")
    json.dumps(payload)


def test_long_summaries_are_clipped_to_platform_limits():
    row = dict(ROW, evidence={"summary": "x" * 10_000})
    message = signal_message("fresh_wallet", "fresh_wallet_trades", row)
    assert len(discord_payload(message)["content"]) <= 2000
    assert len(slack_payload(message)["blocks"][1]["text"]["text"]) <= 3000


def test_missing_summary_falls_back_to_the_key():
    message = signal_message("price_spike", "price_spikes", dict(ROW, evidence={}))
    assert "fw-abc123" in message.summary


def test_digest_test_and_system_messages_say_what_they_are():
    digest = digest_message("big buys", "fresh_wallet", date(2026, 11, 25), 7, 3, ["a", "b"])
    assert "7 more" in digest.summary and "budget of 3" in digest.summary
    assert json_payload(digest)["held_back"] == 7
    assert "[TEST]" in slack_payload(rule_test_message("big buys", "fresh_wallet"))["text"]
    assert "stream_stale" in discord_payload(system_message("stream_stale", "no ticks for 5 min"))["content"]


def test_unknown_destination_is_an_error():
    with pytest.raises(ValueError):
        render_payload("teams", rule_test_message("r", "x"))
