"""Hostile input for the webhook target validator and the rule-filter validator (hypothesis).

Properties: nothing but the validation error escapes; what is accepted is what the policy allows (https,
port 443, every resolved address public, unless private targets are allowed), can be posted to without
httpx refusing it, and stores as strict JSON; no secret reaches an error message or a log line.
CI cost: FUZZ_EXAMPLES examples per property (5 properties), no deadline (nothing here is timed).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import socket
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboards.rule_form import RuleError, rule_params
from pm_assets.storage.urls import mask_secrets, mask_webhook_url
from pm_sensors.alerts.filters import AlertFilterError, validate_filters
from pm_sensors.alerts.sources import SOURCES, signal_types
from pm_sensors.alerts.targets import WebhookTargetError, address_problem, check_webhook_target

FUZZ_EXAMPLES = 200
SECRET = "S3CRETtok"
fuzz = settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CONTROL = st.sampled_from(
    ["\x00", "\x01", "\t", "\n", "\r", "\x7f", "\u200b", "\u2028", "\ufeff", " ", "\u00a0"]
)
HOST_TEXT = st.text(
    alphabet=st.one_of(st.sampled_from("abcxyz019.-_[]:@%/\\?#"), st.characters(codec="utf-8"), CONTROL),
    max_size=40,
)
HOSTS = st.one_of(
    st.sampled_from(
        ["hooks.slack.com", "straße.example", "xn--strae-oqa.example", "localhost", "0x7f.1", "2130706433"]
    ),
    HOST_TEXT,
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    st.ip_addresses(v=6).map(str),  # unbracketed: not a valid URL host
    st.integers(63, 70_000).map(lambda n: "a" * n),
    st.sampled_from(
        ["[fec0::1]", "[::ffff:127.0.0.1]", "[64:ff9b::a9fe:a9fe]", "[2002:7f00:1::]", "[fe80::1%25eth0]"]
    ),
)
PORTS = st.one_of(
    st.none(),
    st.integers(-5, 70_000).map(str),
    st.sampled_from(["443", "0443", "", "80", "8443", "+443", "4 43", "١٢٣"]),
)
RESOLVED = st.one_of(
    st.ip_addresses().map(str),
    st.sampled_from(
        ["127.0.0.1", "10.0.0.1", "fec0::5", "::ffff:10.0.0.1", "93.184.216.34", "2600::1", "bogus", ""]
    ),
)
ANSWERS = st.one_of(st.lists(RESOLVED, max_size=4), st.just(OSError("Name or service not known")))


@st.composite
def urls(draw) -> str:
    if draw(st.booleans()):
        return draw(st.text(max_size=120))
    scheme = draw(st.sampled_from(["https", "http", "HTTPS", "ftp", "javascript", "", "https:"]))
    userinfo = draw(st.sampled_from(["", "u:pw@", f"x:{SECRET}@", "@"]))
    host = draw(HOSTS)
    port = draw(PORTS)
    path = draw(
        st.sampled_from(["", "/", f"/services/T0/B0/{SECRET}", f"/a?token={SECRET}", f"/{SECRET}#frag"])
    )
    noise = draw(st.one_of(st.just(""), CONTROL, st.text(max_size=5)))
    return f"{scheme}://{userinfo}{host}{'' if port is None else ':' + port}{path}{noise}"


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _captured() -> Captured:
    handler = Captured()
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    return handler


@fuzz
@given(url=urls(), answers=ANSWERS, allow_private=st.booleans())
def test_the_target_validator_raises_only_its_own_error_and_accepts_only_what_the_policy_allows(
    url, answers, allow_private
):
    def resolver(host, port):
        if isinstance(answers, Exception):
            raise answers
        return answers

    logs = _captured()
    try:
        target = check_webhook_target(url, allow_private=allow_private, resolver=resolver)
    except WebhookTargetError as exc:
        assert SECRET not in str(exc)
    else:
        assert target.addresses, "an accepted target has somewhere to connect"
        for address in target.addresses:
            target.url_for(address)  # httpx accepts every URL a post will use
        if not allow_private:
            assert target.parsed.scheme == "https" and target.port == 443
            assert all(address_problem(ipaddress.ip_address(a)) is None for a in target.addresses)
        assert SECRET not in target.masked
    finally:
        logging.getLogger().removeHandler(logs)
    assert not any(SECRET in line for line in logs.lines)


@fuzz
@given(text=st.one_of(urls(), st.text(max_size=300)))
def test_masking_never_raises_and_never_shows_a_path_token_or_password(text):
    assert SECRET not in mask_webhook_url(text)
    masked = mask_secrets(f"error posting to {text} with password={SECRET}")
    assert f"password={SECRET}" not in masked
    if text.lower().startswith(("http://", "https://")) and not any(c.isspace() for c in text):
        assert SECRET not in masked


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
FILTER_KEYS = st.one_of(
    st.sampled_from(
        ["min_usdc", "max_usdc", "min_edge", "min_move_points", "condition_ids", "summary_contains"]
    ),
    st.text(max_size=20).map(lambda t: "min_" + t),
    st.text(max_size=20),
)
COLUMNS = {source.signal_type: {"usdc_size", "peak_edge", "move_points", "risk_score"} for source in SOURCES}


@fuzz
@given(
    signal_type=st.sampled_from([*signal_types(), "nonsense"]),
    filters=st.one_of(st.dictionaries(FILTER_KEYS, JSON_VALUES, max_size=5), JSON_VALUES),
    with_columns=st.booleans(),
)
def test_the_filter_validator_raises_only_its_own_error_and_never_passes_a_non_finite_number(
    signal_type, filters, with_columns
):
    columns = COLUMNS.get(signal_type, set()) if with_columns else None
    try:
        clean = validate_filters(signal_type, filters, columns)
    except AlertFilterError:
        return
    json.dumps(clean, allow_nan=False)  # what Postgres receives is strict JSON
    for key, value in clean.items():
        if key.startswith(("min_", "max_")):
            assert isinstance(value, float) and math.isfinite(value)


@fuzz
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.dictionaries(FILTER_KEYS, JSON_VALUES, max_size=4).map(lambda d: json.dumps(d, allow_nan=True)),
        st.sampled_from(['{"min_usdc": NaN}', '{"min_usdc": -Infinity}', '{"min_usdc": 1e999}', "[" * 5000]),
    )
)
def test_the_rule_form_refuses_bad_filters_with_a_rule_error_only(text):
    try:
        params = rule_params(
            rule_id=1,
            name="r",
            signal_type="fresh_wallet",
            destination_kind="json",
            webhook_url="",
            filters=text,
            daily_budget=0,
            enabled=True,
            numeric_columns={"usdc_size", "risk_score"},
        )
    except RuleError as exc:
        assert len(str(exc)) < 1000
        return
    stored = json.loads(params["filters"])
    assert all(not isinstance(v, float) or math.isfinite(v) for v in stored.values())


_REAL_GETADDRINFO = socket.getaddrinfo


def _numeric_only_getaddrinfo(host, port, *args, **kwargs):
    """Addresses written as numbers resolve as the system would; no name ever reaches a DNS server."""
    return _REAL_GETADDRINFO(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)


@fuzz
@given(url=urls())
def test_the_rule_form_refuses_bad_webhooks_with_its_errors_only(url):
    try:
        with mock.patch("socket.getaddrinfo", _numeric_only_getaddrinfo):
            rule_params(
                rule_id=None,
                name="r",
                signal_type="fresh_wallet",
                destination_kind="json",
                webhook_url=url,
                filters="{}",
                daily_budget=0,
                enabled=True,
            )
    except (RuleError, WebhookTargetError) as exc:
        assert SECRET not in str(exc)
