"""Gamma API (/gamma): markets and events, keyset and legacy listings, with the live quirks."""

from __future__ import annotations

import base64
from datetime import datetime

import orjson
from starlette.requests import Request
from starlette.routing import Route

from .books import best
from .clock import iso, iso_date, iso_space
from .responses import gamma_error, js, qbool, qlist
from .rng import h, u01
from .sim import Sim
from .world import SERIES, SUB_TAGS, Event, Market

ORDER_FIELDS = {
    "volume24hr",
    "volumeNum",
    "liquidityNum",
    "startDate",
    "endDate",
    "createdAt",
    "id",
    "volume",
    "liquidity",
    "closedTime",
    "competitive",
    "volume1wk",
    "volume1mo",
}
IMG = "https://polymarket-upload.s3.us-east-2.amazonaws.com/sim-{}.png"


def _vol(sim: Sim, m: Market) -> float:
    return round(sim.world.daily_volume_usdc(m) * 30, 6)


def _tag(tag_id: int, label: str, t0: float) -> dict:
    """One Gamma Tag object (fixtures: nautilus_trader gamma_event.json): id is a string, publishedAt spaced."""
    slug = label.lower().replace(" ", "-")
    return {
        "id": str(tag_id),
        "label": label,
        "slug": slug,
        "forceShow": False,
        "publishedAt": iso_space(t0),
        "createdAt": iso(t0),
        "updatedAt": iso(t0 + 86_400),
        "requiresTranslation": False,
    }


def event_tag_pairs(sim: Sim, ev: Event) -> list[tuple[int, str]]:
    """The event's category tag, then one or two narrower ones its topic carries; deterministic per seed."""
    cat = sim.world.markets[ev.markets[0]].tag
    ids = dict((label, i) for i, label in SUB_TAGS[cat[1]])
    subs = [(ids[label], label) for label in sim.world.event_sub_tags(ev.idx)]
    k = h(sim.world.seed, 29, ev.idx)
    picked = [subs[k % len(subs)]]
    if k % 5 == 0 and len(subs) > 1:
        picked.append(subs[(k + 1) % len(subs)])
    return [cat, *picked]


def _tag_ids(sim: Sim, event_idx: int) -> set[int]:
    return {i for i, _ in event_tag_pairs(sim, sim.world.events[event_idx])}


def event_tags(sim: Sim, ev: Event) -> list[dict]:
    t0 = sim.world.history_start - 400 * 86_400
    return [_tag(i, label, t0 + i % 997 * 3600) for i, label in event_tag_pairs(sim, ev)]


def event_series(sim: Sim, ev: Event) -> dict | None:
    for _, label in event_tag_pairs(sim, ev)[1:]:
        if label in SERIES:
            sid, slug, title = SERIES[label]
            return {
                "id": sid,
                "ticker": slug,
                "slug": slug,
                "title": title,
                "seriesType": "single",
                "recurrence": "daily" if "daily" in slug else "annual",
                "active": True,
                "closed": False,
                "archived": False,
            }
    return None


