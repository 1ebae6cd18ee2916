class CliError(RuntimeError):
    """An error whose message is meant for the user as it is (no traceback)."""
