"""API bearer tokens: created once and shown once, stored only as their SHA-256 (migration 0011)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import psycopg

TOKEN_PREFIX = "pmi_"
PREFIX_SHOWN = 10  # "pmi_" and 6 characters: enough to tell tokens apart in a list, useless to an attacker


@dataclass(frozen=True)
class TokenRow:
    token_id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(conn: psycopg.Connection, name: str) -> tuple[int, str]:
    """(token_id, the token in clear): the caller shows it once; only its hash is stored."""
    token = new_token()
    row = conn.execute(
        "insert into api_tokens (name, prefix, token_hash) values (%s, %s, %s) returning token_id",
        (name, token[:PREFIX_SHOWN], token_hash(token)),
    ).fetchone()
    assert row is not None
    return int(row[0]), token


def list_tokens(conn: psycopg.Connection) -> list[TokenRow]:
    rows = conn.execute(
        "select token_id, name, prefix, created_at, revoked_at from api_tokens order by token_id"
    ).fetchall()
    return [TokenRow(*r) for r in rows]


def revoke_token(conn: psycopg.Connection, token_id: int) -> bool:
    cur = conn.execute(
        "update api_tokens set revoked_at = now() where token_id = %s and revoked_at is null", (token_id,)
    )
    return cur.rowcount == 1


def token_is_valid(conn: psycopg.Connection, token: str) -> bool:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return False
    row = conn.execute(
        "select 1 from api_tokens where token_hash = %s and revoked_at is null", (token_hash(token),)
    ).fetchone()
    return row is not None
