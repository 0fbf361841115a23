"""Every key of summary.json and every daily.parquet column is documented in docs/dryrun.md."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from alvh_dsl import api

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "dryrun.md").read_text(encoding="utf-8")
DOCUMENTED = set(re.findall(r"`([a-z_0-9]+)", DOC))


@pytest.fixture(scope="module")
def result() -> Any:
    return api.dryrun(ROOT / "rulebooks" / "alvh_core.alvh", start="2008-01-01", end="2009-06-30")


def _keys(value: Any, skip: frozenset[str] = frozenset()) -> set[str]:
    """Every dict key at any depth (rule IDs and the like under ``skip`` left out)."""
    out: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in skip:
                out.add(key)
                continue
            out.add(key)
            out |= _keys(inner, skip)
    elif isinstance(value, list):
        for inner in value:
            out |= _keys(inner, skip)
    return out


def test_every_summary_key_is_documented(result: Any) -> None:
    keys = _keys(result.summary, skip=frozenset({"rules_fired"}))
    assert {"comparison", "scenario", "hedge_cost", "calibration", "stress_windows"} <= keys
    missing = sorted(k for k in keys if k not in DOCUMENTED)
    assert missing == []


def test_every_daily_column_is_documented(result: Any) -> None:
    columns = set(result.run.daily_rows[0])
    # Families documented by their pattern: scen_<dn|up><pct>[_after], hedge_notional_m<k>.
    patterned = {c for c in columns if re.fullmatch(r"scen_(dn|up)[0-9.]+(_after)?", c)}
    patterned |= {c for c in columns if re.fullmatch(r"hedge_notional_m[1-9]", c)}
    assert "`scen_dn10`" in DOC and "`hedge_notional_m1`" in DOC
    plain = {c.removesuffix("_after") for c in columns - patterned}
    assert sorted(c for c in plain if c not in DOCUMENTED) == []
