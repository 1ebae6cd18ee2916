"""Which markets a recording follows: by market slug, event (slug or id), tag id, or the top N by 24 h volume.

Resolved once, when a recording starts, from Gamma through the shared HTTP core; a resumed recording keeps the
same markets (the manifest holds them), so its files stay one continuous record of one set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pydantic

from pm_assets.markets.models import GammaMarket
from pm_assets.resources.gamma import GENERATIONS
from pm_assets.resources.http import PolymarketHttp

_MARKET = pydantic.TypeAdapter(GammaMarket)


class SelectionError(ValueError):
    """A selection that names nothing, or that Gamma cannot resolve; the message says which."""


@dataclass(frozen=True)
class Selection:
    slugs: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    top: int | None = None
    max_markets: int = 500

    def is_empty(self) -> bool:
        return not (self.slugs or self.events or self.tags or self.top)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


@dataclass
class Tracked:
    """One recorded market: its Gamma id and condition id forms, outcome ids and event."""

    id: str
    condition_id: str  # 66 characters, as CLOB, the websocket and the Data API write it
    gamma_condition_id: str  # as Gamma writes it (62 hex on Protocol V2 markets)
    slug: str | None
    tokens: list[str] = field(default_factory=list)
    event_id: str | None = None
    version: str = "v1"
    volume_24h: float = 0.0

    @classmethod
    def from_gamma(cls, obj: dict[str, Any]) -> Tracked:
        m = _MARKET.validate_python(obj)
        return cls(
            id=str(m.id),
            condition_id=m.condition_id,
            gamma_condition_id=str(obj.get("conditionId")),
            slug=m.slug,
            tokens=list(m.outcome_ids),
            event_id=m.event_id,
            version=m.generation,
            volume_24h=float(m.volume_24h or 0.0),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _get(gamma: PolymarketHttp, path: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
    status, data, raw = await gamma.request_json("GET", path, params=params)
    if status >= 400 and status != 404:
        raise SelectionError(f"Gamma GET {path} answered HTTP {status}: {raw[:200]}")
    return status, data


async def _keyset(gamma: PolymarketHttp, params: dict[str, Any], cap: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while len(out) < cap:
        query = {**params, "limit": 100, **({"after_cursor": cursor} if cursor else {})}
        _, data = await _get(gamma, "/markets/keyset", query)
        page = (data or {}).get("markets") or []
        out.extend(x for x in page if isinstance(x, dict))
        cursor = (data or {}).get("next_cursor")
        if not cursor or not page:
            break
    return out[:cap]


async def resolve(gamma: PolymarketHttp, sel: Selection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(Gamma market objects, Gamma event objects) the selection names, as Gamma returned them."""
    if sel.is_empty():
        raise SelectionError("choose markets to record: --slug, --event, --tag or --top N")
    markets: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for slug in sel.slugs:
        status, data = await _get(gamma, f"/markets/slug/{slug}")
        if status == 404 or not isinstance(data, dict):
            raise SelectionError(f"Gamma has no market with slug {slug!r}")
        markets.append(data)
    for ref in sel.events:
        path = f"/events/{ref}" if ref.isdigit() else f"/events/slug/{ref}"
        status, data = await _get(gamma, path)
        if status == 404 or not isinstance(data, dict):
            raise SelectionError(f"Gamma has no event {ref!r}")
        events.append(data)
        markets.extend(m for m in data.get("markets") or [] if isinstance(m, dict))
    for tag in sel.tags:
        if not tag.isdigit():
            raise SelectionError(f"--tag takes Gamma's numeric tag id, got {tag!r}")
        for version in GENERATIONS:
            params = {"tag_id": tag, "closed": "false", "version": version}
            markets.extend(await _keyset(gamma, params, sel.max_markets))
    if sel.top:
        ranked: list[dict[str, Any]] = []
        for version in GENERATIONS:
            params = {"order": "volume24hr", "ascending": "false", "closed": "false", "version": version}
            ranked.extend(await _keyset(gamma, params, sel.top))
        ranked.sort(key=lambda m: -float(m.get("volume24hr") or 0))
        markets.extend(ranked[: sel.top])
    unique: dict[str, dict[str, Any]] = {}
    for m in markets:
        unique.setdefault(str(m.get("id")), m)
    chosen = list(unique.values())
    if not chosen:
        raise SelectionError("the selection matched no market")
    if len(chosen) > sel.max_markets:
        chosen.sort(key=lambda m: -float(m.get("volume24hr") or 0))
        chosen = chosen[: sel.max_markets]
    return chosen, events
