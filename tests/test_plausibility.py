"""Plausibility (issue 10): W206 at check time, the same measures as notes in a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from alvh_dsl.api import check, dryrun
from alvh_dsl.dryrun.config import DryRunConfig
from alvh_dsl.dryrun.plausibility import exposure, implausible_notes
from alvh_dsl.lang.check.plausibility import DEFAULT_ACCOUNT


def leg(instrument: str, strike: float | None, quantity: float, cash: float) -> dict[str, object]:
    multiplier = 1000.0 if instrument == "VIX future" else 100.0
    return {
        "date": "2024-01-02",
        "trade_id": "T1",
        "action": "open",
        "instrument": instrument,
        "strike": strike,
        "quantity": quantity,
        "multiplier": multiplier,
        "cash_flow": cash,
    }


CONDOR = [  # 50-point wings, a $1,300 credit, 2 lots
    leg("SPX put", 4000, 2, -600),
    leg("SPX put", 4050, -2, 1250),
    leg("SPX call", 4500, -2, 1200),
    leg("SPX call", 4550, 2, -550),
]


def test_the_checks_account_is_the_dry_runs_default() -> None:
    assert DryRunConfig().starting_equity == DEFAULT_ACCOUNT


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (CONDOR, 50 * 2 * 100 - 1300),  # the wider wing × size, less the credit
        ([leg("VIX call", 25, 10, -1500), leg("VIX call", 35, -10, 400)], 2 * 100 * 10 * 1.1 / 2),
        ([leg("VIX future", None, -3, 0)], 3 * 10 * 1000),
        ([leg("SPX put", 4050, 2, 2000)], 0.0),  # a credit alone puts nothing new at risk
    ],
    ids=["condor", "call-spread-debit", "futures", "credit"],
)
def test_exposure(rows: list[dict[str, object]], expected: float) -> None:
    assert exposure(rows) == pytest.approx(expected)


def test_a_trade_beyond_the_days_equity_is_noted() -> None:
    daily = [{"date": "2024-01-01", "equity": 9_000.0}, {"date": "2024-01-02", "equity": 8_000.0}]
    # 8,700 at risk against the 9,000 of the day before: within the account
    assert implausible_notes("book", daily, CONDOR, 250_000.0) == []
    poorer = [{"date": "2024-01-01", "equity": 5_000.0}, *daily[1:]]
    (note,) = implausible_notes("book", poorer, CONDOR, 250_000.0)
    assert "1 trade(s) put more than the day's equity at risk" in note
    assert "8,700 at risk against equity 5,000" in note


def test_closing_and_settling_put_nothing_at_risk() -> None:
    closing = [{**r, "action": "settle"} for r in CONDOR]
    assert implausible_notes("book", [{"date": "2024-01-02", "equity": 1.0}], closing, 1.0) == []


def _book(tmp_path: Path, quantity: int) -> Path:
    path = tmp_path / f"q{quantity}.alvh"
    path.write_text(
        "rule big\n  when condor.count == 0\n"
        f"  then open iron condor month 2 short delta 0.16 wings 50 quantity {quantity}\n"
    )
    return path


def test_check_and_run_agree_on_an_oversized_condor(tmp_path: Path) -> None:
    # wings × quantity × $100: $500,000 and $200,000 before the credit; the run counts the
    # credit (about a quarter of the width here), the check cannot
    big, ok = _book(tmp_path, 100), _book(tmp_path, 40)
    assert [d.code for d in check(str(big))] == ["W206"]
    assert check(str(ok)) == []
    notes = dryrun(str(big), start="2020-01-02", end="2020-03-31", baseline=None).notes
    assert any("put more than the day's equity at risk" in n for n in notes)
    notes = dryrun(str(ok), start="2020-01-02", end="2020-03-31", baseline=None).notes
    assert not any("not plausible" in n for n in notes)


def test_the_shipped_books_are_plausible(project_root: Path) -> None:
    for path in sorted((project_root / "rulebooks").glob("*.alvh")):
        assert not [d for d in check(str(path)) if d.code == "W206"], path
        notes = dryrun(str(path), start="2008-01-02", end="2009-12-31").notes
        assert not [n for n in notes if "not plausible" in n], (path, notes)
