"""What a no-hedge baseline can see of a book, read off the book's AST (no run).

A no-hedge baseline replays the book with every hedge action disabled
(:func:`~alvh_dsl.dryrun.actions.is_hedge`: shifting the hedge, trading VIX futures,
buying VIX call spreads, closing the hedge). Two facts follow, and the dry-run uses both:

- **A book without hedge actions is its own no-hedge baseline.** Disabling nothing
  changes nothing: the baseline would replay the same decisions, fills and days, so
  :func:`~alvh_dsl.dryrun.engine.run_dryrun` reuses the book's run under the baseline's
  label instead of replaying it (:func:`has_hedge_actions`).
- **A baseline depends only on the params of the rules it can act on.** In the baseline a
  rule whose every action is a hedge action changes nothing: its actions are disabled, so
  it fills nothing, counts nothing and starts no cooldown (a rule's last firing is
  recorded only when one of its actions was carried out). Its condition is still
  evaluated, but what it decides reaches the simulated book in one way only: the targets
  its actions consume (hedge months) can supersede a later action on the same target —
  and the only action that is not a hedge action yet consumes hedge months is
  ``close all``. So, in a book without ``close all``, a param read only by hedge-only
  rules (directly, or through defines) cannot change the baseline's days, trades or
  figures; variants of a sweep that differ only in such params share one baseline
  (:func:`baseline_params`, ``alvh_dsl.sweep.tasks``). What does differ between them is
  the record of those rules' conditions: their traces in ``decisions.jsonl``, their rows
  of ``rule_status.parquet``, their fire counts (``rules_fired``) — which is why a shared
  baseline carries none of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..lang import ast as A
from ..lang.program import Program
from .actions import HEDGE_KINDS

__all__ = ["baseline_params", "has_hedge_actions", "is_hedge_action"]


def is_hedge_action(action: A.ActionNode) -> bool:
    """Whether a no-hedge baseline disables ``action`` (the AST's side of
    :func:`~alvh_dsl.dryrun.actions.is_hedge`, which judges a resolved action)."""
    if action.kind in HEDGE_KINDS:
        return True
    return isinstance(action, A.Close) and action.target == "hedge"


def has_hedge_actions(program: Program) -> bool:
    """Whether any rule of ``program`` has an action a no-hedge baseline disables."""
    return any(is_hedge_action(a) for r in program.rules for a in r.actions)


def baseline_params(program: Program) -> frozenset[str]:
    """The params a no-hedge baseline of ``program`` can depend on: those read (directly
    or through defines) by a rule with an action the baseline carries out. With a
    ``close all`` action anywhere, every param any rule reads (see the module docstring).
    """
    rules = program.rules
    if any(isinstance(a, A.Close) and a.target == "all" for r in rules for a in r.actions):
        acting = rules
    else:
        acting = [r for r in rules if not all(is_hedge_action(a) for a in r.actions)]
    params, defines = program.params, program.defines
    seen: set[str] = set()
    stack = list(_names(acting))
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        define = defines.get(name)
        if define is not None:
            stack.extend(_names([define.expr]))
    return frozenset(name for name in seen if name in params)


def _names(nodes: Iterable[A.Node]) -> Iterable[str]:
    for node in nodes:
        for sub in A.walk(node):
            if isinstance(sub, A.Name):
                yield sub.name
