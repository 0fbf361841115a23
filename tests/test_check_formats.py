"""`alvh check` for CI: --format json|github|sarif|junit, -o, relative paths, stdin, --fix.

Every format goes end to end through the CLI (click's CliRunner); the JSON is
validated against `alvh schema --diagnostics`, the SARIF against the official
2.1.0 schema vendored in tests/data/ (see its README: no network at test time).
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from alvh_dsl.cli.main import cli
from alvh_dsl.lang.ast import Span
from alvh_dsl.lang.diagnostics import CODES, data_span, error, fix, to_json, warning
from alvh_dsl.lang.fixes import apply_fixes
from alvh_dsl.lang.formats import diagnostics_schema, display_path, github, help_uri, sarif

from .helpers import write

DATA = Path(__file__).resolve().parent / "data"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "diagnostics.md"

# E107 and E401 with fixes, E104 with a related location, W102 a warning
TYPOS = (
    'include "lib/comon.alvh"\n\n'
    "rule r\n  when condor.DTE < 2 and SMAA(SPX, 20) > 1\n  then close condor\n"
)
LIB = "when condor.DTE < 1 then close condor\n"  # W101, an unnamed rule
# two characters outside the BMP before the error: UTF-16 columns are two ahead
ASTRAL = 'rule r "😀😀" when SMAA(SPX, 20) > 1 then close condor\nparam x = 1\nparam x = 2\n'
CLEAN = "rule r\n  when condor.DTE < 2\n  then close condor\n"


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input)


def span(line: int, col: int, end: int, file: str = "b.alvh") -> Span:
    return Span(file=file, line=line, column=col, end_line=line, end_column=end)


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A desk repository, and the working directory: books/ with a library, a typo'd book."""
    write(
        tmp_path,
        {
            "books/typos.alvh": TYPOS,
            "books/lib/common.alvh": LIB,
            "books/astral.alvh": ASTRAL,
            "books/clean.alvh": CLEAN,
        },
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((DATA / "sarif-schema-2.1.0.json").read_text("utf-8"))
    return schema


# ------------------------------------------------------------------------ text


def test_text_shows_the_fix_and_relative_paths_for_absolute_input(desk: Path) -> None:
    result = run("check", "--color", "never", str(desk / "books" / "typos.alvh"))
    assert result.exit_code == 1
    err = result.stderr
    assert "books/typos.alvh:4:27: E107 unknown function `SMAA`" in err
    assert "= fix available: replace `SMAA` with `SMA`" in err
    assert 'replace `"lib/comon.alvh"` with `"lib/common.alvh"`' in err
    assert str(desk) not in err  # absolute in, relative out


def test_paths_outside_the_working_directory_stay_absolute(
    desk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (desk / "elsewhere").mkdir()
    monkeypatch.chdir(desk / "elsewhere")
    result = run("check", "--format", "json", "../books/typos.alvh")
    doc = json.loads(result.stdout)
    absolute = os.path.join(os.path.realpath(desk), "books", "typos.alvh")
    assert doc["books"] == [absolute]
    assert {d["span"]["file"] for d in doc["diagnostics"]} == {absolute}


def test_display_path() -> None:
    assert display_path("/desk/books/a.alvh", "/desk") == "books/a.alvh"
    assert display_path("./books/../books/a.alvh", "/desk") == "books/a.alvh"
    assert display_path("../other/b.alvh", "/desk/sub") == "/desk/other/b.alvh"
    assert display_path("/deskmate/a.alvh", "/desk") == "/deskmate/a.alvh"
    assert display_path("<stdin>", "/desk") == "<stdin>"


def test_output_file_is_written_and_stdout_stays_empty(desk: Path) -> None:
    result = run("check", "--format", "sarif", "-o", "out/report.sarif", "books")
    assert result.exit_code == 2  # the folder does not exist: nothing half-written either
    (desk / "out").mkdir()
    result = run("check", "--format", "sarif", "-o", "out/report.sarif", "books")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "checked 4 books" in result.stderr  # the library too: its include is broken
    assert json.loads((desk / "out" / "report.sarif").read_text("utf-8"))["version"] == "2.1.0"
    assert sorted(os.listdir(desk / "out")) == ["report.sarif"]  # no temporary left
    run("check", "-o", "out/report.txt", "books")
    text = (desk / "out" / "report.txt").read_text("utf-8")
    assert "E107" in text and text.endswith("4 errors, 3 warnings\n")
    assert "\x1b[" not in text


# ------------------------------------------------------------------------ JSON


def test_json_carries_a_schema_version_and_validates_against_its_schema(desk: Path) -> None:
    printed = run("schema", "--diagnostics")
    assert printed.exit_code == 0
    schema = json.loads(printed.stdout)
    assert schema == json.loads(json.dumps(diagnostics_schema()))
    jsonschema.Draft202012Validator.check_schema(schema)
    result = run("check", "--format", "json", "--param", "unusd=1", "books")
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1
    assert {"diagnostics", "errors", "warnings", "books"} <= set(doc)
    codes = {d["code"] for d in doc["diagnostics"]}
    assert {"E107", "E401", "E104", "W102", "E501"} <= codes  # text spans, related, no span
    assert any(d["fix"] for d in doc["diagnostics"])
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    broken = json.loads(result.stdout)
    next(d for d in broken["diagnostics"] if d["span"])["span"]["line"] = "4"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema, cls=jsonschema.Draft202012Validator)


def test_json_schema_covers_data_spans() -> None:
    diags = [error("E601", "no value", data_span("h.csv", 12, "vvix"))]
    diags.append(error("E504", "bad", data_span("state.json", path="$.market.SPX")))
    doc = json.loads(to_json(diags, books=[]))
    jsonschema.validate(doc, diagnostics_schema(), cls=jsonschema.Draft202012Validator)


def test_docs_describe_every_json_field() -> None:
    """docs/diagnostics.md documents the JSON field by field: every property of the schema."""
    docs = DOCS.read_text("utf-8")
    section = docs[docs.index("## JSON") : docs.index("## Codes")]
    schema = diagnostics_schema()
    fields = set(schema["properties"])
    for model in schema["$defs"].values():
        fields |= set(model.get("properties", {}))
    missing = [f for f in sorted(fields) if f"`{f}`" not in section]
    assert missing == []


# ---------------------------------------------------------------------- GitHub


def test_github_annotations_end_to_end(desk: Path) -> None:
    result = run("check", "--format", "github", "books/typos.alvh")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert (
        "::error file=books/typos.alvh,line=4,col=27,endLine=4,endColumn=40,title=E107::"
        "unknown function `SMAA`%0Ahelp: did you mean `SMA`?"
    ) in lines
    assert lines[0].startswith("::error file=books/typos.alvh,line=1,col=9,endLine=1,")
    lines = run("check", "--format", "github", "books/astral.alvh").stdout.splitlines()
    assert (
        "::warning file=books/astral.alvh,line=2,col=7,endLine=2,endColumn=8,title=W102::"
        "param `x` is never used%0Ahelp: remove it, or use it in a rule"
    ) in lines


def test_github_escapes_data_and_properties(desk: Path) -> None:
    name = "odd, name: 100%.alvh"
    write(desk, {name: "rule r\n  when SMAA(SPX, 20) > 1\n  then close condor\n"})
    line = run("check", "--format", "github", name).stdout.strip()
    assert line.startswith("::error file=odd%2C name%3A 100%25.alvh,line=2,")
    d = warning("W101", "50% off\r\nnext", span(1, 1, 2, "a,b:c.alvh"), help="x")
    assert github([d]) == (
        "::warning file=a%2Cb%3Ac.alvh,line=1,col=1,endLine=1,endColumn=2,title=W101::"
        "50%25 off%0D%0Anext%0Ahelp: x\n"
    )


def test_github_leaves_out_columns_of_a_multi_line_span() -> None:
    d = error("E001", "m", Span(file="b.alvh", line=1, column=3, end_line=2, end_column=1))
    assert github([d]) == "::error file=b.alvh,line=1,endLine=2,title=E001::m\n"
    assert github([error("E501", "m", None)]) == "::error title=E501::m\n"
    assert github([error("E601", "gap", data_span("h.csv", 12, "vvix"))]) == (
        "::error file=h.csv,line=12,title=E601::h.csv:12:vvix: gap\n"
    )


# ----------------------------------------------------------------------- SARIF


def test_sarif_validates_against_the_official_schema(
    desk: Path, sarif_schema: dict[str, Any]
) -> None:
    result = run("check", "--format", "sarif", "--param", "unusd=1", "books")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(CODES)
    results = run_["results"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    by_code = {r["ruleId"]: r for r in results}
    assert by_code["E104"]["relatedLocations"][0]["message"]["text"] == "first defined here"
    assert "locations" not in by_code["E501"]  # a --param override has no place
    fixes = [r for r in results if r.get("fixes")]
    assert {r["ruleId"] for r in fixes} == {"E107", "E401"}
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in results
        if "locations" in r
    }
    assert uris == {"books/typos.alvh", "books/astral.alvh", "books/lib/common.alvh"}


def test_sarif_columns_are_utf16_code_units(desk: Path) -> None:
    log = json.loads(run("check", "--format", "sarif", "books/astral.alvh").stdout)
    e107 = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "E107")
    region = e107["locations"][0]["physicalLocation"]["region"]
    line = ASTRAL.splitlines()[0]
    column = line.index("SMAA") + 1  # 18 characters in; each emoji is two UTF-16 units
    assert (region["startColumn"], region["endColumn"]) == (column + 2, column + 2 + 13)
    deleted = e107["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"]
    assert (deleted["startColumn"], deleted["endColumn"]) == (column + 2, column + 2 + 4)
    assert len(line[: line.index("SMAA")].encode("utf-16-le")) // 2 + 1 == column + 2


