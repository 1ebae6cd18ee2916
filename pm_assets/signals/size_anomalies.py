"""size_anomalies: a position large against its own market — its share of the market's 24 h volume, or how far
its largest fill walked the book side it hit (latest snapshot before the fill) — weighted up in niche markets.

anomaly_score = max(volume_share / size_volume_share, depth_share / size_depth_share), x niche_weight when the
market trades under niche_volume_usdc a day; the position fires at score >= 1 and >= size_min_usdc. It also fires
as position building: >= building_min_fills buys of one outcome within the accumulation window, >=
building_min_usdc, those buys holding >= building_min_direction_share of the window's USDC (split buys: many small
same-direction fills, which random two-sided flow does not produce; its size that matters is the building_min_usdc
floor). A large position also needs size that matters in this market: at or above the market's own
size_market_quantile of fill sizes over the last 7 days (when it has size_distribution_min_fills fills to judge
by), so a share of a thin market's day that is an ordinary fill there is no anomaly. Positions are net (a sell is an exit: positions.py);
the book walk is of the largest buy. The 24 h
volume is the larger of the warehouse's own trades in the 24 h before the crossing fill and markets.volume_24h
(so a warehouse with little history does not make every trade look large). Noise control as fresh_wallet_trades.
"""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from pm_assets.signals import insider_inputs
from pm_assets.signals.insider_inputs import MarketFacts, WalletFacts
from pm_assets.signals.noise_thresholds import FreshAge, LateFavourite, Niche, PositionNoise
from pm_assets.signals.positions import (
    Fill,
    age_text,
    first_alert_position,
    hours_between,
    hours_left,
    iso,
    net_usdc,
    noise_reason,
    payoff,
    pct,
    position_tiers,
    signal_key,
    trailing_fills,
    usd,
)
from pm_assets.signals.risk import RiskFacts, risk_summary
from pm_assets.signals.spec import TRADE_INGESTED, SignalSpec, threshold

TABLE = "size_anomalies"
SIGNAL_TYPE = "size_anomaly"


class SizeAnomalyThresholds(PositionNoise, FreshAge, Niche, LateFavourite):
    size_min_usdc: float = threshold(1000.0, "least USDC position that can be a size anomaly", ge=0.0, le=1e9)
    size_volume_share: float = threshold(
        0.10, "position as a share of the market's 24 h volume that fires", ge=0.0, le=1.0
    )
    size_depth_share: float = threshold(
        1.0, "largest fill as a share of the visible depth on the side it hit that fires", ge=0.0, le=1000.0
    )
    niche_weight: float = threshold(1.5, "anomaly score multiplier in niche markets", ge=1.0, le=100.0)
    book_max_age_minutes: int = threshold(
        60, "a book snapshot older than this before the fill is not used", ge=1, le=7 * 24 * 60
    )
    building_min_fills: int = threshold(
        6,
        "position building: at least this many buys of one outcome within the accumulation window ...",
        ge=2,
        le=100_000,
    )
    building_min_usdc: float = threshold(1000.0, "... summing to at least this many USDC ...", ge=0.0, le=1e9)
    building_min_direction_share: float = threshold(
        0.9, "... with this share of the window's USDC in that one direction", ge=0.5, le=1.0
    )
    size_market_quantile: float = threshold(
        0.99,
        "a large position (not the building rule) also needs its net USDC at or above this quantile of the "
        "market's own fill sizes over the 7 days before it (a size ordinary in that market is no anomaly)",
        ge=0.5,
        le=1.0,
    )
    size_distribution_min_fills: int = threshold(
        50,
        "fewest fills of the market in those 7 days for its size distribution to count (fewer: the USDC "
        "floors alone)",
        ge=1,
        le=1_000_000,
    )


def _levels(raw) -> list[tuple[float, float]]:
    out = []
    for level in raw or []:
        price, size = (level["price"], level["size"]) if isinstance(level, Mapping) else (level[0], level[1])
        out.append((float(price), float(size)))
    return out