def market_json(sim: Sim, m: Market, t: float, with_events: bool = True, include_tag: bool = False) -> dict:
    w = sim.world
    ev = w.events[m.event_idx]
    closed = t >= m.close_time
    p = w.price(m, t)
    vol = _vol(sim, m)
    liq = _liq(sim, m)
    d: dict = {
        "id": m.id,
        "question": m.question,
        "conditionId": m.gamma_condition_id,
        "slug": m.slug,
        "resolutionSource": "",
        "endDate": iso(m.end_date, False),
        "liquidity": repr(liq),
        "startDate": iso(m.created_at + 300),
        "image": IMG.format(m.idx),
        "icon": IMG.format(m.idx),
        "description": f"This market resolves Yes if: {m.question}",
        "outcomes": _enc(m.outcomes),
    }
    if not (closed and u01(w.seed, 401, m.idx) < 0.3):  # outcomePrices sometimes absent on closed rows
        d["outcomePrices"] = _enc([_p(p), _p(1 - p)])
    d.update(
        {
            "volume": repr(vol),
            "active": True,
            "closed": closed,
            "marketMakerAddress": "",
            "createdAt": iso(m.created_at),
            "updatedAt": iso(min(t, m.close_time)),
            "new": False,
            "featured": False,
            "submitted_by": "0x91430CaD2d3975766499717fA0D66A78D814E5c5",
            "archived": False,
            "resolvedBy": "0x2F5e3684cb1F318ec51b00Edba38d79Ac2c0aA9d",
            "restricted": True,
        }
    )
    if m.neg_risk:
        d["groupItemTitle"] = m.question.split(" win ")[0].removeprefix("Will ")
        d["groupItemThreshold"] = str(m.outcome_in_event)
    d.update(
        {
            "questionID": m.question_id,
            "enableOrderBook": m.has_book,
            "orderPriceMinTickSize": w.tick_at(m, t),
            "orderMinSize": 5,
            "volumeNum": vol,
            "liquidityNum": liq,
            "endDateIso": iso_date(m.end_date),
            "startDateIso": iso_date(m.created_at),
            "hasReviewedDates": True,
            "volume24hr": round(vol / 30, 6),
            "volume1wk": round(vol / 4, 6),
            "volume1mo": vol,
            "volume1yr": vol,
        }
    )
    if m.version == "v2":
        d["clobTokenIds"] = None
        d["positionIds"] = list(m.position_ids or m.token_ids)
        d["version"] = "v2"
    else:
        d["clobTokenIds"] = _enc(m.token_ids)
        if m.position_ids:
            d["positionIds"] = list(m.position_ids)
        if m.version:
            d["version"] = m.version
    d.update(
        {
            "umaBond": "25000",
            "umaReward": "10",
            "volume24hrClob": round(vol / 30, 6),
            "volume1wkClob": round(vol / 4, 6),
            "volume1moClob": vol,
            "volume1yrClob": vol,
            "volumeClob": vol,
            "liquidityClob": liq,
            "makerBaseFee": 0,
            "takerBaseFee": 1000 if m.fee_schedule else 0,
            "customLiveness": 0,
            "acceptingOrders": not closed and m.has_book,
            "negRisk": m.neg_risk,
        }
    )
    if m.neg_risk:
        d["negRiskMarketID"] = m.neg_risk_market_id
        d["negRiskRequestID"] = "0x" + m.question_id[2:][::-1]
    d.update(
        {
            "ready": False,
            "funded": False,
            "acceptingOrdersTimestamp": iso(m.created_at + 60, False),
            "cyom": False,
            "competitive": round(u01(w.seed, 402, m.idx), 6),
            "pagerDutyNotificationEnabled": False,
            "approved": True,
        }
    )
    if closed:
        d["closedTime"] = iso_space(m.close_time)
    d["clobRewards"] = [
        {
            "id": str(340000 + m.idx),
            "conditionId": m.condition_id,
            "assetAddress": "0xc011a7e12a19f7b1f670d46f03b03f3342e82dfb",
            "rewardsAmount": 0,
            "rewardsDailyRate": 0.001,
            "startDate": "2026-05-15",
            "endDate": "2500-12-31",
        }
    ]
    d.update({"rewardsMinSize": 0, "rewardsMaxSpread": 0})
    if m.has_book and not closed and t >= m.created_at:
        tick, bb, ba = best(w, m, 0, t)
        bbv, bav = bb or 0.0, ba or 1.0
        d["spread"] = round(bav - bbv, 6)
        ch_w = round(p - w.price(m, t - 7 * 86400), 4)
        ch_m = round(p - w.price(m, t - 30 * 86400), 4)
        if ch_w:
            d["oneWeekPriceChange"] = ch_w
        if ch_m:
            d["oneMonthPriceChange"] = ch_m
        ltp = sim.ltp(m, 0, int(t * 1000))[0]
        d.update(
            {"lastTradePrice": float(ltp) if ltp else 0, "bestBid": round(bbv, 6), "bestAsk": round(bav, 6)}
        )
    d.update(
        {
            "automaticallyActive": True,
            "clearBookOnStart": True,
            "seriesColor": "",
            "showGmpSeries": False,
            "showGmpOutcome": False,
            "manualActivation": False,
            "negRiskOther": m.neg_risk_other,
            "umaResolutionStatuses": "[]" if not closed else '["proposed", "resolved"]',
            "pendingDeployment": False,
            "deploying": False,
            "deployingTimestamp": iso(m.created_at - 20),
            "rfqEnabled": False,
            "holdingRewardsEnabled": m.neg_risk,
            "feesEnabled": bool(m.fee_schedule),
            "requiresTranslation": False,
            "feeType": f"{m.tag[1].lower()}_fees" if m.fee_schedule else None,
        }
    )
    if m.fee_schedule:
        d["feeSchedule"] = dict(m.fee_schedule)
    if with_events:
        d["events"] = [event_json(sim, ev, t, with_markets=False)]
    if include_tag:  # Gamma adds a market's tags only on request (polymarket-api.md §1.3)
        d["tags"] = event_tags(sim, sim.world.events[m.event_idx])
    return d


