"""The package's shape: the pipeline's layering, no cycles, sizes, and docs that name real things.

The import graph is read from the source with the standard library's ``ast``
(every ``import``, at module level or inside functions; ``if TYPE_CHECKING:``
blocks are left out, as they never run), so these tests need nothing installed.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "alvh_dsl"
HEAVY = ("numpy", "pandas", "scipy", "matplotlib", "pyarrow")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80
LONG_MARKER = "# Long:"  # a function past MAX_FUNCTION_LINES says why, in a comment


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                yield from _imports(child)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _imports(node)


def imported_modules(name: str) -> set[str]:
    """Every module ``name`` imports: ours by full name, others by top-level name."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            out.add(candidate if candidate in MODULES else base)
    return {m if m.startswith("alvh_dsl") else m.split(".")[0] for m in out}


GRAPH = {name: {m for m in imported_modules(name) if m in MODULES} for name in MODULES}


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for name in sorted(GRAPH):
        if name not in index:
            visit(name)
    return found


def test_the_import_graph_is_read() -> None:
    # The graph must see real edges, or the tests below would pass on nothing.
    assert "alvh_dsl.lang.ast" in GRAPH["alvh_dsl.lang.printer"]
    assert "alvh_dsl.lang.loader" in GRAPH["alvh_dsl.api"]
    assert "numpy" in imported_modules("alvh_dsl.market.pricing")


def test_no_import_cycles() -> None:
    assert cycles() == []


def test_lang_imports_neither_numpy_nor_pandas_nor_later_stages() -> None:
    allowed_outside = {"alvh_dsl.errors", "alvh_dsl.perf", "alvh_dsl.fileio"}
    problems = []
    for name in MODULES:
        if not name.startswith("alvh_dsl.lang"):
            continue
        for dep in sorted(imported_modules(name)):
            if dep in HEAVY:
                problems.append(f"{name} imports {dep}")
            elif dep.startswith("alvh_dsl") and not (
                dep.startswith("alvh_dsl.lang") or dep in allowed_outside
            ):
                problems.append(f"{name} imports {dep}, a later stage")
    assert problems == []


def test_importing_every_lang_module_loads_no_numpy_or_pandas() -> None:
    names = sorted(n for n in MODULES if n.startswith("alvh_dsl.lang"))
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_only_the_api_module_chains_the_stages() -> None:
    # The checker and the compiler meet only in api.py: no lang module reaches up
    # into both, and the loader knows nothing of checking or compiling.
    loader = imported_modules("alvh_dsl.lang.loader")
    assert not {m for m in loader if m.startswith(("alvh_dsl.lang.check", "alvh_dsl.lang.eval"))}
    for name in MODULES:
        if name.startswith(("alvh_dsl.lang.check", "alvh_dsl.lang.types")):
            assert "alvh_dsl.lang.loader" not in GRAPH[name], name


def test_no_module_imports_another_modules_private_names() -> None:
    problems = []
    for path in [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        problems.append(f"{path.relative_to(ROOT)}: {alias.name}")
    assert problems == []


def test_modules_and_functions_stay_small() -> None:
    problems = []
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        if len(lines) > MAX_MODULE_LINES:
            problems.append(f"{name}: {len(lines)} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                body = lines[node.lineno - 1 : node.end_lineno]
                if length > MAX_FUNCTION_LINES and not any(LONG_MARKER in b for b in body):
                    problems.append(f"{name}.{node.name}: {length} lines, no `{LONG_MARKER}`")
    assert problems == []


@pytest.mark.parametrize("package", ["alvh_dsl.lang", "alvh_dsl.market", "alvh_dsl.dryrun"])
def test_each_sub_package_names_its_public_surface(package: str) -> None:
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    assert names, f"{package}.__init__ has no __all__"
    for name in names:
        assert getattr(module, name) is not None, f"{package}.{name}"


# ------------------------------------------------------------------------ docs

DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PATH_RE = re.compile(
    r"(?<![\w./-])((?:alvh_dsl|docs|benchmarks|grammar|rulebooks|examples|tests|editors)"
    r"/[\w./-]*\w)"
)
DOTTED_RE = re.compile(r"(?<![\w.])(alvh_dsl(?:\.\w+)+)")


def _help_texts() -> str:
    from click.testing import CliRunner

    from alvh_dsl.cli import cli

    runner = CliRunner()
    out = [runner.invoke(cli, ["--help"]).output]
    for command in ("check", "fmt", "parse", "explain", "eval", "schema", "dryrun", "data"):
        out.append(runner.invoke(cli, [command, "--help"]).output)
    for command in ("merge", "synth", "check"):
        out.append(runner.invoke(cli, ["data", command, "--help"]).output)
    return "\n".join(out)


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        if name in MODULES:
            obj: object = importlib.import_module(name)
            for attr in parts[cut:]:
                if not hasattr(obj, attr):
                    return False
                obj = getattr(obj, attr)
            return True
    return False


def _named_paths(text: str) -> set[str]:
    found = set()
    for match in PATH_RE.finditer(text):
        path = match.group(1).rstrip(".")
        if any(ch in path for ch in "*<>") or path.endswith("/"):
            continue
        if path.startswith("alvh_dsl/grammar/"):  # the wheel's copy of grammar/
            path = path.removeprefix("alvh_dsl/")
        found.add(path)
    return found


def test_every_path_the_docs_and_help_name_exists() -> None:
    missing = []
    sources = [(p.relative_to(ROOT), p.read_text(encoding="utf-8")) for p in DOC_FILES]
    sources.append((Path("alvh --help"), _help_texts()))
    for where, text in sources:
        for path in sorted(_named_paths(text)):
            if not (ROOT / path).exists():
                missing.append(f"{where}: {path}")
    assert missing == []


def test_every_module_the_docs_name_exists() -> None:
    missing = []
    for doc in DOC_FILES:
        for dotted in sorted(set(DOTTED_RE.findall(doc.read_text(encoding="utf-8")))):
            if not _resolves(dotted):
                missing.append(f"{doc.relative_to(ROOT)}: {dotted}")
    assert missing == []


def test_docstrings_name_real_modules() -> None:
    missing = []
    for name, path in MODULES.items():
        for dotted in sorted(set(DOTTED_RE.findall(path.read_text(encoding="utf-8")))):
            if not _resolves(dotted) and not dotted.startswith("alvh_dsl.grammar"):
                missing.append(f"{name}: {dotted}")
    assert missing == []


def test_the_doc_checks_can_fail(tmp_path: Path) -> None:
    assert _named_paths("see docs/nowhere.md and alvh_dsl/lang/gone.py") == {
        "docs/nowhere.md",
        "alvh_dsl/lang/gone.py",
    }
    assert not _resolves("alvh_dsl.lang.gone")
    assert _resolves("alvh_dsl.lang.ast.Rule")
