"""Pydantic models of the Data API payloads the trade, wallet and resolution assets read.

v2 (`/v2/...`, snake_case, `{data, pagination}`) is the contract; v1 (`/trades`, camelCase bare arrays) is
read only by the off-by-default fallback. Real rows carry `outcome_index: 999` and `event_slug: ""`
(polymarket-api.md L.2, §6.13); unknown fields are ignored so upstream additions never stop ingestion, but a
value of the wrong kind (a price that is not a number, a wallet that is not an address) fails validation
and the page is quarantined.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from pm_assets.markets.identifiers import normalize_condition_id, normalize_outcome_id


def _condition_id(value: object) -> str:
    return normalize_condition_id(value)  # type: ignore[arg-type]


def _outcome_id(value: object) -> str:
    return normalize_outcome_id(value)  # type: ignore[arg-type]


def _wallet(value: object) -> str:
    text = str(value).strip().lower() if isinstance(value, str) else ""
    if len(text) != 42 or not text.startswith("0x") or any(c not in "0123456789abcdef" for c in text[2:]):
        raise ValueError(f"not a 0x + 40 hex wallet address: {value!r}")
    return text


ConditionId = Annotated[str, BeforeValidator(_condition_id)]
OutcomeId = Annotated[str, BeforeValidator(_outcome_id)]
Wallet = Annotated[str, BeforeValidator(_wallet)]
UNKNOWN_OUTCOME_INDEX = 999  # what the Data API sends when it does not know the outcome


class _Upstream(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Trade(_Upstream):
    """One fill as the Data API reports it (v2 names; v1 camelCase accepted through aliases)."""

    proxy_wallet: Wallet = Field(validation_alias=AliasChoices("proxy_wallet", "proxyWallet"))
    side: Literal["BUY", "SELL"]
    token_id: OutcomeId = Field(validation_alias=AliasChoices("token_id", "asset"))
    condition_id: ConditionId = Field(validation_alias=AliasChoices("condition_id", "conditionId"))
    size: float = Field(ge=0)
    price: float = Field(ge=0, le=1)
    timestamp: int = Field(gt=0)
    transaction_hash: str = Field(
        min_length=3, validation_alias=AliasChoices("transaction_hash", "transactionHash")
    )
    outcome: str | None = None
    outcome_index: int | None = Field(
        default=None, validation_alias=AliasChoices("outcome_index", "outcomeIndex")
    )
    title: str | None = None
    slug: str | None = None
    event_slug: str | None = Field(default=None, validation_alias=AliasChoices("event_slug", "eventSlug"))

    @field_validator("timestamp", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> object:
        # Seconds upstream; a millisecond value would silently put the trade 50,000 years out.
        if (
            isinstance(value, (int, float, str))
            and str(value).strip().lstrip("-").replace(".", "", 1).isdigit()
        ):
            number = float(value)
            if number > 10**11:
                raise ValueError(f"timestamp looks like milliseconds, expected seconds: {value!r}")
        return value

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


class Activity(_Upstream):
    """A row of `/v2/activity`: only what first-activity needs (REDEEM rows have empty side and asset)."""

    proxy_wallet: Wallet = Field(validation_alias=AliasChoices("proxy_wallet", "proxyWallet"))
    timestamp: int = Field(gt=0)
    type: str


class ActivityPage(_Upstream):
    data: list[Activity] | None = None
    pagination: Pagination = Field(default_factory=Pagination)


class Resolution(_Upstream):
    """A row of `/v2/resolutions`: payouts in millionths, absent or empty while the market is open."""

    condition_id: ConditionId
    status: str
    payouts: list[int] | None = None
    was_disputed: bool = False
    was_arbitrated: bool = False
    extended_review: bool = False
    reporter: str | None = None
    resolution_source: str | None = None
    resolved_at: datetime | None = None
    market_type: str | None = None


class ResolutionPage(_Upstream):
    data: list[Resolution] | None = None
    pagination: Pagination = Field(default_factory=Pagination)