def event_json(sim: Sim, ev: Event, t: float, with_markets: bool = True) -> dict:
    w = sim.world
    ms = [w.markets[j] for j in ev.markets]
    created = min(m.created_at for m in ms)
    close = max(m.close_time for m in ms)
    vol = sum(_vol(sim, m) for m in ms)
    closed = t >= close
    d: dict = {
        "id": ev.id,
        "ticker": ev.slug,
        "slug": ev.slug,
        "title": ev.title,
        "description": f"Event: {ev.title}",
        "resolutionSource": "",
        "startDate": iso(created + 300),
        "creationDate": iso(created + 290),
        "endDate": iso(max(m.end_date for m in ms), False),
        "image": IMG.format("e" + ev.id),
        "icon": IMG.format("e" + ev.id),
        "active": True,
        "closed": closed,
        "archived": False,
        "new": False,
        "featured": False,
        "restricted": True,
        "liquidity": round(vol * 0.01, 5),
        "volume": round(vol, 6),
        "openInterest": round(vol * 0.05, 6),
        "sortBy": "price",
        "createdAt": iso(created),
        "updatedAt": iso(min(t, close)),
        "competitive": round(u01(w.seed, 403, ev.idx), 6),
        "volume24hr": round(vol / 30, 6),
        "volume1wk": round(vol / 4, 6),
        "volume1mo": round(vol, 6),
        "volume1yr": round(vol, 6),
        "enableOrderBook": True,
        "liquidityClob": round(vol * 0.01, 5),
        "negRisk": ev.neg_risk,
    }
    if ev.neg_risk:
        d["negRiskMarketID"] = ev.neg_risk_market_id
    d.update(
        {
            "commentCount": int(u01(w.seed, 404, ev.idx) * 900),
            "cyom": False,
            "showAllOutcomes": True,
            "showMarketImages": True,
            "enableNegRisk": ev.neg_risk,
            "automaticallyActive": True,
            "startTime": iso(close, False),
            "gmpChartMode": "default",
            "negRiskAugmented": ev.augmented,
            "countryName": "U.S.",
            "electionType": ev.title.split()[0],
            "estimateValue": False,
            "cumulativeMarkets": False,
            "pendingDeployment": False,
            "deploying": False,
            "deployingTimestamp": iso(created - 20),
            "requiresTranslation": False,
        }
    )
    if closed:
        d["closedTime"] = iso_space(close)
    d["eventMetadata"] = {
        "context_description": f"Simulated context for {ev.title}.",
        "context_requires_regen": False,
        "context_updated_at": iso(created),
    }
    if with_markets:
        d["markets"] = [market_json(sim, m, t, with_events=False) for m in ms if m.created_at <= t]
        # A full event carries its tags and series; the partial event a market embeds does not (fixtures:
        # gamma_market_2026-06-14.json's events[] vs the /events payload of the same event).
        d["tags"] = event_tags(sim, ev)
        series = event_series(sim, ev)
        if series is not None:
            d["seriesSlug"] = series["slug"]
            d["series"] = [series]
    return d


def _enc(xs: list[str]) -> str:
    # Upstream's JSON-in-a-string uses ", " separators.
    return "[" + ", ".join(orjson.dumps(x).decode() for x in xs) + "]"


def _p(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".") if x not in (0.0, 1.0) else str(int(x))


# ------------------------------------------------------------------ filtering
class _Bad(Exception):
    pass


def _liq(sim: Sim, m: Market) -> float:
    return round(_vol(sim, m) * 0.01 + 100 * u01(sim.world.seed, 400, m.idx), 5)


def _sort_value(sim: Sim, obj, field: str):
    """Order keys computed from the model (markets or events), so only the served page is rendered."""
    if isinstance(obj, Market):
        return {
            "volume24hr": lambda: _vol(sim, obj) / 30,
            "volumeNum": lambda: _vol(sim, obj),
            "volume": lambda: _vol(sim, obj),
            "volume1wk": lambda: _vol(sim, obj) / 4,
            "volume1mo": lambda: _vol(sim, obj),
            "liquidityNum": lambda: _liq(sim, obj),
            "liquidity": lambda: _liq(sim, obj),
            "startDate": lambda: obj.created_at,
            "createdAt": lambda: obj.created_at,
            "endDate": lambda: obj.end_date,
            "closedTime": lambda: obj.close_time,
            "id": lambda: int(obj.id),
            "competitive": lambda: u01(sim.world.seed, 402, obj.idx),
        }[field]()
    ms = [sim.world.markets[j] for j in obj.markets]
    vol = sum(_vol(sim, m) for m in ms)
    return {
        "startDate": min(m.created_at for m in ms),
        "createdAt": min(m.created_at for m in ms),
        "endDate": max(m.end_date for m in ms),
        "closedTime": max(m.close_time for m in ms),
        "id": int(obj.id),
        "competitive": u01(sim.world.seed, 403, obj.idx),
    }.get(field, vol)


