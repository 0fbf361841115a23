"""The TextMate grammar (editors/alvh.tmLanguage.json) and the VS Code extension folder.

Python checks that need nothing installed: the JSON is valid, every regex compiles
(Python's ``re`` is close to Oniguruma for the simple patterns the grammar uses), and
a small tokenizer (earliest match wins, the first pattern on a tie, as TextMate does)
shows every keyword of grammar/alvh.lark, every state name and every indicator
highlighted. Then the annotated sample books under tests/tmgrammar/ go through
``vscode-tmgrammar-test`` (vscode-textmate and Oniguruma, as VS Code runs the grammar)
when it is installed already; there is no network for npm in CI, so it skips otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from alvh_dsl.lang.names import FUNCTIONS, INDICATORS, STATE_NAMES

ROOT = Path(__file__).resolve().parents[1]
GRAMMAR = ROOT / "editors" / "alvh.tmLanguage.json"
VSCODE = ROOT / "editors" / "vscode"
SAMPLES = ROOT / "tests" / "tmgrammar"
LARK_KEYWORD = re.compile(r'^([A-Z_]+): "([A-Za-z]+)"$', re.MULTILINE)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def flatten(grammar: dict[str, Any], patterns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The grammar's top-level patterns with every ``include`` of the repository resolved."""
    out = []
    for p in patterns:
        if "include" in p:
            rule = grammar["repository"][p["include"].lstrip("#")]
            out += flatten(grammar, rule.get("patterns", [rule]))
        elif "patterns" in p and "match" not in p and "begin" not in p:
            out += flatten(grammar, p["patterns"])
        else:
            out.append(p)
    return out


def scope_at(line: str, column: int) -> str:
    """The innermost scope the grammar gives the character at ``column`` of a one-line text."""
    grammar = load(GRAMMAR)
    rules = flatten(grammar, grammar["patterns"])
    pos = 0
    while pos <= column:
        best: tuple[int, int, re.Match[str], dict[str, Any]] | None = None
        for order, rule in enumerate(rules):
            m = re.compile(rule.get("match") or rule["begin"]).search(line, pos)
            if m is not None and (best is None or (m.start(), order) < best[:2]):
                best = (m.start(), order, m, rule)
        if best is None or best[0] > column:
            return "source.alvh"
        start, _, m, rule = best
        end = len(line) if "begin" in rule else m.end()
        if start <= column < end:
            for group, capture in (rule.get("captures") or {}).items():
                if m.start(int(group)) <= column < m.end(int(group)):
                    return str(capture["name"])
            return str(rule.get("name", "source.alvh"))
        pos = max(end, pos + 1)
    return "source.alvh"


def regexes(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node[k] for k in ("match", "begin", "end") if isinstance(node.get(k), str)]
        return found + [r for v in node.values() for r in regexes(v)]
    if isinstance(node, list):
        return [r for v in node for r in regexes(v)]
    return []


def test_the_grammar_is_json_with_a_scope_and_regexes_that_compile() -> None:
    grammar = load(GRAMMAR)
    assert grammar["scopeName"] == "source.alvh" and grammar["fileTypes"] == ["alvh"]
    found = regexes(grammar)
    assert len(found) > 20
    for pattern in found:
        re.compile(pattern)  # raises on a pattern Python cannot read
    for p in flatten(grammar, grammar["patterns"]):
        assert "name" in p or "captures" in p, p


def test_the_extension_ships_the_same_grammar() -> None:
    assert (VSCODE / "syntaxes" / "alvh.tmLanguage.json").read_bytes() == GRAMMAR.read_bytes()
    package = load(VSCODE / "package.json")
    (language,) = package["contributes"]["languages"]
    (grammar,) = package["contributes"]["grammars"]
    assert language["extensions"] == [".alvh"] and grammar["scopeName"] == "source.alvh"
    for relative in (language["configuration"], grammar["path"], package["main"]):
        assert (VSCODE / relative).is_file(), relative
    config = load(VSCODE / "language-configuration.json")
    assert config["comments"] == {"lineComment": "#"} and ["(", ")"] in config["brackets"]
    assert "vscode-languageclient" in package["dependencies"]
    assert '"lsp"' in (VSCODE / "extension.js").read_text(encoding="utf-8")


def test_every_keyword_of_the_grammar_is_highlighted_as_a_keyword() -> None:
    lark = (ROOT / "grammar" / "alvh.lark").read_text(encoding="utf-8")
    keywords = [word for _, word in LARK_KEYWORD.findall(lark)]
    assert len(keywords) > 40 and "costing" in keywords
    unhighlighted = {}
    for word in keywords:
        scope = scope_at(word, 0)
        if not scope.startswith("keyword.") and word != "VIX":  # VIX is a value too
            unhighlighted[word] = scope
    assert unhighlighted == {}
    assert scope_at("VIX", 0) == "support.variable.state.alvh"


def test_every_state_name_and_indicator_is_highlighted() -> None:
    wrong = {}
    for name in STATE_NAMES:
        if scope_at(f"when {name} > 1", 5) != "support.variable.state.alvh":
            wrong[name] = scope_at(f"when {name} > 1", 5)
    for func in [*INDICATORS, *FUNCTIONS]:
        if scope_at(f"when {func}(VIX, 5) > 1", 5) != "support.function.indicator.alvh":
            wrong[func] = scope_at(f"when {func}(VIX, 5) > 1", 5)
    assert wrong == {}
    # a user's name that starts like a keyword stays a name
    assert scope_at("when roll_dte > 1", 5) == "variable.other.alvh"
    assert scope_at("when condor.delta > 1", 12) == "support.variable.state.alvh"


def test_the_tokenizer_here_can_tell_scopes_apart() -> None:
    line = 'param roll_dte = 7 days  # "no string"'
    assert scope_at(line, 0) == "keyword.other.declaration.alvh"
    assert scope_at(line, 6) == "entity.name.constant.alvh"
    assert scope_at(line, 17) == "constant.numeric.alvh"
    assert scope_at(line, 19) == "keyword.other.unit.alvh"
    assert scope_at(line, 30) == "comment.line.number-sign.alvh"


def _tmgrammar_test() -> list[str] | None:
    """The command of an installed vscode-tmgrammar-test, or ``None`` (nothing fetched)."""
    found = shutil.which("vscode-tmgrammar-test")
    if found:
        return [found]
    npx = shutil.which("npx")
    if npx is None:
        return None
    env = {**os.environ, "npm_config_offline": "true", "npm_config_yes": "false"}
    try:
        probe = subprocess.run(
            [npx, "--no-install", "vscode-tmgrammar-test", "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=ROOT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return [npx, "--no-install", "vscode-tmgrammar-test"] if probe.returncode == 0 else None


def test_annotated_sample_books_pass_vscode_tmgrammar_test() -> None:
    command = _tmgrammar_test()
    if command is None:
        pytest.skip("vscode-tmgrammar-test is not installed (npm i -g vscode-tmgrammar-test)")
    samples = sorted(SAMPLES.glob("*.alvhsyntax"))
    assert len(samples) >= 2
    done = subprocess.run(
        [*command, "-c", "-g", str(GRAMMAR), *(str(s) for s in samples)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("run successfuly") == len(samples), done.stdout
