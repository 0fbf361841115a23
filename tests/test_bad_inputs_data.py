"""The bad-input catalogue, part 2 (issue 10): hostile histories, configs and
``alvh data synth`` arguments, one row each.

As in ``tests/test_bad_inputs.py`` (the snapshot is tests/helpers.py's, the hang alarm
conftest.py's): every row runs through the CLI in a temporary working directory and must
exit with the row's status, print the row's marker (``WHERE: CODE`` for a diagnostic, or
click's usage message for a usage error), show no traceback, raise nothing but
``SystemExit``, and write nothing. An alarm turns a hang into a failure.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from alvh_dsl.cli.main import cli
from alvh_dsl.dryrun.config import load_config
from alvh_dsl.errors import AlvhError
from alvh_dsl.market.history import load_history

from .helpers import snapshot

BOOK = "rule r\n  when VIX > 3\n  then close condor\n"


@dataclass(frozen=True)
class Case:
    """One hostile input: the files to lay out, the command, what it must print."""

    id: str
    files: dict[str, str | bytes]
    argv: tuple[str, ...]
    marker: str  # `WHERE: CODE ` for a diagnostic, the usage message's words for exit 2
    exit_code: int = 1


def csv_rows(*rows: str, header: str = "date,spx,vix") -> str:
    return "\n".join((header, *rows)) + "\n"


def parquet(table: pa.Table, alvh: bytes | None = None) -> bytes:
    """A Parquet file's bytes, with ``alvh`` schema metadata when given."""
    if alvh is not None:
        table = table.replace_schema_metadata({b"alvh": alvh})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


GOOD_TABLE = pa.table(
    {"date": ["2020-01-02", "2020-01-03"], "spx": [3000.0, 3001.0], "vix": [15.0, 16.0]}
)


def history_cases(id: str, text: str | bytes, where: str, name: str = "h.csv") -> list[Case]:
    """The same file through `alvh data check` and `alvh dryrun --history`."""
    return [
        Case(f"{id}-check", {name: text}, ("data", "check", name), f"{where}: E601 "),
        Case(
            f"{id}-dryrun",
            {"b.alvh": BOOK, name: text},
            ("dryrun", "b.alvh", "--history", name),
            f"{where}: E601 ",
        ),
    ]


HISTORIES = [
    *history_cases(
        "year-1900", csv_rows("1900-01-02,3000,15", "1900-01-03,3001,16"), "h.csv:2:date"
    ),
    *history_cases(
        "year-2150", csv_rows("2020-01-02,3000,15", "2150-01-03,3001,16"), "h.csv:3:date"
    ),
    *history_cases(
        "year-2300-out-of-pandas",
        csv_rows("2020-01-02,3000,15", "2300-01-03,3001,16"),
        "h.csv:3:date",
    ),
    *history_cases(
        "year-2099-too-late-for-a-row",
        csv_rows("2020-01-02,3000,15", "2099-03-01,3001,16"),
        "h.csv:3:date",
    ),
    *history_cases(
        "us-date-1850", csv_rows("01/02/1850,3000,15", "01/03/1850,3001,16"), "h.csv:2:date"
    ),
    *history_cases(
        "expiry-year-2300",
        csv_rows("2020-01-02,3000,15,16,2300-01-01", header="date,spx,vix,vx1,vx1_expiry"),
        "h.csv:2:vx1_expiry",
    ),
    *history_cases(
        "parquet-timestamp-year-2500",
        parquet(
            pa.table(
                {
                    "date": pa.array([0, 16_725_225_600], pa.timestamp("s")),
                    "spx": [3000.0, 3001.0],
                    "vix": [15.0, 16.0],
                }
            )
        ),
        "h.parquet:1:date",
        "h.parquet",
    ),
    *history_cases(
        "parquet-metadata-not-json", parquet(GOOD_TABLE, b"{not json"), "h.parquet:0", "h.parquet"
    ),
    *history_cases(
        "parquet-metadata-not-utf8",
        parquet(GOOD_TABLE, b'{"notes": ["\xff"]}'),
        "h.parquet:0",
        "h.parquet",
    ),
    *history_cases(
        "parquet-metadata-a-list", parquet(GOOD_TABLE, b"[1, 2]"), "h.parquet:0", "h.parquet"
    ),
    *history_cases(
        "parquet-metadata-bad-sources",
        parquet(GOOD_TABLE, b'{"sources": [{"x": 1}]}'),
        "h.parquet:0",
        "h.parquet",
    ),
    *history_cases(
        "parquet-metadata-notes-a-number",
        parquet(GOOD_TABLE, b'{"notes": 5}'),
        "h.parquet:0",
        "h.parquet",
    ),
    *history_cases(
        "parquet-binary-not-utf8",
        parquet(
            pa.table(
                {
                    "date": pa.array([b"2020-01-02", b"\xff\xfe"], pa.binary()),
                    "spx": [3000.0, 3001.0],
                    "vix": [15.0, 16.0],
                }
            )
        ),
        "h.parquet:2:date",
        "h.parquet",
    ),
]


