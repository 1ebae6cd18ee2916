from pm_assets.storage.urls import dagster_storage_url, mask_secrets, mask_url, warehouse_url


def test_mask_url_hides_password_only():
    assert (
        mask_url("postgresql://alice:s3cr%40t@db.example:5432/pm")
        == "postgresql://alice:***@db.example:5432/pm"
    )
    assert (
        mask_url("postgresql://postgres:@/pm_intel?host=/tmp/x")
        == "postgresql://postgres:@/pm_intel?host=/tmp/x"
    )
    assert mask_url(None) == "<unset>"


def test_mask_secrets_in_free_text():
    text = 'connection to "postgresql+psycopg://u:hunter2@h/db" failed; retry https://x:tok@hooks.example/a'
    masked = mask_secrets(text)
    assert "hunter2" not in masked and "tok@" not in masked
    assert "u:***@h/db" in masked


def test_driver_urls_keep_server_and_database():
    url = "postgresql://u:p@h:5433/pm"
    assert warehouse_url(url) == "postgresql+psycopg://u:p@h:5433/pm"
    assert dagster_storage_url(url) == "postgresql+psycopg2://u:p@h:5433/pm"
