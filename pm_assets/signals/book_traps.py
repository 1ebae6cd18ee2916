"""Book traps (issue 11): what must be true before an apparent edge counts as arbitrage. Dagster-free.

Each check returns a reason (text a person reads) or None. A reason never drops a window silently: the window
is stored with `suppressed_reason`, so users see what was held back and why.

- Incomplete negRisk sets: the YES asks of an event only sum to the price of a sure payout when every outcome
  is listed and tradable. Augmented events (`negRiskAugmented`), "Other" legs (`negRiskOther`), placeholder
  outcomes and legs without a book leave probability mass outside the listed set, so their sum < 1 is no edge.
- Ghost books: a side at the extremes (0.99 ask / 0.01 bid) with little size, or a book whose midpoint disagrees
  with the token's traded price, is quoted by nobody who would fill (polymarket-api.md §2.1, py-clob-client#180).
- Unknown books: a 404 or a token never seen is unknown, never an empty (zero-priced) book.
- Held markets: in dispute, arbitrated, in extended review, not accepting orders, closed or past end date.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Level = tuple[float, float]  # (price, size), best first

_PLACEHOLDER = re.compile(
    r"^\s*(other|others|another|tbd|tba|placeholder|person [a-z]|option [a-z0-9]+)\s*$", re.I
)


@dataclass(frozen=True)
class MarketState:
    """What the gating needs to know about one market (from markets + market_resolutions)."""

    condition_id: str
    accepting_orders: bool | None = True
    closed: bool | None = False
    end_date: datetime | None = None
    closed_at: datetime | None = None  # when it closed (closed_time, else resolved_at); None: unknown
    neg_risk_other: bool = False
    group_item_title: str | None = None
    resolution_status: str | None = None
    was_disputed: bool = False
    was_arbitrated: bool = False
    extended_review: bool = False


def held_reason(market: MarketState, at: datetime) -> str | None:
    """Why signals on this market are held back at `at`, or None when it trades normally."""
    status = (market.resolution_status or "").lower()
    if market.was_disputed or status == "disputed":
        return "market_disputed"
    if market.was_arbitrated or status == "arbitrated":
        return "market_arbitrated"
    if market.extended_review or status == "extended_review":
        return "market_extended_review"
    # closed / accepting_orders describe the market now; a replay of the days before its known close time
    # (a backfill) is not held back by today's close.
    before_close = market.closed_at is not None and at < market.closed_at
    if market.closed and not before_close:
        return "market_closed"
    if market.accepting_orders is False and not before_close:
        return "market_not_accepting_orders"
    if market.end_date is not None and at > market.end_date:
        return "market_past_end_date"
    return None


def is_placeholder_outcome(title: str | None) -> bool:
    """Gamma lists unnamed negRisk slots ("Other", "Person A") before anyone is assigned to them."""
    return bool(title) and bool(_PLACEHOLDER.match(title or ""))


def negrisk_set_reason(
    augmented: bool,
    legs: Sequence[MarketState],
    books_known: Mapping[str, bool],
) -> str | None:
    """Why an event's listed outcomes are not a complete, tradable set (None: complete).

    `books_known` maps each leg's condition id to whether its YES book is known (absent/404 = False).
    """
    if len(legs) < 2:
        return "incomplete_negrisk_set: fewer than two listed outcomes"
    if augmented:
        return "incomplete_negrisk_set: event is negRiskAugmented (outcomes may be added later)"
    for leg in legs:
        if leg.neg_risk_other:
            return f"incomplete_negrisk_set: {leg.condition_id} is the negRiskOther outcome"
        if is_placeholder_outcome(leg.group_item_title):
            return f"incomplete_negrisk_set: placeholder outcome {leg.group_item_title!r}"
        if not books_known.get(leg.condition_id, False):
            return f"incomplete_negrisk_set: no book for {leg.condition_id}"
    return None


def ghost_book_reason(
    bids: Sequence[Level],
    asks: Sequence[Level],
    reference_price: float | None,
    *,
    extreme: float,
    min_usdc: float,
    max_deviation: float,
    side: str | None = None,
) -> str | None:
    """Why a book should not be trusted as it stands (None: it looks real).

    `side` "ask" (a set bought at the asks) or "bid" (sold at the bids) checks only the extreme quote on that
    side: a longshot's 0.001 bid with cents behind it says nothing about its real ask, which is what buying
    pays. None checks both sides.

    `extreme` is how close to 0 or 1 a top must be to count as an extreme quote (0.01 means ≥ 0.99 / ≤ 0.01);
    such a top needs `min_usdc` of notional (price × size) behind it: 20 shares bid at 0.01 are 20 cents;
    `reference_price` is the token's last traded price (None when it never traded: no cross-check).
    """
    top_ask = asks[0] if asks else None
    top_bid = bids[0] if bids else None
    if (
        side != "bid"
        and top_ask is not None
        and top_ask[0] >= 1 - extreme
        and top_ask[0] * top_ask[1] < min_usdc
    ):
        return f"ghost_book: top ask {top_ask[0]:g} with only ${top_ask[0] * top_ask[1]:.2f} behind it"
    if side != "ask" and top_bid is not None and top_bid[0] <= extreme and top_bid[0] * top_bid[1] < min_usdc:
        return f"ghost_book: top bid {top_bid[0]:g} with only ${top_bid[0] * top_bid[1]:.2f} behind it"
    if reference_price is not None and top_ask is not None and top_bid is not None:
        mid = (top_ask[0] + top_bid[0]) / 2
        if abs(mid - reference_price) > max_deviation:
            return f"ghost_book: midpoint {mid:.4f} disagrees with last trade {reference_price:.4f}"
    return None


def market_state_from_row(row: Mapping[str, Any]) -> MarketState:
    """A MarketState from a joined markets/market_resolutions row (column names as in the warehouse)."""
    return MarketState(
        condition_id=row["condition_id"],
        accepting_orders=row.get("accepting_orders"),
        closed=row.get("closed"),
        end_date=row.get("end_date"),
        closed_at=row.get("closed_at"),
        neg_risk_other=bool(row.get("neg_risk_other")),
        group_item_title=row.get("group_item_title"),
        resolution_status=row.get("resolution_status"),
        was_disputed=bool(row.get("was_disputed")),
        was_arbitrated=bool(row.get("was_arbitrated")),
        extended_review=bool(row.get("extended_review")),
    )
