"""The package-level API: every public name is the function, whatever was imported before."""

from __future__ import annotations

import importlib
import pkgutil

import alvh_dsl


def test_public_functions_survive_submodule_imports() -> None:
    # Importing a submodule sets it as an attribute of the package: a function
    # with the same name as a module would be replaced by the module.
    for info in pkgutil.walk_packages(alvh_dsl.__path__, "alvh_dsl."):
        if not info.name.endswith(("cli", "__main__")):
            importlib.import_module(info.name)
    for name in alvh_dsl.__all__:
        if name != "__version__":
            value = getattr(alvh_dsl, name)
            assert callable(value), name
            # `dryrun` and `sweep` are also sub-packages, made callable for this very reason.
            assert not isinstance(value, type(alvh_dsl)) or name in ("dryrun", "sweep"), name


def test_the_dryrun_package_calls_the_api_function(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import alvh_dsl.api
    import alvh_dsl.dryrun.engine

    seen = []
    monkeypatch.setattr(alvh_dsl.api, "dryrun", lambda *a, **k: seen.append((a, k)) or "ran")
    assert alvh_dsl.dryrun("book.alvh", start="2020-01-01") == "ran"
    assert seen == [(("book.alvh",), {"start": "2020-01-01"})]


def test_load_and_evaluate_through_the_package(project_root) -> None:  # type: ignore[no-untyped-def]
    from alvh_dsl.lang.state import load_state

    book = alvh_dsl.load(project_root / "rulebooks" / "alvh_core.alvh")
    evaluation = book.evaluate(load_state(project_root / "examples" / "state_near_expiry.json"))
    # The condor expires tomorrow, the hedge's VIX month in 6 days: `migrate` (hedge.DTE) waits.
    assert [d.rule for d in evaluation.fired] == ["roll_forward", "take_profit"]


def test_every_diagnostic_code_is_documented(project_root) -> None:  # type: ignore[no-untyped-def]
    from alvh_dsl.lang.diagnostics import CODES

    doc = (project_root / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    missing = [code for code in CODES if f"| {code} |" not in doc]
    assert missing == []