def book_walk(fill: Fill, bids, asks) -> dict:
    """How far the fill walks the side it hit: a BUY takes asks (cheapest first), a SELL takes bids (dearest first).

    depth_share = fill shares / visible shares on that side (> 1: the book could not fill it)."""
    side = sorted(_levels(asks)) if fill.side == "BUY" else sorted(_levels(bids), reverse=True)
    shares = sum(s for _, s in side)
    walked, remaining, last_price = 0, fill.size, None
    for price, size in side:
        if remaining <= 0:
            break
        walked += 1
        last_price = price
        remaining -= size
    return {
        "depth_shares": round(shares, 4),
        "depth_usdc": round(sum(p * s for p, s in side), 2),
        "depth_share": round(fill.size / shares, 6) if shares > 0 else None,
        "levels_walked": walked,
        "walk_to_price": last_price,
        "exhausts_book": remaining > 0,
    }


def anomaly_score(volume_share: float | None, depth_share: float | None, niche: bool, t: Mapping) -> float:
    parts = [0.0]
    if volume_share is not None and t["size_volume_share"] > 0:
        parts.append(volume_share / t["size_volume_share"])
    if depth_share is not None and t["size_depth_share"] > 0:
        parts.append(depth_share / t["size_depth_share"])
    return max(parts) * (t["niche_weight"] if niche else 1.0)


def building(trailing: list[Fill], t: Mapping) -> dict:
    """The trailing window's dominant entry (buys of one outcome): its fills, USDC and share of the window's USDC.
    Sells are exits: they only dilute the share, never build."""
    by_direction: dict[tuple[str, str], list[Fill]] = {}
    for f in trailing:
        if f.is_entry:
            by_direction.setdefault((f.token_id, f.side), []).append(f)
    if not by_direction:
        return {"token_id": None, "side": None, "fills": 0, "usdc": 0.0, "direction_share": 0.0}
    (token, side), fills = max(by_direction.items(), key=lambda kv: (sum(f.usdc for f in kv[1]), kv[0]))
    usdc = sum(f.usdc for f in fills)
    total = sum(f.usdc for f in trailing)
    return {
        "token_id": token,
        "side": side,
        "fills": len(fills),
        "usdc": round(usdc, 2),
        "direction_share": round(usdc / total, 6) if total > 0 else 0.0,
    }


def is_building(b: Mapping, t: Mapping) -> bool:
    return (
        b["fills"] >= t["building_min_fills"]
        and b["usdc"] >= t["building_min_usdc"]
        and b["direction_share"] >= t["building_min_direction_share"]
    )


def matters_in_market(usdc: float, quantile: float | None, fills: int, t: Mapping) -> bool:
    """At or above the market's own size quantile, when it has enough fills to judge by."""
    if quantile is None or fills < t.get("size_distribution_min_fills", 1):
        return True
    return usdc >= quantile


def verdict(evidence: Mapping) -> str | None:
    """From the evidence alone: None = alert-worthy, 'not_fired' = the rule did not hold, else the noise reason."""
    t, x = evidence["thresholds"], evidence["inputs"]
    if evidence["tier"] == 0:
        large = (
            x["window_usdc"] >= t["size_min_usdc"]
            and anomaly_score(x["window_volume_share"], x["depth_share"], x["niche"], t) >= 1.0
        )
        large = large and matters_in_market(
            x["window_usdc"], x.get("market_size_quantile_usdc"), x.get("market_size_fills", 0), t
        )
        if not (large or is_building(x["building"], t)):
            return "not_fired"
    elif x["cumulative_usdc"] < x["multiplier"] * x["first_alert_usdc"]:
        return "not_fired"
    return noise_reason(x["labels"], x["entry_vwap"], t, x.get("hours_to_end"))


def should_fire(evidence: Mapping) -> bool:
    return verdict(evidence) is None


