"""Hand-made warehouse rows (wallets, markets, fills) in a warehouse of each test's own."""

from tests.support.insider import rows  # noqa: F401  (fixture, shared with the watchlist tests)
