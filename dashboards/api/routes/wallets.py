"""/v1/wallets: wallets by address, one wallet, and its trades."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from dashboards.api import models
from dashboards.api import queries as q
from dashboards.api.paging import engine_of, run_page, utc
from dashboards.api.routes.params import NOT_FOUND, Cursor, Limit, Since, Time, Until, WalletAddress, one_row
from dashboards.api.routes.trades import TradeSelection, add_trade_routes

router = APIRouter()


@router.get("/wallets", response_model=models.WalletPage, summary="Wallets by address")
def list_wallets(
    request: Request,
    min_volume: Annotated[
        float | None, Query(allow_inf_nan=False, description="USDC traded, at least")
    ] = None,
    min_trades: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    first_active_since: Annotated[
        Time | None, Query(description="first Polymarket activity at or after this time")
    ] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    listing = q.wallets()
    if min_volume is not None:
        listing.filter("volume_usdc >= %(min_volume)s", min_volume=min_volume)
    if min_trades is not None:
        listing.filter("trade_count >= %(min_trades)s", min_trades=min_trades)
    if first_active_since is not None:
        listing.filter("first_activity_at >= %(first_since)s", first_since=utc(first_active_since))
    return run_page(engine_of(request), listing, limit, cursor)


@router.get("/wallets/{wallet}", response_model=models.Wallet, responses=NOT_FOUND, summary="One wallet")
def get_wallet(request: Request, wallet: WalletAddress) -> dict[str, Any]:
    listing = q.wallets()
    listing.equal("wallet", wallet.lower())
    return one_row(request, listing, "wallet")


def wallet_trades(wallet: WalletAddress, since: Since = None, until: Until = None) -> TradeSelection:
    listing = q.trades("wallet")
    listing.equal("wallet", wallet.lower())
    listing.between("traded_at", utc(since), utc(until))
    return TradeSelection(listing, f"trades_{wallet.lower()}")


add_trade_routes(router, "/wallets/{wallet}", "wallet", wallet_trades)
