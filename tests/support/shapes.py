"""Compare JSON payloads by shape: same keys, same JSON types, field by field (recursively)."""

from __future__ import annotations

import json

from tests.conftest import FIXTURES_DIR

FIXTURES = FIXTURES_DIR


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def jtype(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def shape_diff(
    ref, got, path: str = "$", subset: bool = False, optional: frozenset = frozenset()
) -> list[str]:
    """Differences of `got` against `ref`. subset=True: only ref's keys must be present (docs examples)."""
    out: list[str] = []
    if jtype(ref) != jtype(got):
        return [f"{path}: type {jtype(got)} != {jtype(ref)}"]
    if isinstance(ref, dict):
        for k in ref:
            if k not in got:
                if k not in optional:
                    out.append(f"{path}.{k}: missing")
                continue
            out += shape_diff(ref[k], got[k], f"{path}.{k}", subset, optional)
        if not subset:
            out += [f"{path}.{k}: extra" for k in got if k not in ref and k not in optional]
    elif isinstance(ref, list) and ref and got:
        for g in got:
            out += shape_diff(ref[0], g, f"{path}[]", subset, optional)
    return out
