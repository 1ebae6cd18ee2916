from tests.signals_insider.conftest import rows  # noqa: F401  (hand-made warehouse rows)
