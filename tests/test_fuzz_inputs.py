"""Fuzzing the data a user hands us (issue 10): states, histories, configs, and the kept corpus.

Hypothesis properties: a mutated or generated state JSON is a ``State`` or a
:class:`~alvh_dsl.errors.StateError` of E504s; a mutated small history CSV is a
``History`` or a :class:`~alvh_dsl.errors.DataError` of E601s; a generated config
TOML is a ``DryRunConfig`` or a :class:`~alvh_dsl.errors.ConfigError` of E602s. Never
another exception. (Books are fuzzed in ``tests/test_properties.py``.)

``test_corpus_file`` is the bounded fuzz run CI does: every file under
``tests/fuzz_corpus/`` (inputs the campaign found, or that reach many branches) goes
through the campaign's own entry points. The long run is
``python benchmarks/fuzz_campaign.py`` (see docs/robustness.md).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from alvh_dsl.dryrun.config import DryRunConfig, load_config
from alvh_dsl.errors import ConfigError, DataError, StateError
from alvh_dsl.lang.state import State, parse_state
from alvh_dsl.market.history import History, load_history

from .conftest import ROOT

_spec = importlib.util.spec_from_file_location(
    "fuzz_campaign", ROOT / "benchmarks" / "fuzz_campaign.py"
)
assert _spec is not None and _spec.loader is not None
campaign = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_campaign"] = campaign
_spec.loader.exec_module(campaign)

CORPUS = ROOT / "tests" / "fuzz_corpus"
EXAMPLE_STATE = json.loads((ROOT / "examples" / "state_near_expiry.json").read_text())

# ------------------------------------------------------------------ states

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "2024-01-02", "2199-12-31", "1899-12-31", "0001-01-01", "x", "1e3"]),
    st.text(max_size=8),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value (the value itself included)."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


STATE_PATHS = _paths(EXAMPLE_STATE)[1:]


@st.composite
def mutated_state(draw: Any) -> str:
    """The example state with a few values replaced or keys removed, as JSON text."""
    data = json.loads(json.dumps(EXAMPLE_STATE))
    for path in draw(st.lists(st.sampled_from(STATE_PATHS), min_size=1, max_size=3)):
        parent: Any = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced the way there
    return json.dumps(data)


def assert_state_or_e504(text: str) -> None:
    try:
        assert isinstance(parse_state(text), State)
    except StateError as exc:
        assert {d.code for d in exc.diagnostics} == {"E504"}


@settings(max_examples=150)
@given(mutated_state())
def test_a_mutated_state_is_a_state_or_e504(text: str) -> None:
    assert_state_or_e504(text)


@settings(max_examples=100)
@given(st.one_of(JSON_VALUES.map(json.dumps), st.text(max_size=40)))
@example('{"date": "2024-01-02", "date": "2024-01-03"}')
@example("[" * 5000)
def test_generated_json_is_a_state_or_e504(text: str) -> None:
    assert_state_or_e504(text)


# -------------------------------------------------------------- histories

CELLS = st.one_of(
    st.sampled_from(["", "nan", "NA", "-1", "0", "1e308", "inf", "15", "3000.5", '"', "x"]),
    st.floats(-1e6, 1e6, allow_nan=False).map(str),
)
DATES = st.one_of(
    st.dates().map(str),
    st.sampled_from(["-1020-01-03", "2020-02-30", "01/02/2020", "20200102", "", "2020-1-2"]),
)
HEADERS = st.sampled_from(
    ["date,spx,vix", "date,spx,vix,vx1,vx1_expiry", "Date,SPX,VIX", "date,spx,spx,vix", "date,vix"]
)


@st.composite
def history_csv(draw: Any) -> str:
    """A small CSV: a header from the format's names, and rows of hostile dates and cells."""
    header = draw(HEADERS)
    width = header.count(",")
    rows = draw(
        st.lists(
            st.tuples(DATES, st.lists(CELLS, min_size=width - 1, max_size=width + 1)),
            max_size=5,
        )
    )
    return "\n".join([header, *(",".join([d, *cells]) for d, cells in rows)]) + "\n"


