"""The passes about names: the header, definitions, uses, and what is never used.

- :func:`check_header`  E008, W205: the ``rulebook`` header comes first, once, in the root;
- :func:`check_names`   E101–E108: every name is known, defined before use, defined once,
  not reserved and not shadowing a built-in;
- :func:`check_unused`  W102, W103: params and defines nobody uses.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator

from .. import ast as A
from ..diagnostics import Diagnostic, error, fix, note, warning
from ..names import FUNCTIONS, INDICATORS, KEYWORDS, STATE_NAMES, suggest
from ..program import Program
from .analysis import Analysis


def check_header(an: Analysis) -> Iterable[Diagnostic]:
    """E008: the ``rulebook`` header comes first, once per file. W205: only the root has one."""
    for file, book in an.program.files.items():
        seen = False
        for i, stmt in enumerate(book.statements):
            if not isinstance(stmt, A.Header):
                continue
            if not seen and file != an.program.root:
                yield warning(
                    "W205",
                    f"`{file}` is included, so its `rulebook` header is ignored",
                    stmt.span,
                    help="only the book being checked or run names it; remove this header",
                )
            if seen:
                yield error("E008", "a second `rulebook` header", stmt.span, help="keep one")
            elif i != 0:
                yield error(
                    "E008",
                    "the `rulebook` header must be the first statement",
                    stmt.span,
                    help="move it to the top of the file",
                )
            seen = True


def check_names(an: Analysis) -> Iterable[Diagnostic]:
    """E101–E107: every name is known, defined before use, defined once, not reserved."""
    program = an.program
    statements = program.statements
    first: dict[str, A.Param | A.Define] = {}
    rule_cls = A.Rule
    last = -1  # the position of the last param or define
    for i, stmt in enumerate(statements):
        if type(stmt) is rule_cls:  # most statements: its fields read once, from its dict
            fields = stmt.__dict__
            if fields["named"] and fields["id"] in KEYWORDS:  # the one check a rule's name gets
                yield from _check_declared(stmt.id, stmt.id_span, "rule")
        elif isinstance(stmt, A.Param | A.Define):
            last = i
            yield from _check_declared(stmt.name, stmt.name_span, stmt.kind)
            if stmt.name in first:
                yield error(
                    "E104",
                    f"`{stmt.name}` is defined twice",
                    stmt.name_span,
                    related=[note(first[stmt.name].name_span, "first defined here")],
                )
            else:
                first[stmt.name] = stmt

    defined_so_far: set[str] = set()
    broken = broken_declarations(program) if program.syntax_errors else frozenset()
    known: set[str] = set()  # built-in names met so far: most names, looked up once each
    uses = statement_uses(an)
    for stmt, (_, texts) in zip(statements[: last + 1], uses, strict=False):
        yield from _check_uses(an, stmt, texts, known, defined_so_far, broken)
        if type(stmt) is not rule_cls and isinstance(stmt, A.Param | A.Define):
            defined_so_far.add(stmt.name)
    # Past the last declaration every declared name is defined, so a name there can only
    # report if nothing declares it and it is not built in: the distinct names of the
    # rest of the book (a few dozen in 100,000 rules) say which statements to read.
    rest = uses[last + 1 :]
    suspects = {
        name
        for name in set(itertools.chain.from_iterable(texts for _, texts in rest))
        if name not in defined_so_far and name not in broken and not _is_builtin(name)
    }
    if suspects:
        for stmt, (_, texts) in zip(statements[last + 1 :], rest, strict=True):
            if not suspects.isdisjoint(texts):
                yield from _check_uses(an, stmt, texts, known, defined_so_far, broken)


def _check_uses(
    an: Analysis,
    stmt: A.StatementNode,
    texts: list[str],
    known: set[str],
    defined: set[str],
    broken: frozenset[str],
) -> Iterator[Diagnostic]:
    """E101–E103, E108 for the names ``stmt`` uses (``texts``), given what is defined."""
    if not texts or _all_known(texts, known, defined):
        return
    # A name that may need a diagnostic: the statement is read again with its nodes.
    for node, _ in name_depths(stmt):
        name = node.name
        if name in known or name in defined:
            continue
        if _is_builtin(name):
            known.add(name)
        elif name not in broken:  # its line's syntax error is the one to fix
            yield from _check_name(an, node, stmt, defined)


def _all_known(texts: list[str], known: set[str], defined: set[str]) -> bool:
    """Is every one of ``texts`` a built-in or defined name? Built-ins join ``known``."""
    for name in texts:
        if name in known or name in defined:
            continue
        if not _is_builtin(name):
            return False
        known.add(name)
    return True


Uses = tuple[int, list[str]]
"""One statement's expressions walked once: the depth of the deepest (0 for none) and the
text of every name they use, in source order."""


def statement_uses(an: Analysis) -> list[Uses]:
    """The :data:`Uses` of every statement of ``an``'s program, in statement order.

    Walked once per analysis and shared: the name passes read the names, the depth pass
    (E407) the depths: a top-level expression is 1 deep, each child one more. The names
    are their texts, read while the walk has each node at hand: a pass reading
    ``node.name`` again for each of a large book's names would fetch every node from
    memory a second time. The nodes themselves, each with its depth, are
    :func:`name_depths`'s, for the rare statement that reports (decision 92).
    """
    memo = an.memo("names.uses")
    found: list[Uses] | None = memo.get(id(an.program))
    if found is None:
        found = memo[id(an.program)] = [_uses(stmt) for stmt in an.program.statements]
    return found


def _uses(stmt: A.StatementNode) -> Uses:
    names: list[str] = []
    if type(stmt) is not A.Rule:  # a rule's fields are read directly below: most statements
        exprs = A.statement_exprs(stmt)
    else:
        # A.statement_exprs(stmt) without its generic child lists: the same expressions,
        # in the same order (a rule's conditions, each action's arguments with an expiry
        # reference standing for its expression, the cooldown).
        fields = stmt.__dict__
        exprs = [e for e in (fields["when"], fields["unless"]) if e is not None]
        for action in fields["actions"]:
            values = action.__dict__
            for field in ACTION_FIELDS[type(action)]:
                value = values[field]
                if value is not None:
                    inner = EXPIRY_FIELDS.get(type(value))
                    exprs.append(value if inner is None else value.__dict__[inner])
        if fields["cooldown"] is not None:
            exprs.append(fields["cooldown"])
    deepest = 0
    add = names.append
    try:
        for expr in exprs:
            cls = type(expr)
            if cls is _NAME:
                add(expr.__dict__["name"])
            elif cls is not _NUMBER:  # a leaf is 1 deep: most action arguments (`month 2`)
                d = _walk(expr, 1, add)
                if d > deepest:
                    deepest = d
                continue
            if not deepest:
                deepest = 1
    except RecursionError:  # a tree built by hand, far deeper than the parser allows
        return _uses_iteratively(exprs)
    return deepest, names


def _walk(node: A.ExprNode, d: int, add: Callable[[str], None]) -> int:
    """The depth of the deepest node under ``node`` (which is ``d`` deep); its names to
    ``add``, in source order. Leaves are read in their parent's loop, not in a call each."""
    deepest = d
    d += 1
    for kid in A.children(node):
        cls = type(kid)
        if cls is _NAME:
            add(kid.__dict__["name"])
            k = d
        elif cls is _NUMBER:
            k = d
        else:
            k = _walk(kid, d, add)
        if k > deepest:
            deepest = k
    return deepest


