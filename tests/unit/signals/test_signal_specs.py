"""Each signal is declared once (pm_assets/signals/specs.py) and wired everywhere that reads signals: alerts,
scorecard, rankings, dashboards, the threshold editor, the backtest, the Dagster asset and its Launchpad config.
That each has a migrated table is checked against Postgres in tests/integration/signals/test_signal_tables.py."""

from __future__ import annotations

import inspect
import typing

import dagster as dg
import pandas as pd
import pytest

from dashboards import threshold_form
from dashboards.signal_types import BY_TABLE as DASHBOARD_TYPES
from pm_assets.signals import backtest, insider_signals, market_signals, scorecard, thresholds
from pm_assets.signals.specs import SIGNALS, TUNABLES
from pm_sensors.alerts.sources import source_for

NO_OVERRIDES = pd.DataFrame(columns=["signal_type", "name", "value", "updated_at", "updated_by"])


def test_specs_name_each_signal_table_type_and_asset_once():
    for attribute in ("signal_type", "table", "asset"):
        values = [getattr(s, attribute) for s in SIGNALS]
        assert len(set(values)) == len(values), attribute
    assert len({t.signal_type for t in TUNABLES}) == len(TUNABLES)
    for spec in SIGNALS:
        assert spec.label and spec.alert_title and spec.time_column and spec.rule is not None, (
            spec.signal_type
        )
        assert spec.direction in ("side", "move", "buy", "none"), spec.signal_type


@pytest.mark.parametrize("spec", SIGNALS, ids=lambda s: s.signal_type)
def test_every_signal_is_alertable_scored_ranked_and_shown(spec):
    source = source_for(spec.signal_type)
    assert source is not None and source.table == spec.table
    assert source.upstream_column == spec.time_column
    assert dict(source.aliases) == dict(spec.aliases)
    assert scorecard.signal_tables()[spec.table] == (spec.time_column, spec.direction)
    shown = DASHBOARD_TYPES[spec.table]
    assert (shown.label, shown.time_column) == (spec.label, spec.time_column)
    assert (shown.has_token, shown.has_wallet, shown.has_event) == (
        spec.has_token,
        spec.has_wallet,
        spec.has_event,
    )
    assert (spec.signal_type in backtest.backtest_types()) == spec.backtest
    if spec.backtest:
        assert spec.signal_type in backtest.EVALUATORS


@pytest.mark.parametrize("tunable", TUNABLES, ids=lambda t: t.signal_type)
def test_every_threshold_is_in_the_editor_and_the_launchpad_with_its_meaning_and_range(tunable):
    from pm_assets.definitions import defs

    editor = threshold_form.catalogue_frame(NO_OVERRIDES)
    declared = thresholds.catalogue()[tunable.signal_type]
    shown = editor[editor["signal"] == tunable.signal_type].set_index("threshold")
    assert set(shown.index) == set(declared)
    fields = defs.resolve_assets_def(tunable.asset).op.config_schema.config_type.fields
    for name, t in declared.items():
        assert shown.loc[name, "meaning"] == t.doc
        field = fields[name]
        assert not field.is_required, f"{name}: empty must mean the saved value"
        assert t.doc.rstrip(".") in field.description and f"Default {t.default}" in field.description
        if t.kind is not bool:
            assert f"range {t.minimum:g} … {t.maximum:g}" in field.description
            assert str(t.maximum) in shown.loc[name, "range"], "the editor shows the range"
    assert "what_if" in fields and "signal_what_if" in fields["what_if"].description


@pytest.mark.parametrize("spec", SIGNALS, ids=lambda s: s.signal_type)
def test_every_signal_is_evaluated_by_its_asset_and_the_live_run_through_one_function(spec, monkeypatch):
    """Insider and market signals share one shape: the signal module's `evaluate(log, warehouse, config)` is the
    entry the live run walks (the live pass for insider signals, the periodic task for market signals) and what
    its Dagster asset runs, with the config the asset was given in the Launchpad."""
    from pm_assets.definitions import defs
    from pm_assets.resources.warehouse import WarehouseResource

    live = {
        name: (evaluate, config)
        for name, evaluate, config in (*insider_signals.EVALUATORS, *market_signals.EVALUATORS)
    }
    assert spec.asset in live, f"{spec.asset}: no live evaluation walks it"
    evaluate, config_class = live[spec.asset]
    module = inspect.getmodule(spec.rule)
    assert evaluate is getattr(module, "evaluate", None), (
        f"{spec.asset}: the live run skips its module's evaluate"
    )

    asset = defs.resolve_assets_def(spec.asset)
    assert typing.get_type_hints(asset.op.compute_fn.decorated_fn)["config"] is config_class
    seen: list = []
    monkeypatch.setattr(module, "evaluate", lambda log, warehouse, config, **_: seen.append(config) or PROBE)
    given = config_class(what_if=True)
    result = asset(
        context=dg.build_asset_context(),
        config=given,
        warehouse=WarehouseResource(database_url=UNREACHABLE_DB),
    )
    assert seen == [given] and result is PROBE, f"{spec.asset}: the asset does not run its module's evaluate"


PROBE = dg.MaterializeResult(metadata={"probe": 1})
# Loopback, closed port: an asset that skips its module's evaluate fails on connect, and nothing leaves the host.
UNREACHABLE_DB = "postgresql://pm:pm@127.0.0.1:1/none"
