"""`pm-intel api token create|list|revoke`: the read-only API's bearer tokens (README, "The API").

Tokens are written as the migrating user (the API itself only reads them, as pm_intel_reader). A new token is
printed once, on stdout alone, so `TOKEN=$(pm-intel api token create --name ci)` works; only its hash is kept.
"""

from __future__ import annotations

import argparse

import psycopg

from pm_assets.cli.db import prepare_databases
from pm_assets.cli.errors import CliError
from pm_assets.storage.urls import libpq_url


def add_parser(sub: argparse._SubParsersAction) -> None:
    api = sub.add_parser("api", help="the read-only HTTP API: bearer tokens")
    api_sub = api.add_subparsers(dest="api_command", required=True)
    token = api_sub.add_parser("token", help="create, list or revoke API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token and print it once (only its hash is stored)")
    create.add_argument("--name", default="api", help="a name to tell tokens apart (default: api)")
    token_sub.add_parser("list", help="id, name, first characters, created and revoked times")
    revoke = token_sub.add_parser("revoke", help="revoke a token by id (from `list`)")
    revoke.add_argument("token_id", type=int)


def run_api(args: argparse.Namespace) -> int:
    from dashboards.api import tokens

    name = getattr(args, "name", "api").strip()
    if args.token_command == "create" and not name:
        raise CliError("--name must not be empty")
    urls = prepare_databases()
    with psycopg.connect(libpq_url(urls.warehouse), autocommit=True) as conn:
        if args.token_command == "create":
            token_id, token = tokens.create_token(conn, name)
            print(token)
            import sys

            print(
                f"created API token {token_id} ({name!r}); it is shown only now. "
                "Send it as `Authorization: Bearer <token>`.",
                file=sys.stderr,
            )
            return 0
        if args.token_command == "list":
            rows = tokens.list_tokens(conn)
            if not rows:
                print("no API tokens; create one with `pm-intel api token create --name NAME`")
            for row in rows:
                state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
                print(
                    f"{row.token_id:>4}  {row.prefix}…  {row.name}  created {row.created_at:%Y-%m-%d %H:%M}  {state}"
                )
            return 0
        if args.token_command == "revoke":
            if not tokens.revoke_token(conn, args.token_id):
                raise CliError(f"no active API token with id {args.token_id} (see `pm-intel api token list`)")
            print(f"revoked API token {args.token_id}")
            return 0
    return 0