def _uses_iteratively(exprs: list[A.ExprNode]) -> Uses:
    names: list[str] = []
    deepest = 0
    for expr in exprs:
        for node, d in _depth_first(expr):
            deepest = max(deepest, d)
            if type(node) is _NAME:
                names.append(node.name)
    return deepest, names


def _depth_first(expr: A.ExprNode) -> Iterator[tuple[A.ExprNode, int]]:
    """Every node under ``expr`` with its depth (``expr`` is 1), in source order."""
    stack = [(expr, 1)]
    while stack:
        node, d = stack.pop()
        yield node, d
        stack.extend([(k, d + 1) for k in reversed(A.children(node))])


def name_depths(stmt: A.StatementNode) -> list[tuple[A.Name, int]]:
    """Every name ``stmt``'s expressions use with the depth it stands at, in source order
    (the names of :func:`statement_uses`, each with its depth)."""
    return [
        (node, d)
        for expr in A.statement_exprs(stmt)
        for node, d in _depth_first(expr)
        if type(node) is _NAME
    ]


_NAME, _NUMBER = A.Name, A.Number
EXPIRY_FIELDS: dict[type, str] = {A.ByMonth: "month", A.NearDays: "days"}
"""The expiry references, each with the field of the expression it stands for
(:func:`alvh_dsl.lang.ast.expiry_expr`)."""


def _action_fields(cls: type[A.Node]) -> tuple[str, ...]:
    fields = A.child_fields(cls)
    assert not any(many for _, many in fields), cls  # each argument one node, or none
    return tuple(name for name, _ in fields)


ACTION_FIELDS: dict[type, tuple[str, ...]] = {cls: _action_fields(cls) for cls in A.ACTION_TYPES}
"""Each action class's fields that hold nodes (its arguments, an expiry reference), in
field order: what :func:`alvh_dsl.lang.ast.action_exprs` reads, by name."""