def test_sarif_maps_data_spans_and_help_uris(sarif_schema: dict[str, Any]) -> None:
    diags = [
        error("E601", "gap", data_span("data/h.csv", 12, "vvix")),
        error("E504", "bad", data_span("/abs/state.json", path="$.market.SPX")),
        error("E601", "empty", data_span("data/h.parquet", 0)),
    ]
    log = json.loads(sarif(diags, {}, version="0", base="https://docs.example", cwd="/desk"))
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    first, second, third = (r["locations"][0] for r in log["runs"][0]["results"])
    assert first["physicalLocation"]["region"] == {"startLine": 12}
    assert first["logicalLocations"] == [{"fullyQualifiedName": "vvix"}]
    assert second["physicalLocation"]["artifactLocation"] == {"uri": "file:///abs/state.json"}
    assert second["logicalLocations"] == [{"fullyQualifiedName": "$.market.SPX"}]
    assert "region" not in third["physicalLocation"]  # record 0: the file as a whole
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///desk/"
    rule = log["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["helpUri"] == "https://docs.example/docs/diagnostics.md#syntax-e0xx"


def test_help_uri_anchors_are_headings_of_the_docs() -> None:
    def anchor(heading: str) -> str:  # GitHub's rule: lower case, punctuation dropped
        return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")

    anchors = {anchor(h) for h in re.findall(r"^#+ (.+)$", DOCS.read_text("utf-8"), re.M)}
    for code in CODES:
        target = help_uri(code, "").rsplit("#", 1)[1]
        assert target in anchors, (code, target)


# ----------------------------------------------------------------------- JUnit


def test_junit_one_suite_per_book_one_case_per_file(desk: Path) -> None:
    uses = 'include "lib/common.alvh"\n\nrule u\n  when condor.DTE < nope\n  then close condor\n'
    write(desk, {"ci/uses.alvh": uses, "ci/lib/common.alvh": LIB, "ci/clean.alvh": CLEAN})
    write(desk, {"ci/two.alvh": ASTRAL})
    result = run("check", "--format", "junit", "ci")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"ci/uses.alvh", "ci/clean.alvh", "ci/two.alvh"}  # not the library
    uses_suite = suites["ci/uses.alvh"]
    cases = {c.get("name"): c for c in uses_suite.iter("testcase")}
    assert set(cases) == {"ci/uses.alvh", "ci/lib/common.alvh"}
    assert [f.get("type") for f in cases["ci/uses.alvh"].iter("failure")] == ["E101"]
    library = cases["ci/lib/common.alvh"]
    assert list(library.iter("failure")) == []  # a warning fails only under --strict
    assert "W101" in (library.findtext("system-out") or "")
    two = suites["ci/two.alvh"]
    assert [f.get("type") for f in two.iter("failure")] == ["E107", "E104"]
    assert "SMA" in (two.findtext("testcase/failure") or "")  # the rendered diagnostic
    assert uses_suite.get("tests") == "2" and uses_suite.get("failures") == "1"
    assert root.get("tests") == "4" and root.get("failures") == "3"
    assert list(suites["ci/clean.alvh"].iter("failure")) == []
    strict = ET.fromstring(run("check", "--format", "junit", "--strict", "ci").stdout)
    assert strict.get("failures") == "6"  # and W101, W102 twice


