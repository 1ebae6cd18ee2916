from tests.support.insider import rows  # noqa: F401  (hand-made warehouse rows)
