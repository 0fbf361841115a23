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
            assert callable(value) and not isinstance(value, type(alvh_dsl)), name


def test_load_and_evaluate_through_the_package(project_root) -> None:  # type: ignore[no-untyped-def]
    from alvh_dsl.state import load_state

    book = alvh_dsl.load(project_root / "rulebooks" / "alvh_core.alvh")
    evaluation = book.evaluate(load_state(project_root / "examples" / "state_near_expiry.json"))
    assert [d.rule for d in evaluation.fired] == ["roll_forward", "migrate", "take_profit"]


def test_every_diagnostic_code_is_documented(project_root) -> None:  # type: ignore[no-untyped-def]
    from alvh_dsl.diagnostics import CODES

    doc = (project_root / "docs" / "language.md").read_text(encoding="utf-8")
    missing = [code for code in CODES if f"| {code} |" not in doc]
    assert missing == []
