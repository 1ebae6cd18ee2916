"""The dashboards' rollups (`market_volume_daily`, `wallet_positions`), brought up to date by the warehouse function
`pm_refresh_dashboard_rollups()` (migration 0008). The `dashboard_rollups` asset and the live run call it."""

from sqlalchemy import text

from pm_assets.resources.warehouse import WarehouseResource


def refresh_dashboard_rollups(warehouse: WarehouseResource) -> dict[str, int]:
    """Rows upserted per rollup table (`market_volume_daily`, `wallet_positions`)."""
    with warehouse.engine().begin() as conn:
        rows = dict(conn.execute(text("select rollup, pairs from pm_refresh_dashboard_rollups()")).all())
    return {key: int(rows.get(key, 0)) for key in ("market_volume_daily", "wallet_positions")}