def _apply_order(sim: Sim, rows: list, qp, default_asc: bool) -> list:
    order = qp.get("order")
    if not order:
        return rows
    fields = [f.strip() for f in order.split(",") if f.strip()]
    if any(f not in ORDER_FIELDS for f in fields):
        raise _Bad("order fields are not valid")
    asc = qbool(qp.get("ascending"), default_asc)
    for f in reversed(fields):
        rows.sort(key=lambda o, f=f: _sort_value(sim, o, f), reverse=not asc)
    return rows


def _version_ok(sim: Sim, m: Market, qp) -> bool:
    if sim.cfg.legacy:
        return True
    # Repeated keys or a comma list (`version=v1&version=v2`, as the official SDK sends) select both.
    want = set(qlist(qp, "version"))
    if not want:
        want = {"both"} if sim.cfg.gamma_version_default == "both" else {"v1"}
    if "both" in want or {"v1", "v2"} <= want:
        return True
    return (m.version == "v2") == ("v2" in want)


def _dt(v: str) -> float:
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise _Bad(f"invalid date {v!r}") from exc


def filter_markets(sim: Sim, qp, t: float) -> list[Market]:
    w = sim.world
    ids = set(qlist(qp, "id"))
    slugs = set(qlist(qp, "slug"))
    cids = {c.lower() for c in qlist(qp, "condition_ids")}
    toks = set(qlist(qp, "clob_token_ids"))
    tags = {int(x) for x in qlist(qp, "tag_id") if x.isdigit()}
    closed = qbool(qp.get("closed"), False)
    bounds = {
        k: qp.get(k)
        for k in (
            "liquidity_num_min",
            "liquidity_num_max",
            "volume_num_min",
            "volume_num_max",
            "start_date_min",
            "start_date_max",
            "end_date_min",
            "end_date_max",
        )
    }
    out = []
    for m in w.markets:
        if m.created_at > t or (t >= m.close_time) != closed:
            continue
        if ids and m.id not in ids or slugs and m.slug not in slugs:
            continue
        if cids and m.gamma_condition_id.lower() not in cids and m.condition_id.lower() not in cids:
            continue
        if toks and not toks.intersection(m.token_ids) or tags and not tags & _tag_ids(sim, m.event_idx):
            continue
        if not _version_ok(sim, m, qp):
            continue
        vol = _vol(sim, m)
        if bounds["volume_num_min"] and vol < float(bounds["volume_num_min"]):
            continue
        if bounds["volume_num_max"] and vol > float(bounds["volume_num_max"]):
            continue
        if bounds["start_date_min"] and m.created_at + 300 < _dt(bounds["start_date_min"]):
            continue
        if bounds["start_date_max"] and m.created_at + 300 > _dt(bounds["start_date_max"]):
            continue
        if bounds["end_date_min"] and m.end_date < _dt(bounds["end_date_min"]):
            continue
        if bounds["end_date_max"] and m.end_date > _dt(bounds["end_date_max"]):
            continue
        if bounds["liquidity_num_min"] and _liq(sim, m) < float(bounds["liquidity_num_min"]):
            continue
        if bounds["liquidity_num_max"] and _liq(sim, m) > float(bounds["liquidity_num_max"]):
            continue
        out.append(m)
    return out


def filter_events(sim: Sim, qp, t: float) -> list[Event]:
    w = sim.world
    ids = set(qlist(qp, "id"))
    slugs = set(qlist(qp, "slug"))
    tags = {int(x) for x in qlist(qp, "tag_id") if x.isdigit()}
    closed = qbool(qp.get("closed"), False)
    out = []
    for ev in w.events:
        ms = [w.markets[j] for j in ev.markets]
        if min(m.created_at for m in ms) > t or (t >= max(m.close_time for m in ms)) != closed:
            continue
        if (
            ids
            and ev.id not in ids
            or slugs
            and ev.slug not in slugs
            or tags
            and not tags & _tag_ids(sim, ev.idx)
        ):
            continue
        if not any(_version_ok(sim, m, qp) for m in ms):
            continue
        vol = round(sum(_vol(sim, m) for m in ms), 6)
        liq = round(vol * 0.01, 5)
        if (
            qp.get("volume_min")
            and vol < float(qp["volume_min"])
            or qp.get("volume_max")
            and vol > float(qp["volume_max"])
            or qp.get("liquidity_min")
            and liq < float(qp["liquidity_min"])
            or qp.get("liquidity_max")
            and liq > float(qp["liquidity_max"])
        ):
            continue
        out.append(ev)
    return out