HISTORIES.append(
    Case(
        "merge-sources-of-1960",
        {
            "spx.csv": "Date,Close\n1960-01-04,60\n1960-01-05,61\n",
            "vix.csv": "DATE,CLOSE\n1960-01-04,20\n1960-01-05,21\n",
        },
        ("data", "merge", "--spx", "spx.csv", "--vix", "vix.csv", "-o", "m.csv"),
        "spx.csv:2: E601 ",
    )
)


def config_case(id: str, text: str | bytes, where: str) -> Case:
    """A config row: `alvh dryrun --config c.toml` must refuse it with E602."""
    return Case(
        f"config-{id}",
        {"b.alvh": BOOK, "c.toml": text},
        ("dryrun", "b.alvh", "--config", "c.toml"),
        f"{where}: E602 ",
    )


CONFIGS = [
    config_case("not-utf8", b"starting_equity = 1\xff\n", "c.toml"),
    config_case("equity-inf", "starting_equity = inf\n", "c.toml: starting_equity"),
    config_case("equity-nan", "starting_equity = nan\n", "c.toml: starting_equity"),
    config_case("skew-nan", "[pricing]\nskew = nan\n", "c.toml: pricing.skew"),
    config_case("grid-low-minus-inf", "[risk]\ngrid_low = -inf\n", "c.toml: risk.grid_low"),
    config_case(
        "slippage-inf", "[costs]\nspx_option_slippage = inf\n", "c.toml: costs.spx_option_slippage"
    ),
    config_case(
        "scenario-move-nan",
        "[risk]\nscenario_moves = [-0.1, nan]\n",
        "c.toml: risk.scenario_moves.1",
    ),
]


def synth_case(id: str, args: tuple[str, ...], words: str) -> Case:
    """An `alvh data synth` row: a usage error (exit 2) naming the option."""
    return Case(f"synth-{id}", {}, ("data", "synth", *args, "-o", "x.csv"), words, 2)


SYNTHS = [
    synth_case("years-tiny", ("--years", "0.0001"), "Invalid value for --years"),
    synth_case("years-nan", ("--years", "nan"), "Invalid value for --years"),
    synth_case("years-inf", ("--years", "inf"), "Invalid value for --years"),
    synth_case("years-1000", ("--years", "1000"), "Invalid value for --years"),
    synth_case("seed-negative", ("--seed", "-1"), "Invalid value for '--seed'"),
    synth_case("start-1900", ("--start", "1900-01-02"), "Invalid value for --start"),
    synth_case("start-2090", ("--start", "2090-01-02"), "Invalid value for --start"),
    synth_case("start-not-a-date", ("--start", "2005-13-01"), "Invalid value for --start"),
]

CASES = HISTORIES + CONFIGS + SYNTHS


def _lay_out(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _run(argv: tuple[str, ...]) -> Result:
    return CliRunner().invoke(cli, list(argv))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_cli(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alarm: None
) -> None:
    _lay_out(tmp_path, case.files)
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    result = _run(case.argv)
    text = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in text
    assert case.marker in result.stderr, result.stderr[-2000:]
    assert result.exit_code == case.exit_code, result.stderr[-2000:]
    assert snapshot(tmp_path) == before


API_HISTORIES = [c for c in HISTORIES if c.argv[:2] == ("data", "check")]


@pytest.mark.parametrize("case", API_HISTORIES, ids=[c.id for c in API_HISTORIES])
def test_bad_history_api(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_history raises the same E601 (an AlvhError), not a pandas or calendar error."""
    _lay_out(tmp_path, case.files)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AlvhError) as info:
        load_history(case.argv[2])
    assert [d.code for d in info.value.diagnostics] == ["E601"] * len(info.value.diagnostics)


@pytest.mark.parametrize("case", CONFIGS, ids=[c.id for c in CONFIGS])
def test_bad_config_api(case: Case, tmp_path: Path) -> None:
    _lay_out(tmp_path, case.files)
    with pytest.raises(AlvhError) as info:
        load_config(tmp_path / "c.toml")
    assert {d.code for d in info.value.diagnostics} == {"E602"}


def test_the_last_row_day_still_loads(tmp_path: Path) -> None:
    """The window's edges are inside it: 1985-01-02 and 2098-12-31 are accepted."""
    path = tmp_path / "h.csv"
    path.write_text(csv_rows("1985-01-02,170,20", "2098-12-31,9000,15"))
    assert len(load_history(path)) == 2
