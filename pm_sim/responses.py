"""orjson responses and each API's own error shape."""

from __future__ import annotations

import orjson
from starlette.responses import Response


def js(data, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)


def gamma_error(status: int, kind: str, msg: str) -> Response:
    return js({"type": kind, "error": msg}, status)


def clob_error(status: int, msg: str) -> Response:
    return js({"error": msg}, status)


def data_error(status: int, msg: str) -> Response:
    return js({"error": msg}, status)


def v2_error(
    status: int, msg: str, parameter: str, trace: str = "0" * 32, code: str = "invalid_request"
) -> Response:
    return js(
        {"error": msg, "code": code, "parameter": parameter, "retryable": False, "trace_id": trace}, status
    )


def qbool(v: str | None, default: bool | None = None) -> bool | None:
    if v is None or v == "":
        return default
    return v.lower() in ("1", "true", "yes")


def qlist(qp, *names: str) -> list[str]:
    """Repeated keys and comma lists, across aliases."""
    out: list[str] = []
    for n in names:
        vals = qp.getlist(n) if hasattr(qp, "getlist") else ([qp[n]] if qp.get(n) else [])
        for v in vals:
            out.extend(x.strip() for x in v.split(",") if x.strip())
    return out