def render(sim: Sim, rows: list, t: float, include_tag: bool = False) -> list[dict]:
    return [
        market_json(sim, o, t, include_tag=include_tag) if isinstance(o, Market) else event_json(sim, o, t)
        for o in rows
    ]


# ------------------------------------------------------------------ routes
def routes(sim: Sim) -> list[Route]:
    legacy = sim.cfg.legacy
    cap = 500 if legacy else 100

    def _limit(qp, default: int, mx: int) -> int:
        try:
            v = int(qp.get("limit", default))
        except ValueError as exc:
            raise _Bad("invalid limit") from exc
        return max(0, min(v, mx))

    def listing(kind: str):
        async def handler(request: Request):
            qp = request.query_params
            t = sim.now()
            try:
                off = int(qp.get("offset", 0) or 0)
                if not legacy and off > 2000:
                    raise _Bad(f"offset too large, use /{kind}/keyset for deeper pagination")
                rows = (filter_markets if kind == "markets" else filter_events)(sim, qp, t)
                rows = _apply_order(sim, rows, qp, False)
                lim = _limit(qp, cap, cap)
            except _Bad as exc:
                return gamma_error(422, "validation error", str(exc))
            rows = render(sim, rows[off : off + lim], t, qbool(qp.get("include_tag"), False))
            hdr = (
                None
                if legacy
                else {
                    "deprecation": "true",
                    "sunset": "Fri, 01 May 2026 00:00:00 GMT",
                    "warning": f'299 - "use /{kind}/keyset"',
                }
            )
            return js(rows, headers=hdr)

        return handler

    def keyset(kind: str, mx: int):
        async def handler(request: Request):
            qp = request.query_params
            if "offset" in qp:
                return gamma_error(422, "validation error", "offset is not allowed on keyset endpoints")
            t = sim.now()
            try:
                lim = _limit(qp, 20, mx) or 20
                rows = (filter_markets if kind == "markets" else filter_events)(sim, qp, t)
                rows = _apply_order(sim, rows, qp, True)
            except _Bad as exc:
                return gamma_error(422, "validation error", str(exc))
            start = 0
            cur = qp.get("after_cursor")  # cursor= / next_cursor= are ignored, as upstream
            if cur:
                try:
                    start = int(base64.urlsafe_b64decode(cur + "==").decode().split(":")[1])
                except (ValueError, IndexError):
                    return gamma_error(422, "validation error", "invalid after_cursor")
            page = rows[start : start + lim]
            body: dict = {kind: render(sim, page, t, qbool(qp.get("include_tag"), False))}
            if len(page) == lim and start + lim < len(rows):
                body["next_cursor"] = (
                    base64.urlsafe_b64encode(f"o:{start + lim}".encode()).decode().rstrip("=")
                )
            return js(body)

        return handler

    def one_market(by: str):
        async def handler(request: Request):
            key = request.path_params["key"]
            idx = (sim.world.by_gamma_id if by == "id" else sim.world.by_slug).get(key)
            t = sim.now()
            if idx is None or sim.world.markets[idx].created_at > t:
                return gamma_error(404, "not found", "market not found")
            return js(
                market_json(
                    sim,
                    sim.world.markets[idx],
                    t,
                    include_tag=qbool(request.query_params.get("include_tag"), False),
                )
            )

        return handler

    def one_event(by: str):
        async def handler(request: Request):
            key = request.path_params["key"]
            idx = (sim.world.event_by_id if by == "id" else sim.world.event_by_slug).get(key)
            t = sim.now()
            if idx is None:
                return gamma_error(404, "not found", "event not found")
            ev = sim.world.events[idx]
            if min(sim.world.markets[j].created_at for j in ev.markets) > t:
                return gamma_error(404, "not found", "event not found")
            return js(event_json(sim, ev, t))

        return handler

    async def status(request: Request):
        return js("OK")

    return [
        Route("/markets/keyset", keyset("markets", 100)),
        Route("/events/keyset", keyset("events", 500)),
        Route("/markets", listing("markets")),
        Route("/events", listing("events")),
        Route("/markets/slug/{key}", one_market("slug")),
        Route("/markets/{key}", one_market("id")),
        Route("/events/slug/{key}", one_event("slug")),
        Route("/events/{key}", one_event("id")),
        Route("/status", status),
    ]