@settings(max_examples=60)
@given(text=history_csv())
@example(text="date,spx,vix\n2020-01-02,3000,15\n-1020-01-03,3010,14.5\n")  # a year before 1
def test_a_history_csv_is_a_history_or_e601(
    text: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("history") / "h.csv"
    path.write_text(text)
    try:
        assert isinstance(load_history(path), History)
    except DataError as exc:
        assert {d.code for d in exc.diagnostics} == {"E601"}


def test_a_negative_year_is_e601_at_its_row(tmp_path: Path) -> None:
    """Found by the campaign: a date before year 1 raised pandas' NotImplementedError."""
    path = tmp_path / "h.csv"
    path.write_text("date,spx,vix\n2020-01-02,3000,15\n-1020-01-03,3010,14.5\n")
    with pytest.raises(DataError) as info:
        load_history(path)
    assert "h.csv:3:date: E601 date -1020-01-03 is outside" in str(info.value)


# ----------------------------------------------------------------- configs

CONFIG_KEYS = {
    "": ["starting_equity", "bogus"],
    "costs": ["spx_option_slippage", "vix_future_commission"],
    "pricing": ["rate", "skew", "strike_grid", "vix_option_vol"],
    "term_structure": ["long_run", "kappa"],
    "risk": ["scenario_moves", "headline_move", "bootstrap_resamples", "grid_low", "grid_step"],
}
TOML_VALUES = st.one_of(
    st.sampled_from(["0", "-1", "1e400", "nan", "inf", "-inf", "true", '"x"', "[]", "{}"]),
    st.sampled_from(["2022-01-03", "[0.1, nan]", "[1, 'a']", "0.5", "10", "99999999999999999999"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(2**70), 2**70).map(str),
)


@st.composite
def config_toml(draw: Any) -> str:
    """A TOML config with a few known (and unknown) keys set to hostile values."""
    lines = []
    for section in draw(st.lists(st.sampled_from(sorted(CONFIG_KEYS)), unique=True, max_size=4)):
        if section:
            lines.append(f"[{section}]")
        for key in draw(st.lists(st.sampled_from(CONFIG_KEYS[section]), max_size=3)):
            lines.append(f"{key} = {draw(TOML_VALUES)}")
    if draw(st.booleans()):
        lines.append(
            f'[[stress_windows]]\nname = "w"\nstart = {draw(DATES) or 0}\nend = 2022-10-12'
        )
    return "\n".join(lines) + "\n"


@settings(max_examples=100)
@given(text=config_toml())
def test_a_config_is_a_config_or_e602(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("config") / "c.toml"
    path.write_text(text)
    try:
        assert isinstance(load_config(path), DryRunConfig)
    except ConfigError as exc:
        assert {d.code for d in exc.diagnostics} == {"E602"}


# ------------------------------------------------------------ the corpus


def test_the_corpus_is_small_and_named_by_kind() -> None:
    files = sorted(CORPUS.iterdir())
    assert 0 < len(files) <= 50
    assert sum(f.stat().st_size for f in files) <= 200_000
    for f in files:
        kind = f.name.split("-")[0]
        assert kind in campaign.KINDS and f.suffix == campaign.SUFFIX[kind], f.name


@pytest.mark.parametrize("path", sorted(CORPUS.iterdir()), ids=lambda p: p.name)
def test_corpus_file(path: Path, tmp_path: Path) -> None:
    """Accepted or refused with an AlvhError, never another exception, and quickly."""
    start = time.perf_counter()
    with campaign.watched(20):
        outcome = campaign.run_input(path.name.split("-")[0], path.read_bytes(), tmp_path)
    assert outcome in ("accepted", "refused")
    assert time.perf_counter() - start < 5  # 1 s in the campaign; slack for a loaded CI box


def test_run_input_lets_a_foreign_exception_through(tmp_path: Path) -> None:
    """The corpus test can fail: anything but an AlvhError escapes run_input."""
    original = campaign.ENTRY["state"]
    campaign.ENTRY["state"] = lambda data, workdir: 1 / 0
    try:
        with pytest.raises(ZeroDivisionError):
            campaign.run_input("state", b"{}", tmp_path)
    finally:
        campaign.ENTRY["state"] = original
