"""The pre-commit hooks end to end, with the real ``pre-commit try-repo``.

A temporary git repository holds books, a library, a project configuration and
rulebook tests; the hooks come from a committed copy of this project's working
tree (try-repo installs a repository's HEAD). pre-commit builds the hook's own
virtualenv from the package index (the light install: lark, pydantic, click,
rich), so the test is skipped when ``pre-commit`` or ``git`` is missing or the
install cannot reach the index.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import write

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

HEAD = 'rulebook "{}"\ninclude "lib/params.alvh"\n\n'
BOOK = HEAD.format("desk") + "rule hedge_up\n  when VIX > gate\n  then close condor\n"
OTHER = HEAD.format("other") + "rule calm\n  when VIX < calm_below\n  then close hedge\n"
LIBRARY = "param gate       = 30\nparam calm_below = 15\n"
TESTS = (
    'book "main.alvh"\nstate "state.json"\n\n'
    'test "a high VIX closes the condor"\n  set VIX = 35\n  expect hedge_up fires\n'
)


def _precommit() -> list[str] | None:
    if shutil.which("git") is None:
        return None
    exe = shutil.which("pre-commit")
    if exe is not None:
        return [exe]
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "pre_commit"]


def _git(cwd: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _project_copy(dest: Path) -> None:
    """The project's tracked files as they are in the working tree, committed.

    Tracked only: untracked files include whatever lies in the checkout (CI's
    ``.venv-ci`` is hundreds of megabytes)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "snapshot")


# The configuration docs/ci.md shows, pointed at the project copy.
CONFIG = re.search(
    r"<!-- file: \.pre-commit-config\.yaml -->\n```yaml\n(.*?)```",
    (ROOT / "docs" / "ci.md").read_text(encoding="utf-8"),
    re.S,
).group(1)  # type: ignore[union-attr]


class Hooks:
    """Runs the hooks: ``pre-commit run`` with a config naming the project copy (its
    environment is built once, in ``home``), or ``pre-commit try-repo`` (a fresh
    environment each time: try-repo keeps its store in a temporary directory)."""

    def __init__(self, cmd: list[str], project: Path, home: Path) -> None:
        self.cmd, self.project, self.home = cmd, project, home
        self.rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, check=True
        ).stdout.strip()
        self.config = re.sub(r"(?m)^(\s*- repo: ).*$", rf"\g<1>{project}", CONFIG)
        self.config = re.sub(r"(?m)^(\s*rev: ).*$", rf"\g<1>{self.rev}", self.config)
        assert str(project) in self.config and self.rev in self.config

    def call(self, repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PRE_COMMIT_HOME": str(self.home), "PRE_COMMIT_COLOR": "never"}
        env.pop("VIRTUAL_ENV", None)
        return subprocess.run(
            [*self.cmd, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=900
        )

    def run(self, repo: Path, hook: str, *files: str) -> subprocess.CompletedProcess[str]:
        return self.call(repo, "run", hook, "--verbose", "--files", *files)

    def try_repo(self, repo: Path, hook: str, *files: str) -> subprocess.CompletedProcess[str]:
        return self.call(repo, "try-repo", str(self.project), hook, "--verbose", "--files", *files)


def _repo(path: Path, files: dict[str, str], config: str) -> Path:
    write(path, {**files, ".pre-commit-config.yaml": config})
    _git(path, "init", "-q")
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", "desk")
    return path


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hooks]:
    cmd = _precommit()
    if cmd is None:
        pytest.skip("pre-commit (or git) is not installed")
    if not (ROOT / ".git").exists():
        pytest.skip("the project is not a git checkout (the hooks are installed from one)")
    base = tmp_path_factory.mktemp("precommit")
    project = base / "alvh-dsl"
    _project_copy(project)
    h = Hooks(cmd, project, base / "home")
    # Build the hook environment once (the package index is needed here).
    book = {"ok.alvh": "rule r\n  when VIX > 1\n  then close condor\n"}
    done = h.call(_repo(base / "probe", book, h.config), "install-hooks")
    if done.returncode != 0 and "An unexpected error has occurred" in done.stdout + done.stderr:
        pytest.skip(f"pre-commit could not install the hook (no network?): {done.stdout[-300:]}")
    assert done.returncode == 0, done.stdout + done.stderr
    yield h


@pytest.fixture
def desk(tmp_path: Path, hooks: Hooks) -> Path:
    """A desk's repository: books including a library, a strict project config, tests."""
    state = (ROOT / "examples" / "state_near_expiry.json").read_text(encoding="utf-8")
    files = {
        "alvh.toml": "strict = true\n",
        "books/main.alvh": BOOK,
        "books/other.alvh": OTHER,
        "books/lib/params.alvh": LIBRARY,
        "books/main.alvhtest": TESTS,
        "books/state.json": state,
    }
    return _repo(tmp_path, files, hooks.config)


def test_try_repo_fails_a_library_change_that_breaks_a_book(hooks: Hooks, desk: Path) -> None:
    write(desk, {"books/lib/params.alvh": "param gait = 30\nparam calm_below = 15\n"})
    done = hooks.try_repo(desk, "alvh-check", "books/lib/params.alvh")
    assert done.returncode == 1, done.stdout
    assert "books/main.alvh:5:14: E101" in done.stdout


def test_clean_books_and_a_library_pass_under_strict(hooks: Hooks, desk: Path) -> None:
    # the library alone would warn that `calm_below` is unused (W102: fails under strict)
    done = hooks.run(desk, "alvh-check", "books/lib/params.alvh", "books/main.alvh")
    assert done.returncode == 0, done.stdout
    assert "checked 2 books" in done.stdout  # main and other, through the library


def test_a_library_change_that_breaks_a_book_fails(hooks: Hooks, desk: Path) -> None:
    write(desk, {"books/lib/params.alvh": "param gait = 30\nparam calm_below = 15\n"})
    done = hooks.run(desk, "alvh-check", "books/lib/params.alvh")
    assert done.returncode == 1, done.stdout
    assert "books/main.alvh:5:14: E101" in done.stdout
    assert "books/other.alvh" not in done.stdout.split("E101")[0]


def test_a_broken_book_fails(hooks: Hooks, desk: Path) -> None:
    write(desk, {"books/other.alvh": OTHER.replace("close hedge", "close hegde")})
    done = hooks.run(desk, "alvh-check", "books/other.alvh")
    assert done.returncode == 1 and "books/other.alvh" in done.stdout, done.stdout


def test_fmt_checks_and_never_rewrites(hooks: Hooks, desk: Path) -> None:
    assert hooks.run(desk, "alvh-fmt", "books/main.alvh").returncode == 0
    ugly = BOOK.replace("  when VIX > gate", "  when   VIX>gate")
    write(desk, {"books/main.alvh": ugly})
    done = hooks.run(desk, "alvh-fmt", "books/main.alvh")
    assert done.returncode == 1, done.stdout
    assert (desk / "books" / "main.alvh").read_text(encoding="utf-8") == ugly


def test_rulebook_tests_run_when_a_book_changes(hooks: Hooks, desk: Path) -> None:
    assert hooks.run(desk, "alvh-test", "books/main.alvh").returncode == 0
    write(desk, {"books/lib/params.alvh": "param gate = 40\nparam calm_below = 15\n"})
    done = hooks.run(desk, "alvh-test", "books/lib/params.alvh")
    assert done.returncode == 1, done.stdout
    assert "a high VIX closes the condor" in done.stdout
