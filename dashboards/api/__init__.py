"""pm-intel's read-only HTTP API (FastAPI): signals, markets, wallets, alert deliveries and the scorecard as JSON,
exports as CSV and Parquet. It reads the warehouse as pm_intel_reader, like the dashboards; `create_app` builds it.
"""