def size_anomaly_rows(
    fills: list[Fill],
    wallet: WalletFacts,
    market: MarketFacts | None,
    t: Mapping,
    *,
    volume_at: Callable[[datetime], float],
    book_at: Callable[[Fill], tuple[datetime, list, list] | None],
    size_quantile_at: Callable[[datetime], tuple[float | None, int]] | None = None,
) -> list[dict]:
    """The alert (tier 0) and escalation rows of one wallet's position in one market.

    `size_quantile_at(at)`: the market's size_market_quantile of fill sizes before `at` and how many fills that
    is of (None: no distribution, the floors alone)."""
    window = timedelta(minutes=t["accumulation_window_minutes"])
    gamma_volume = (market.volume_24h or 0.0) if market else 0.0
    volumes: dict[datetime, float] = {}
    walks: dict[str, dict] = {}
    quantiles: dict[datetime, tuple[float | None, int]] = {}

    def size_quantile(at: datetime) -> tuple[float | None, int]:
        if size_quantile_at is None:
            return None, 0
        if at not in quantiles:
            quantiles[at] = size_quantile_at(at)
        return quantiles[at]

    def volume(at: datetime) -> float:
        if at not in volumes:
            volumes[at] = max(volume_at(at), gamma_volume)
        return volumes[at]

    def walk(fill: Fill) -> dict:
        if fill.fill_key not in walks:
            book = book_at(fill)
            walks[fill.fill_key] = (
                {"book_captured_at": None, "depth_share": None}
                if book is None
                else dict(book_walk(fill, book[1], book[2]), book_captured_at=iso(book[0]))
            )
        return walks[fill.fill_key]

    def measures(trailing: list[Fill]) -> tuple[float, float | None, float | None, bool, dict]:
        usdc = net_usdc(trailing)
        vol = volume(trailing[-1].traded_at)
        buys = [f for f in trailing if f.is_entry]
        depth = (
            walk(max(buys, key=lambda f: (f.size, f.fill_key)))
            if buys
            else {"book_captured_at": None, "depth_share": None}
        )
        return (
            usdc,
            (usdc / vol if vol > 0 else None),
            depth["depth_share"],
            vol < t["niche_volume_usdc"],
            depth,
        )

    def fires(trailing: list[Fill]) -> bool:
        usdc = net_usdc(trailing)
        if usdc < min(t["size_min_usdc"], t["building_min_usdc"]):
            return False
        if is_building(building(trailing, t), t):
            return True
        if usdc < t["size_min_usdc"] or not matters_in_market(usdc, *size_quantile(trailing[0].traded_at), t):
            return False
        _, share, depth_share, niche, _ = measures(trailing)
        return anomaly_score(share, depth_share, niche, t) >= 1.0

    position = first_alert_position(fills, window, fires)
    if position is None:
        return []
    trailing = trailing_fills(position, window)
    window_usdc, window_share, depth_share, niche, depth = measures(trailing)
    vol = volume(trailing[-1].traded_at)
    age = hours_between(wallet.first_activity_at, trailing[0].traded_at)
    age = None if age is None else max(age, 0.0)
    quantile, quantile_fills = size_quantile(trailing[0].traded_at)
    end_date = market.end_date if market else None
    rows = []
    for tier in position_tiers(position, fills, [t["escalation_tier_1"], t["escalation_tier_2"]]):
        share = tier.usdc / vol if vol > 0 else None
        score = anomaly_score(share, depth_share, niche, t)
        gain = payoff(tier.entry_vwap)
        risk = risk_summary(RiskFacts(age, t["fresh_max_age_hours"], share, depth_share, niche, payoff=gain))
        inputs = {
            "position_usdc": round(tier.usdc, 2),
            "fill_count": tier.fill_count,
            "crossing_fill_key": tier.crossing.fill_key,
            "window_started_at": iso(trailing[0].traded_at),
            "window_usdc": round(window_usdc, 2),
            "window_volume_share": _r(window_share),
            "volume_24h_usdc": round(vol, 2),
            "gamma_volume_24h": gamma_volume,
            "volume_share": _r(share),
            "depth_share": _r(depth_share),
            "book": depth,
            "niche": niche,
            "building": building(trailing, t),
            "entry_vwap": round(tier.entry_vwap, 6),
            "payoff": gain,
            "market_end_date": iso(end_date),
            "hours_to_end": hours_left(end_date, tier.crossing.traded_at),
            "market_size_quantile_usdc": None if quantile is None else round(quantile, 2),
            "market_size_fills": quantile_fills,
            "exited_usdc": round(tier.holding.exited_usdc, 2),
            "labels": list(wallet.labels),
            "wallet_first_activity_at": iso(wallet.first_activity_at),
            "wallet_age_hours": age,
            "fill_keys": [f.fill_key for f in tier.held][:50],
        }
        if tier.tier:
            inputs.update(
                first_alert_usdc=round(position.usdc, 2),
                cumulative_usdc=round(tier.usdc, 2),
                multiplier=tier.multiplier,
            )
        evidence = {
            "signal": TABLE,
            "tier": tier.tier,
            "thresholds": dict(t),
            "inputs": inputs,
            "risk": risk,
            "anomaly_score": round(score, 4),
        }
        evidence["summary"] = _summary(tier, share, depth_share, age, risk["reason"], position.usdc)
        c = tier.crossing
        rows.append(
            {
                "signal_key": signal_key(TABLE, wallet.wallet, c.condition_id, tier.tier),
                "fill_key": c.fill_key,
                "traded_at": c.traded_at,
                "wallet": wallet.wallet,
                "condition_id": c.condition_id,
                "token_id": c.token_id,
                "side": c.side,
                "price": c.price,
                "usdc_size": round(tier.usdc, 2),
                "fill_count": tier.fill_count,
                "alert_tier": tier.tier,
                "volume_24h_usdc": round(vol, 2),
                "volume_share": _r(share),
                "depth_usdc": depth.get("depth_usdc"),
                "depth_share": _r(depth_share),
                "niche": niche,
                "anomaly_score": round(score, 4),
                "risk_score": risk["score"],
                "suppressed_reason": verdict(evidence),
                "evidence": evidence,
            }
        )
    return rows


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _summary(tier, share, depth_share, age, reason: str, first_usdc: float) -> str:
    c = tier.crossing
    what = f"{'buy' if c.side == 'BUY' else 'sell'} of {c.outcome or 'the outcome'} at {c.price:.2f}"
    fills = f" ({tier.fill_count} fills)" if tier.fill_count > 1 else ""
    size = []
    if share is not None:
        size.append(f"{pct(share)} of the market's 24 h volume")
    if depth_share is not None:
        size.append(f"largest fill took {pct(depth_share)} of the visible book")
    if tier.tier == 0 and tier.fill_count >= 2 and not size:
        size.append(f"built from {tier.fill_count} fills")
    if tier.tier:
        head = f"position grew to {usd(tier.usdc)}{fills}, {tier.multiplier:g}x the first alert of {usd(first_usdc)}"
    else:
        head = f"{usd(tier.usdc)} {what}{fills}"
    head += f" ({', '.join(size)}; {age_text(age)})" if size else f" ({age_text(age)})"
    return f"{head} — {reason}"