_DECLARATION = re.compile(r"[ \t]*(?:param|define)[ \t]+([A-Za-z_][A-Za-z0-9_]*)")


def broken_declarations(program: Program) -> frozenset[str]:
    """Names whose ``param`` or ``define`` line has a syntax error (``param roll_dte = 21
    dyas``): declared, though the declaration was dropped, so a use further down is no
    E101 of its own."""
    names: set[str] = set()
    for d in program.diagnostics:
        span = d.span
        if not (d.is_error and d.code.startswith("E0") and isinstance(span, A.Span)):
            continue
        text = program.sources.get(span.file)
        if text is None:
            continue
        lines = text.split("\n")
        if 1 <= span.line <= len(lines):
            m = _DECLARATION.match(lines[span.line - 1])
            if m is not None:
                names.add(m.group(1))
    return frozenset(names)


def _check_declared(name: str, span: A.Span, what: str) -> Iterator[Diagnostic]:
    """E105, E106: a declared name is not a keyword, nor (for params, defines) a built-in."""
    if name in KEYWORDS:
        yield error(
            "E105",
            f"`{name}` is a reserved word and cannot name a {what}",
            span,
            help=f"rename it, e.g. `{name}_{'level' if what == 'param' else 'rule'}`",
        )
    if what != "rule" and (name in STATE_NAMES or name in INDICATORS or name in FUNCTIONS):
        builtin = "a name the state provides" if name in STATE_NAMES else "a built-in function"
        yield error("E106", f"{what} `{name}` shadows {builtin}", span, help="rename it")


def _is_builtin(name: str) -> bool:
    if name in STATE_NAMES:
        return True
    head, _, tail = name.partition(".")
    ind = INDICATORS.get(head)
    if ind is not None and ind.bare_name:
        return not tail or tail in ind.fields
    return False


def _check_name(
    an: Analysis, node: A.Name, stmt: A.StatementNode, defined: set[str]
) -> Iterator[Diagnostic]:
    name = node.name
    if _is_builtin(name) or name in defined:
        return
    target = an.definitions.get(name)
    if target is not None:
        if target is stmt:
            yield error(
                "E103",
                f"define `{name}` refers to itself",
                node.span,
                help="a define cannot be recursive; write the condition out",
            )
        else:
            yield error(
                "E102",
                f"`{name}` is used before it is defined",
                node.span,
                help=f"move the {target.kind} `{name}` above this line",
                related=[note(target.name_span, "defined here")],
            )
        return
    if name in INDICATORS or name in FUNCTIONS:
        yield error(
            "E108",
            f"`{name}` needs arguments",
            node.span,
            help=f"call it, e.g. `{_EXAMPLE_CALLS.get(name, f'{name}(…)')}`",
        )
        return
    pool = [*STATE_NAMES, *an.definitions, "MACD", "MACD.signal", "MACD.hist", "ADLINE"]
    guess = suggest(name, pool)
    head = name.split(".", 1)[0]
    help_text: str | None = f"did you mean `{guess}`?" if guess else None
    if guess is None and head in ("condor", "hedge", "book", "VIX"):
        known = sorted(n for n in STATE_NAMES if n.startswith(head + "."))[:8]
        help_text = "known: " + ", ".join(f"`{k}`" for k in known)
    edit = fix(node.span, guess) if guess else None
    yield error("E101", f"unknown name `{name}`", node.span, help=help_text, fix=edit)


_EXAMPLE_CALLS = {
    "SMA": "SMA(SPX, 20)",
    "EMA": "EMA(VIX, 10)",
    "RSI": "RSI(14)",
    "realized_vol": "realized_vol(SPX, 20)",
    "change": "change(VIX, 5 days)",
    "abs": "abs(book.delta)",
    "min": "min(VIX, 30)",
    "max": "max(VIX, 30)",
}


def check_unused(an: Analysis) -> Iterable[Diagnostic]:
    """W102, W103: params and defines (of the root file) that nothing uses."""
    program = an.program
    if program.syntax_errors:
        return  # uses may sit on the broken lines
    declared = [
        stmt
        for stmt in program.statements
        # a rule first: most statements, and a failed isinstance costs ~10x a hit
        if type(stmt) is not A.Rule
        and isinstance(stmt, A.Param | A.Define)
        and stmt.span.file == program.root
    ]
    unused = {stmt.name for stmt in declared}
    for _, names in statement_uses(an):
        if not unused:
            break  # all used: the rest of the book cannot change that
        unused.difference_update(names)
    for stmt in declared:
        if stmt.name in unused:
            code = "W102" if isinstance(stmt, A.Param) else "W103"
            yield warning(
                code,
                f"{stmt.kind} `{stmt.name}` is never used",
                stmt.name_span,
                help="remove it, or use it in a rule",
            )
