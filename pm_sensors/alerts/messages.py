"""Alert messages and their webhook payloads: Slack, Discord and generic JSON.

One `AlertMessage` (what a person should read) is rendered three ways. Dagster-free: the dashboards
use it to preview a rule's messages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

DESTINATION_KINDS = ("slack", "discord", "json")

# Slack and Discord reject oversized payloads outright (Slack: section text 3000, header 150;
# Discord: content 2000, embed title 256, description 4096, field value 1024, 25 fields).
_SLACK_TEXT, _SLACK_HEADER, _SLACK_FIELD = 3000, 150, 2000
_DISCORD_CONTENT, _DISCORD_TITLE, _DISCORD_DESC, _DISCORD_FIELD = 2000, 256, 4096, 1024
_MAX_FIELDS = 10

_COLOURS = {"signal": 0xE67E22, "digest": 0x3498DB, "test": 0x95A5A6, "system": 0xE74C3C}

# Columns worth showing beside the summary, in this order, when a signal row has them.
_FIELD_LABELS = [
    ("condition_id", "market"),
    ("event_id", "event"),
    ("wallet", "wallet"),
    ("side", "side"),
    ("price", "price"),
    ("usdc_size", "size (USDC)"),
    ("wallet_age_hours", "wallet age (h)"),
    ("wallet_count", "wallets"),
    ("total_usdc", "total (USDC)"),
    ("volume_share", "share of 24h volume"),
    ("anomaly_score", "anomaly score"),
    ("risk_score", "risk score"),
    ("kind", "kind"),
    ("peak_edge", "peak edge"),
    ("fillable_size", "fillable size"),
    ("profit_after_fees", "profit after fees"),
    ("move_points", "move (points)"),
    ("volume_z", "volume z"),
    ("score", "score"),
]


@dataclass(frozen=True)
class AlertMessage:
    kind: str  # signal | digest | test | system
    title: str
    summary: str
    fields: tuple[tuple[str, str], ...] = ()
    signal_type: str | None = None
    signal_table: str | None = None
    signal_key: str | None = None
    occurred_at: datetime | None = None
    detected_at: datetime | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


def format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def signal_message(
    signal_type: str, signal_table: str, row: Mapping[str, Any], *, title: str | None = None
) -> AlertMessage:
    """The message for one signal row (its columns, `evidence` jsonb included)."""
    evidence = row.get("evidence") or {}
    summary = evidence.get("summary") if isinstance(evidence, Mapping) else None
    if not summary:
        summary = f"{signal_type} signal {row.get('signal_key')}"
    fields = tuple(
        (label, format_value(row[col])) for col, label in _FIELD_LABELS if row.get(col) is not None
    )
    return AlertMessage(
        kind="signal",
        title=title or signal_type.replace("_", " ").capitalize(),
        summary=str(summary),
        fields=fields[:_MAX_FIELDS],
        signal_type=signal_type,
        signal_table=signal_table,
        signal_key=str(row.get("signal_key")),
        occurred_at=row.get("upstream_at"),
        detected_at=row.get("detected_at"),
        data={"evidence": evidence},
    )


def digest_message(
    rule_name: str, signal_type: str, day: date, held_back: int, budget: int, examples: list[str]
) -> AlertMessage:
    shown = "\n".join(f"- {text}" for text in examples[:5])
    summary = (
        f"Rule '{rule_name}' reached its daily budget of {budget} alerts on {day.isoformat()} (UTC); "
        f"{held_back} more {signal_type} signal{'s were' if held_back != 1 else ' was'} held back."
    )
    return AlertMessage(
        kind="digest",
        title=f"Daily digest: {held_back} alert{'s' if held_back != 1 else ''} held back",
        summary=f"{summary}\n{shown}" if shown else summary,
        fields=(("rule", rule_name), ("day", day.isoformat()), ("held back", str(held_back))),
        signal_type=signal_type,
        data={"rule": rule_name, "day": day.isoformat(), "held_back": held_back, "budget": budget},
    )


def rule_test_message(rule_name: str, signal_type: str) -> AlertMessage:
    return AlertMessage(
        kind="test",
        title="[TEST] pm-intel alert rule test",
        summary=f"This is a test message for rule '{rule_name}' ({signal_type}). No signal fired.",
        fields=(("rule", rule_name), ("signal type", signal_type)),
        signal_type=signal_type,
        data={"rule": rule_name, "test": True},
    )


def system_message(kind: str, text: str) -> AlertMessage:
    return AlertMessage(
        kind="system",
        title=f"pm-intel system alert: {kind}",
        summary=text,
        signal_type="system",
        data={"system_kind": kind},
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: AlertMessage) -> dict[str, Any]:
    text = _slack_escape(f"{message.title}: {message.summary}")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(message.title, _SLACK_HEADER)}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _clip(_slack_escape(message.summary), _SLACK_TEXT)},
        },
    ]
    if message.fields:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {
                        "type": "mrkdwn",
                        "text": _clip(f"*{_slack_escape(k)}*\n{_slack_escape(v)}", _SLACK_FIELD),
                    }
                    for k, v in message.fields[:_MAX_FIELDS]
                ],
            }
        )
    context = _context_line(message)
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_escape(context)}]})
    return {"text": _clip(text, _SLACK_TEXT), "blocks": blocks}


def discord_payload(message: AlertMessage) -> dict[str, Any]:
    embed: dict[str, Any] = {
        "title": _clip(message.title, _DISCORD_TITLE),
        "description": _clip(message.summary, _DISCORD_DESC),
        "color": _COLOURS.get(message.kind, 0x95A5A6),
        "fields": [
            {"name": _clip(k, 256), "value": _clip(v or "-", _DISCORD_FIELD), "inline": True}
            for k, v in message.fields[:_MAX_FIELDS]
        ],
    }
    if message.detected_at:
        embed["timestamp"] = message.detected_at.isoformat()
    context = _context_line(message)
    if context:
        embed["footer"] = {"text": _clip(context, 2048)}
    # Summaries quote upstream text; never let it ping @everyone or a role.
    return {
        "content": _clip(f"**{message.title}**: {message.summary}", _DISCORD_CONTENT),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }


def json_payload(message: AlertMessage) -> dict[str, Any]:
    return {
        "kind": message.kind,
        "title": message.title,
        "summary": message.summary,
        "signal_type": message.signal_type,
        "signal_table": message.signal_table,
        "signal_key": message.signal_key,
        "occurred_at": message.occurred_at.isoformat() if message.occurred_at else None,
        "detected_at": message.detected_at.isoformat() if message.detected_at else None,
        "fields": dict(message.fields),
        **{k: v for k, v in message.data.items() if k not in {"kind", "title", "summary"}},
    }


def render_payload(destination_kind: str, message: AlertMessage) -> dict[str, Any]:
    renderers = {"slack": slack_payload, "discord": discord_payload, "json": json_payload}
    if destination_kind not in renderers:
        raise ValueError(
            f"unknown destination kind {destination_kind!r}; choose from {', '.join(DESTINATION_KINDS)}"
        )
    return renderers[destination_kind](message)


def _context_line(message: AlertMessage) -> str:
    parts = []
    if message.signal_table and message.signal_key:
        parts.append(f"{message.signal_table}/{message.signal_key}")
    if message.occurred_at:
        parts.append(f"upstream {format_value(message.occurred_at)}")
    if message.detected_at:
        parts.append(f"detected {format_value(message.detected_at)}")
    return " · ".join(parts)
