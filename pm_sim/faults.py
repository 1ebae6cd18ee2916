"""Switchable faults (CLI `--faults name[=param],...` or POST /admin/faults).

HTTP: rate_storm (429 + Retry-After), 5xx, slow=<s>, hang, truncate, malformed, drift, cloudflare
(each takes a probability, default 1); only=<path prefix> limits them to one API.
WS: ws_drop=<s>, ws_stall=<s>[, ws_stall_pong], ws_dup=<p>, ws_reorder=<p>.
Feeds: feed_cap=<rows> (unfiltered /v2/trades stops paging that deep), data_v1_off.
"""

from __future__ import annotations

import threading

from .rng import u01

HTTP_FAULTS = ("rate_storm", "5xx", "slow", "hang", "truncate", "malformed", "drift", "cloudflare")
KNOWN = HTTP_FAULTS + (
    "only",
    "ws_drop",
    "ws_stall",
    "ws_stall_pong",
    "ws_dup",
    "ws_reorder",
    "feed_cap",
    "data_v1_off",
    "retry_after",
)


class Faults:
    def __init__(self) -> None:
        self.active: dict[str, object] = {}
        self._n = 0
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str | dict | None) -> Faults:
        f = cls()
        f.update(spec)
        return f

    def update(self, spec: str | dict | None) -> None:
        if not spec:
            return
        if isinstance(spec, dict):
            for k, v in spec.items():
                self.set(k, v)
            return
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            name, _, val = part.partition("=")
            self.set(name.strip(), _coerce(val.strip()) if val else True)

    def set(self, name: str, value: object) -> None:
        if name not in KNOWN:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(KNOWN)}")
        if value is False or value is None:
            self.active.pop(name, None)
        else:
            self.active[name] = value

    def clear(self) -> None:
        self.active.clear()

    def get(self, name: str, default=None):
        return self.active.get(name, default)

    def on(self, name: str) -> bool:
        return name in self.active

    def fires(self, name: str, path: str = "") -> bool:
        """Does fault `name` hit this request? Probability = its value (True = always)."""
        if name not in self.active:
            return False
        only = self.active.get("only")
        if only and not path.startswith(str(only)):
            return False
        v = self.active[name]
        p = 1.0 if v is True else float(v)
        if name == "slow":
            return True
        with self._lock:
            self._n += 1
            n = self._n
        return u01(4242, n) < p

    def describe(self) -> dict:
        return dict(self.active)


def _coerce(v: str):
    try:
        return int(v)
    except ValueError:
        pass
    try:
        return float(v)
    except ValueError:
        return v
