"""Pydantic models of the Data API payloads the trade, wallet and resolution assets read.

v2 (`/v2/...`, snake_case, `{data, pagination}`) is the contract; v1 (`/trades`, camelCase bare arrays) is
read only by the off-by-default fallback. Real rows carry `outcome_index: 999` and `event_slug: ""`
(polymarket-api.md L.2, §6.13); unknown fields are ignored so upstream additions never stop ingestion, but a
value of the wrong kind or outside its domain (a price that is not a number in [0, 1], a wallet that is not
an address, an index a Postgres integer cannot hold) fails validation and that row alone is quarantined.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from pm_assets.markets.identifiers import normalize_condition_id, normalize_outcome_id
from pm_assets.markets.values import (
    INT32_MAX,
    epoch_seconds,
    hex_id,
    price,
    size,
    storable_text,
    whole_number,
)


def _condition_id(value: object) -> str:
    return normalize_condition_id(value)  # type: ignore[arg-type]


def _outcome_id(value: object) -> str:
    return normalize_outcome_id(value)  # type: ignore[arg-type]


def _wallet(value: object) -> str:
    return hex_id(value, 40, "wallet address")


def _transaction_hash(value: object) -> str:
    return hex_id(value, 64, "transaction hash")


def _outcome_index(value: object) -> int | None:
    # The column is a Postgres integer: 2**31 would roll back the whole write batch.
    return None if value is None else whole_number(value, 0, INT32_MAX)


def _payout(value: object) -> int:
    return whole_number(value, 0, FULL_PAYOUT)


ConditionId = Annotated[str, BeforeValidator(_condition_id)]
OutcomeId = Annotated[str, BeforeValidator(_outcome_id)]
Wallet = Annotated[str, BeforeValidator(_wallet)]
TransactionHash = Annotated[str, BeforeValidator(_transaction_hash)]
Price = Annotated[float, BeforeValidator(price)]
Size = Annotated[float, BeforeValidator(size)]
EpochSeconds = Annotated[int, BeforeValidator(epoch_seconds)]
OutcomeIndex = Annotated[int | None, BeforeValidator(_outcome_index)]
Payout = Annotated[int, BeforeValidator(_payout)]
Text = Annotated[str, BeforeValidator(storable_text)]
UNKNOWN_OUTCOME_INDEX = 999  # what the Data API sends when it does not know the outcome
FULL_PAYOUT = 1_000_000  # payouts are millionths of the collateral


class _Upstream(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Trade(_Upstream):
    """One fill as the Data API reports it (v2 names; v1 camelCase accepted through aliases)."""

    proxy_wallet: Wallet = Field(validation_alias=AliasChoices("proxy_wallet", "proxyWallet"))
    side: Literal["BUY", "SELL"]
    token_id: OutcomeId = Field(validation_alias=AliasChoices("token_id", "asset"))
    condition_id: ConditionId = Field(validation_alias=AliasChoices("condition_id", "conditionId"))
    size: Size
    price: Price
    timestamp: EpochSeconds
    transaction_hash: TransactionHash = Field(
        validation_alias=AliasChoices("transaction_hash", "transactionHash")
    )
    outcome: Text | None = None
    outcome_index: OutcomeIndex = Field(
        default=None, validation_alias=AliasChoices("outcome_index", "outcomeIndex")
    )
    title: Text | None = None
    slug: Text | None = None
    event_slug: Text | None = Field(default=None, validation_alias=AliasChoices("event_slug", "eventSlug"))

    @property
    def traded_at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, UTC)

    @property
    def known_outcome_index(self) -> int | None:
        return None if self.outcome_index == UNKNOWN_OUTCOME_INDEX else self.outcome_index


class Pagination(_Upstream):
    limit: int | None = None
    has_more: bool | None = None
    next_cursor: str | None = None


class TradePage(_Upstream):
    data: list[Trade] | None = None
    pagination: Pagination = Field(default_factory=Pagination)

    @property
    def rows(self) -> list[Trade]:
        return self.data or []


class RowsEnvelope(_Upstream):
    """A v2 `{data, pagination}` page whose rows are validated one by one (see resources/rows.py)."""

    data: list[Any] | None = None
    pagination: Pagination = Field(default_factory=Pagination)


class Activity(_Upstream):
    """A row of `/v2/activity`: only what first-activity needs (REDEEM rows have empty side and asset)."""

    proxy_wallet: Wallet = Field(validation_alias=AliasChoices("proxy_wallet", "proxyWallet"))
    timestamp: EpochSeconds
    type: Text


class ActivityPage(_Upstream):
    data: list[Activity] | None = None
    pagination: Pagination = Field(default_factory=Pagination)


class Resolution(_Upstream):
    """A row of `/v2/resolutions`: payouts in millionths, absent or empty while the market is open."""

    condition_id: ConditionId
    status: Text
    payouts: list[Payout] | None = None
    was_disputed: bool = False
    was_arbitrated: bool = False
    extended_review: bool = False
    reporter: Text | None = None
    resolution_source: Text | None = None
    resolved_at: datetime | None = None
    market_type: Text | None = None