def evaluate(log, warehouse, config, overlap: timedelta | None = None):
    """The asset's work (insider_assets.size_anomalies), callable outside a run (the live pass,
    pm_sensors/live); `log` has `.info`, `config` the asset's Launchpad config. Returns a dg.MaterializeResult."""
    from pm_assets.signals.insider_runs import run_position_signal

    return run_position_signal(
        log, warehouse, TABLE, SIGNAL_TYPE, config, build_rows=_rows_for_pairs, overlap=overlap
    )


def _rows_for_pairs(conn, t, fills_by_pair, wallets, markets) -> list[dict]:
    max_age = timedelta(minutes=t["book_max_age_minutes"])
    rows = []
    for (wallet, condition_id), fills in fills_by_pair.items():
        if sum(f.usdc for f in fills if f.is_entry) < min(t["size_min_usdc"], t["building_min_usdc"]):
            continue
        facts = wallets.get(wallet) or WalletFacts(wallet, None, ())

        def volume_at(at, cid=condition_id):
            return insider_inputs.trailing_volume(conn, cid, at)

        def book_at(fill):
            return insider_inputs.book_before(conn, fill.token_id, fill.traded_at, max_age)

        def size_quantile_at(at, cid=condition_id):
            return insider_inputs.fill_size_quantile(conn, cid, at, t["size_market_quantile"])

        rows += size_anomaly_rows(
            fills,
            facts,
            markets.get(condition_id),
            t,
            volume_at=volume_at,
            book_at=book_at,
            size_quantile_at=size_quantile_at,
        )
    return rows


SPEC = SignalSpec(
    signal_type=SIGNAL_TYPE,
    asset=TABLE,
    thresholds=SizeAnomalyThresholds,
    table=TABLE,
    label="Size anomalies",
    alert_title="Size anomaly",
    time_column="traded_at",
    direction="side",
    aliases={"usdc": "usdc_size", "score": "anomaly_score", "risk": "risk_score", "share": "volume_share"},
    rule=should_fire,
    ingested=TRADE_INGESTED,
    has_token=True,
    has_wallet=True,
)
