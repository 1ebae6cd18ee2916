"""The package layers hold: definitions may import libraries; libraries never import definitions.

A module is a *definitions* module by what it contains (a Dagster asset, check, sensor, schedule, op, job or
Definitions, or a registry assembling them), not by where it lives; every other module is a *library*. The walk
reads every import, including those inside function bodies, so a deferred import cannot hide a cycle. One layer
sits above definitions: *app* modules (the `pm-intel` command, APP_PACKAGES below); nothing below them may import
them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("pm_assets", "pm_sensors", "dashboards", "pm_sim")

# Decorators and constructors that create a Dagster definition (called as `dg.x`, `dagster.x` or bare `x`).
DEFINITION_DECORATORS = {
    "asset",
    "multi_asset",
    "graph_asset",
    "graph_multi_asset",
    "asset_check",
    "multi_asset_check",
    "observable_source_asset",
    "sensor",
    "asset_sensor",
    "multi_asset_sensor",
    "run_status_sensor",
    "run_failure_sensor",
    "schedule",
    "op",
    "graph",
    "job",
}
DEFINITION_CONSTRUCTORS = {
    "define_asset_job",
    "build_schedule_from_partitioned_job",
    "ScheduleDefinition",
    "SensorDefinition",
    "AssetSpec",
    "AssetChecksDefinition",
    "Definitions",
}
DEFINITION_MARKS = {f"@{d}" for d in DEFINITION_DECORATORS} | {f"{c}(...)" for c in DEFINITION_CONSTRUCTORS}
# Where each kind of definition lives (README's package map): pm_assets holds assets and asset checks,
# pm_sensors the jobs (and their ops), schedules and sensors; only pm_assets/definitions.py builds Definitions.
ASSET_KINDS = {
    "@asset",
    "@multi_asset",
    "@graph_asset",
    "@graph_multi_asset",
    "@asset_check",
    "@multi_asset_check",
    "@observable_source_asset",
    "AssetSpec(...)",
    "AssetChecksDefinition(...)",
}
PLACES = {"pm_assets": ASSET_KINDS, "pm_sensors": DEFINITION_MARKS - ASSET_KINDS - {"Definitions(...)"}}

# The modules that assemble definitions from the domains (they hold none of their own).
REGISTRIES = {"pm_assets.definitions"}

# The app layer, above definitions: the `pm-intel` command. Its modules may import definitions (the replay
# runner materializes the production assets in-process, so a replay exercises the real code); nothing else
# imports them. One package, so the layer is visible in the tree.
APP_PACKAGES = ("pm_assets.cli",)


@dataclass(frozen=True)
class ImportEdge:
    importer: str
    imported: str
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()
TREES = {name: ast.parse(path.read_text(), filename=str(path)) for name, path in MODULES.items()}


def _callee_name(node: ast.expr) -> str | None:
    """`dg.asset(...)`, `asset(...)`, `dg.asset` and `asset` all name `asset`."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def definition_marks(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, what) of each Dagster definition the module creates, anywhere in it (factories included)."""
    marks = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for deco in node.decorator_list:
                if _callee_name(deco) in DEFINITION_DECORATORS:
                    marks.append((deco.lineno, f"@{_callee_name(deco)}"))
        elif isinstance(node, ast.Call) and _callee_name(node) in DEFINITION_CONSTRUCTORS:
            marks.append((node.lineno, f"{_callee_name(node)}(...)"))
    return marks


def is_definitions(name: str) -> bool:
    return name in REGISTRIES or name.endswith(".registry") or bool(definition_marks(TREES[name]))


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = MODULES[importer].name == "__init__.py"
    base = importer.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def project_imports(importer: str) -> list[ImportEdge]:
    """Every import of a project module by `importer`, at any depth; `from pkg import mod` names `pkg.mod`."""
    edges = []
    for node in ast.walk(TREES[importer]):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(importer, node)
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source
                for alias in node.names
            ]
        else:
            continue
        edges += [ImportEdge(importer, t, node.lineno) for t in dict.fromkeys(targets) if t in MODULES]
    return edges


def is_app(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in APP_PACKAGES)


def layer(name: str) -> str:
    if is_app(name):
        return "app"
    return "definitions" if is_definitions(name) else "library"


def _describe(edges: list[ImportEdge], why: str) -> str:
    return f"{len(edges)} import(s) {why}:\n" + "\n".join(
        f"  {MODULES[e.importer].relative_to(ROOT)}:{e.line}: {e.importer} imports {e.imported} ({layer(e.imported)})"
        for e in edges
    )


def test_libraries_never_import_definitions_or_apps():
    wrong = [
        edge
        for name in MODULES
        if layer(name) == "library"
        for edge in project_imports(name)
        if layer(edge.imported) != "library"
    ]
    assert not wrong, _describe(
        wrong, "from a library into definitions (move the code it needs into a library)"
    )


def test_definitions_never_import_apps():
    wrong = [
        edge
        for name in MODULES
        if layer(name) == "definitions"
        for edge in project_imports(name)
        if layer(edge.imported) == "app"
    ]
    assert not wrong, _describe(wrong, "from definitions into an app")


def test_the_app_layer_holds_no_definitions():
    """An app runs definitions; one that creates them would hide them from pm_assets/definitions.py."""
    apps = [name for name in MODULES if is_app(name)]
    assert apps, f"no module under {APP_PACKAGES}"
    made = {name: definition_marks(TREES[name]) for name in apps if definition_marks(TREES[name])}
    assert not made, f"app modules create definitions: {made}"


def test_each_kind_of_definition_lives_in_its_package():
    """Assets and checks in pm_assets, jobs, schedules and sensors in pm_sensors, nothing in dashboards or pm_sim."""
    misplaced = []
    for name, tree in TREES.items():
        allowed = PLACES.get(name.split(".")[0], set()) | (
            {"Definitions(...)"} if name in REGISTRIES else set()
        )
        misplaced += [
            f"  {MODULES[name].relative_to(ROOT)}:{line}: {what}"
            for line, what in definition_marks(tree)
            if what not in allowed
        ]
    assert not misplaced, "definitions outside their package (see README, Where things live):\n" + "\n".join(
        misplaced
    )


def test_dashboards_never_import_dagster():
    """The dashboards read the warehouse; they never load Dagster (STYLE.md)."""
    wrong = []
    for name, tree in TREES.items():
        if not name.startswith("dashboards"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            if any(r.startswith("dagster") for r in roots):
                wrong.append(f"  {MODULES[name].relative_to(ROOT)}:{node.lineno}")
    assert not wrong, "the dashboards import Dagster:\n" + "\n".join(wrong)


def test_the_classifier_sees_definitions_where_they_are():
    """A guard on the guard: if the markers stopped matching, every module would pass as a library."""
    assert is_definitions("pm_assets.trades.assets")
    assert is_definitions("pm_sensors.stream.supervisor")
    assert is_definitions("pm_assets.definitions")
    assert not is_definitions("pm_assets.trades.fill_key")
    assert not is_definitions("pm_sensors.alerts.delivery")