# ----------------------------------------------------------------------- stdin


def test_stdin_with_a_filename_resolves_includes_beside_it(
    desk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (desk / "elsewhere").mkdir()
    monkeypatch.chdir(desk / "elsewhere")
    fixed = TYPOS.replace("comon", "common")
    result = run("check", "-", "--stdin-filename", "../books/typos.alvh", input=fixed)
    assert result.exit_code == 1, result.stderr
    assert "E401" not in result.stderr  # lib/common.alvh found beside the named file
    assert f"{os.path.realpath(desk)}/books/typos.alvh:4:27: E107" in result.stderr
    assert (desk / "books" / "typos.alvh").read_text("utf-8") == TYPOS  # never written


def test_stdin_without_a_filename(desk: Path) -> None:
    result = run("check", "--format", "json", "-", input=CLEAN)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["books"] == ["<stdin>"]
    assert run("check", "-", input="rule r\n  when x\n").stderr.startswith("<stdin>:")


def test_stdin_filename_needs_a_dash(desk: Path) -> None:
    result = run("check", "--stdin-filename", "a.alvh", "books")
    assert result.exit_code == 2
    assert "give `-` too" in result.stderr


# ------------------------------------------------------------------------- fix


def test_fix_rewrites_the_files_and_the_book_then_checks_clean(desk: Path) -> None:
    result = run("check", "--fix", "--color", "never", "books/typos.alvh")
    assert result.exit_code == 0, result.stderr
    text = (desk / "books" / "typos.alvh").read_text("utf-8")
    assert text == TYPOS.replace("comon", "common").replace("SMAA", "SMA")
    assert "fixed 2 problems" in result.stderr
    assert "W101" in result.stderr  # what is left: the library's unnamed rule
    again = run("check", "books/typos.alvh")
    assert again.exit_code == 0 and "E" not in again.stderr.split(":")[-1]


def test_fix_with_stdin_prints_the_fixed_book(desk: Path) -> None:
    result = run(
        "check", "--fix", "-", "--stdin-filename", "books/typos.alvh", "--format", "json",
        input=TYPOS,
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.stdout == TYPOS.replace("comon", "common").replace("SMAA", "SMA")
    assert json.loads(result.stderr)["errors"] == 0  # the report goes to stderr
    assert (desk / "books" / "typos.alvh").read_text("utf-8") == TYPOS


def test_fix_leaves_unfixable_errors_and_exits_1(desk: Path) -> None:
    write(desk, {"books/other.alvh": "rule r\n  when SMAA(SPX, 20) > nope\n  then close condor\n"})
    result = run("check", "--fix", "books/other.alvh")
    assert result.exit_code == 1
    assert "E101" in result.stderr and "E107" not in result.stderr
    assert "SMA(SPX, 20)" in (desk / "books" / "other.alvh").read_text("utf-8")


def test_apply_fixes_skips_overlaps_duplicates_and_stale_spans() -> None:
    text = "ab😀cd\r\nefgh\n"
    fixes = [
        fix(span(1, 4, 6), "XY"),  # `cd`, after the emoji: columns count characters
        fix(span(1, 5, 6), "Z"),  # overlaps the first: left for the next pass
        fix(span(2, 1, 2), "E"),
        fix(span(2, 1, 2), "E"),  # the same fix twice (a library of two books)
        fix(span(9, 1, 2), "?"),  # not in the text any more
        fix(span(2, 1, 99), "?"),  # past the line's end
    ]
    assert apply_fixes(text, fixes) == ("ab😀XY\r\nEfgh\n", 2)
    assert apply_fixes(text, []) == (text, 0)


def test_fix_writes_through_a_symbolic_link(desk: Path) -> None:
    write(desk, {"real/target.alvh": "rule r\n  when SMAA(SPX, 20) > 1\n  then close condor\n"})
    (desk / "books" / "link.alvh").symlink_to(desk / "real" / "target.alvh")
    assert run("check", "--fix", "books/link.alvh").exit_code == 0
    assert (desk / "books" / "link.alvh").is_symlink()
    assert "SMA(SPX, 20)" in (desk / "real" / "target.alvh").read_text("utf-8")


def test_fix_leaves_a_file_that_changed_since_it_was_checked(
    desk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alvh_dsl.api

    real = alvh_dsl.api.check_paths
    edited = "# edited meanwhile\n" + TYPOS

    def check_then_edit(*args: Any, **kwargs: Any) -> Any:
        report = real(*args, **kwargs)
        (desk / "books" / "typos.alvh").write_text(edited, encoding="utf-8")
        return report

    monkeypatch.setattr(alvh_dsl.api, "check_paths", check_then_edit)
    result = run("check", "--fix", "books/typos.alvh")
    assert result.exit_code == 1
    assert (desk / "books" / "typos.alvh").read_text("utf-8") == edited
    assert "fixed 0 problems" in result.stderr


def test_output_dash_is_stdout_for_every_format(desk: Path) -> None:
    text = run("check", "-o", "-", "books/clean.alvh")
    assert text.stdout == "checked 1 book (1 file): no problems\n" and text.stderr == ""
    github = run("check", "--format", "github", "-o", "-", "books/astral.alvh")
    assert github.stdout.startswith("::error file=books/astral.alvh,")
