"""A hand-written parser for rulebooks that parse cleanly: the fast path beside Lark's.

:func:`parse_items` reads a text by recursive descent over the tokens of
:mod:`alvh_dsl.lang.fastlex`, expressions by precedence climbing
(:mod:`alvh_dsl.lang.fastexpr`), and returns what the Lark path's ``_attempt`` returns
for it: the same line items, AST nodes equal to those
:class:`~alvh_dsl.lang.transform.Builder` builds (field values, spans, ``__dict__``
order and fields-set), and the same comments. Where the grouping of a named rule's
lines is plain, the item is the :class:`~alvh_dsl.lang.ast.Rule`
:mod:`alvh_dsl.lang.parse` would make of them (see :meth:`_Parser.grouped`); the rest
are the :class:`~alvh_dsl.lang.transform.RuleHead` and
:class:`~alvh_dsl.lang.transform.ClauseLine` lines it groups itself.

It accepts only what it is sure of, and returns ``None`` for anything else: a syntax
error, and also anything for which the Lark path reports a diagnostic (a number of
1e15 or more, a string over 64 KiB, a fractional priority, an option given twice in
``open iron condor``, an expression nested past the depth limit, or near it where
``-(5)`` may make Lark's count of it depend on memory reuse: see
``ExprParser.unary``). :func:`alvh_dsl.lang.parse.parse` then parses the text with
Lark, which stays the one source of syntax errors, their recovery and those
diagnostics. So the fast path changes how long a parse takes, never what it returns;
``ALVH_PARSER=lark`` turns it off. ``tests/test_fastparse.py`` holds the two equal on
every book of the repository and ../shared and on generated, mutated and random
books, and checks that nothing the fast path accepts is refused by Lark.
"""

from __future__ import annotations

import os
from typing import NamedTuple, cast

from . import ast as A
from .fastexpr import (
    ANDS,
    LITERALS,
    MAX_EXPR_DEPTH,
    SUM,
    TRACK_FROM,
    ExprParser,
    Refused,
    make,
    make_rule,
)
from .fastlex import Lexed, Where, lex
from .transform import MAX_NUMBER, Clause, ClauseLine, Comment, LineItem, RuleHead

_SPAN = A.Span  # made by _tuple below, without the named tuple's __new__
_CLAUSES = frozenset({"WHEN", "THEN", "UNLESS", "COOLDOWN"})
_ACTIONS = frozenset({"OPEN", "ROLL", "CLOSE", "SHIFT", "BUY", "SELL", "ALERT"})
_OPEN_OPTIONS = frozenset({"MONTH", "NEAR", "SHORT", "WINGS", "QUANTITY"})


def enabled() -> bool:
    """Is the fast path on? ``ALVH_PARSER=lark`` turns it off (to compare, or to benchmark)."""
    return os.environ.get("ALVH_PARSER", "").strip().lower() != "lark"


def parse_items(text: str, file: str) -> tuple[list[LineItem], list[Comment]] | None:
    """The line items and comments of ``text``, as the Lark path's ``_attempt`` finds
    them, or ``None`` when the text is left to Lark (see the module docstring)."""
    lexed = lex(text)
    if lexed is None:
        return None
    try:
        items = _Parser(lexed, file).lines()
    except (Refused, RecursionError):
        return None
    return items, lexed.comments


# Made as tuple.__new__(cls, fields): a NamedTuple's own __new__ is a Python function.
_tuple = tuple.__new__


class _Clause(NamedTuple):
    """A clause as parsed: transform.Clause, its span as positions until one is needed."""

    kind: str
    pos: Where  # line, column, end line, end column
    expr: A.ExprNode | None
    actions: tuple[A.ActionNode, ...] = ()


class _Head(NamedTuple):
    """A ``rule`` line as parsed: transform.RuleHead, likewise."""

    id: str
    id_span: A.Span
    title: str | None
    priority: int
    pos: Where
    clauses: list[_Clause]


class _Parser(ExprParser):
    """Lines, statements, clauses and actions: one method per rule of grammar/alvh.lark."""

    def __init__(self, lexed: Lexed, file: str) -> None:
        super().__init__(lexed, file)
        self.line_ends = lexed.line_ends

    # -------------------------------------------------------------- file and lines

    def lines(self) -> list[LineItem]:
        kinds = self.kinds
        items: list[LineItem | _Head | list[_Clause]] = []
        ends = iter(self.line_ends)
        while kinds[self.i] != "$END":
            end = next(ends)
            self.track = end - self.i > TRACK_FROM
            items.append(self.line())
            if self.i != end:
                raise Refused
            if kinds[end] == "_NL":
                self.i = end + 1
        if self.deepest + self.stale > MAX_EXPR_DEPTH:
            raise Refused  # Lark's count, with stale entries, might pass the limit
        return self.grouped(items)

    def grouped(self, items: list[LineItem | _Head | list[_Clause]]) -> list[LineItem]:
        """The line items, each named rule whose grouping is plain made a Rule already.

        What parse._group would make of a ``rule`` line and the clause lines after it,
        when they hold one ``when`` at most, one ``unless`` and one ``cooldown``:
        anything else (a second rule started by ``when``, merged ``unless`` lines,
        E304) is left to it. So is the last rule of the text: the parse driver may put
        an error line after it, which changes what becomes of the rule. The rest
        become the RuleHead and ClauseLine items Builder makes, spans and all.
        """
        out: list[LineItem] = []
        n = len(items)
        i = 0
        while i < n:
            item = items[i]
            i += 1
            if type(item) is list:
                out.append(ClauseLine(self.clause_items(item)))
                continue
            if type(item) is not _Head:
                out.append(cast(LineItem, item))
                continue
            head = item
            run = i
            while run < n and type(items[run]) is list:
                run += 1
            rule = None
            if run < n:  # not the last rule
                lines = cast(list[list[_Clause]], items[i:run])
                # the usual: a `rule` line, then one line of clauses (read, never changed)
                alone = run == i + 1 and not head.clauses
                clauses = lines[0] if alone else [*head.clauses, *(c for ls in lines for c in ls)]
                rule = self.rule(head, clauses)
            if rule is None:
                out.append(
                    RuleHead(
                        head.id,
                        head.id_span,
                        head.title,
                        head.priority,
                        A.Span(self.file, *head.pos),
                        self.clause_items(head.clauses),
                    )
                )
            else:
                out.append(rule)
                i = run
        return out

    def clause_items(self, clauses: list[_Clause]) -> list[Clause]:
        file = self.file
        return [Clause(c.kind, A.Span(file, *c.pos), c.expr, c.actions) for c in clauses]

    def rule(self, head: _Head, clauses: list[_Clause]) -> A.Rule | None:
        """The rule parse._RuleAcc builds from ``head`` and ``clauses``, if it is plain."""
        when = unless = cooldown = None
        actions: list[A.ActionNode] = []
        for clause in clauses:
            kind = clause.kind
            if kind == "when":
                if when is not None:
                    return None  # a second `when` starts a rule of its own
                when = clause.expr
            elif kind == "unless":
                if unless is not None:
                    return None  # merged into one `or`
                unless = clause.expr
            elif kind == "cooldown":
                if cooldown is not None:
                    return None  # E304
                cooldown = clause.expr
            actions.extend(clause.actions)
        # The clauses come after the head in the text, in order: the span _RuleAcc covers
        # runs from the head's start to the last clause's end.
        pos = head.pos
        end = clauses[-1].pos if clauses else pos
        return make_rule(
            _tuple(_SPAN, (self.file, pos[0], pos[1], end[2], end[3])),
            when,
            unless,
            tuple(actions),
            cooldown,
            head.id,
            head.id_span,
            head.title,
            head.priority,
        )

    def line(self) -> LineItem | _Head | list[_Clause]:
        kind = self.kinds[self.i]
        if kind in _CLAUSES:
            return self.clauses()
        if kind == "RULE":
            return self.rule_head()
        if kind == "DEFINE":
            return self.define()
        if kind == "PARAM":
            return self.param()
        if kind == "RULEBOOK":
            return self.header()
        if kind == "DESCRIPTION":
            return self.description()
        if kind == "INCLUDE":
            return self.include()
        raise Refused

    def header(self) -> A.Header:
        first = self.expect("RULEBOOK")
        name = self.expect("STRING")
        last = name
        version = None
        if self.kinds[self.i] == "VERSION":
            self.i += 1
            last = self.expect("STRING")
            version = self.string(last)
        return make(
            A.Header,
            span=self.span(self.where[first], self.where[last]),
            name=self.string(name),
            version=version,
        )

    def description(self) -> A.Description:
        first = self.expect("DESCRIPTION")
        text = self.expect("STRING")
        return make(
            A.Description,
            span=self.span(self.where[first], self.where[text]),
            text=self.string(text),
        )

    def param(self) -> A.Param:
        first = self.expect("PARAM")
        name = self.expect("NAME")
        self.expect("EQUAL")
        minus = self.i if self.kinds[self.i] == "MINUS" else None
        if minus is not None:
            self.i += 1
        i = self.i
        if self.kinds[i] not in LITERALS:
            raise Refused
        self.i = i + 1
        value = self.number(i)
        if minus is not None:
            value = make(
                A.Number,
                span=self.from_token(minus, value),
                value=-value.value,
                unit=value.unit,
                text=value.text,
            )
        name_where = self.where[name]
        return make(
            A.Param,
            span=self.from_token(first, value),
            name=self.values[name],
            name_span=self.span(name_where, name_where),
            value=value,
        )

    def define(self) -> A.Define:
        first = self.expect("DEFINE")
        name = self.expect("NAME")
        self.expect("EQUAL")
        expr = self.expr()
        name_where = self.where[name]
        return make(
            A.Define,
            span=self.from_token(first, expr),
            name=self.values[name],
            name_span=self.span(name_where, name_where),
            expr=expr,
        )

    def include(self) -> A.Include:
        first = self.expect("INCLUDE")
        path = self.expect("STRING")
        where = self.where[path]
        return make(
            A.Include,
            span=self.span(self.where[first], where),
            path=self.string(path),
            path_span=self.span(where, where),
        )

    def rule_head(self) -> _Head:
        first = self.expect("RULE")
        name = self.expect("NAME")
        kinds = self.kinds
        title = None
        if kinds[self.i] == "STRING":
            self.i += 1
            title = self.string(self.i - 1)
        priority = 0
        if kinds[self.i] == "PRIORITY":
            self.i += 1
            negative = kinds[self.i] == "MINUS"
            if negative:
                self.i += 1
            number = float(self.values[self.expect("NUMBER")])
            if number > MAX_NUMBER or number != int(number):
                raise Refused  # E009
            priority = -int(number) if negative else int(number)
        clauses = self.clauses() if kinds[self.i] in _CLAUSES else []
        name_where = self.where[name]
        w = self.where[first]
        return _tuple(
            _Head,
            (
                self.values[name],
                _tuple(_SPAN, (self.file, *name_where)),
                title,
                priority,
                (w[0], w[1], name_where[2], name_where[3]),
                clauses,
            ),
        )

    def clauses(self) -> list[_Clause]:
        kinds = self.kinds
        out: list[_Clause] = []
        while True:
            kind = kinds[self.i]
            first = self.i
            w = self.where[first]
            if kind == "WHEN":
                self.i += 1
                expr = self.expr()
                if self.kinds[self.i] in _ACTIONS:
                    actions = self.action_list()
                    end = actions[-1].span
                else:
                    actions, end = (), expr.span
                pos = (w[0], w[1], end.end_line, end.end_column)
                out.append(_tuple(_Clause, ("when", pos, expr, actions)))
            elif kind == "THEN":
                self.i += 1
                actions = self.action_list()
                end = actions[-1].span
                pos = (w[0], w[1], end.end_line, end.end_column)
                out.append(_tuple(_Clause, ("then", pos, None, actions)))
            elif kind == "UNLESS":
                self.i += 1
                expr = self.expr()
                end = expr.span
                pos = (w[0], w[1], end.end_line, end.end_column)
                out.append(_tuple(_Clause, ("unless", pos, expr, ())))
            elif kind == "COOLDOWN":
                i = self.i = first + 1
                kind = kinds[i]
                if kind == "NAME":
                    value: A.ExprNode = self.name(i)
                elif kind == "UNIT_NUMBER" or kind == "NUMBER":
                    value = self.number(i)
                else:
                    raise Refused
                self.i = i + 1
                last = self.where[i]
                pos = (w[0], w[1], last[2], last[3])
                out.append(_tuple(_Clause, ("cooldown", pos, value, ())))
            else:
                return out

    # ------------------------------------------------------------------ actions

    def action_list(self) -> tuple[A.ActionNode, ...]:
        actions = [self.action()]
        kinds = self.kinds
        while kinds[self.i] in ANDS:
            self.i += 1
            actions.append(self.action())
        return tuple(actions)

    def action(self) -> A.ActionNode:
        kind = self.kinds[self.i]
        if kind == "CLOSE":
            return self.close_action()
        if kind == "SHIFT":
            return self.shift_action()
        if kind == "ROLL":
            return self.roll_action()
        if kind == "ALERT":
            first = self.i
            self.i += 1
            message = self.expect("STRING")
            return make(
                A.Alert,
                span=self.span(self.where[first], self.where[message]),
                message=self.string(message),
            )
        if kind == "OPEN":
            return self.open_action()
        if kind == "BUY" or kind == "SELL":
            return self.trade_action()
        raise Refused

    def open_action(self) -> A.OpenCondor:
        first = self.i
        self.i += 1
        self.expect("IRON")
        self.expect("CONDOR")
        fields: dict[str, A.ExprNode | A.ByMonth | A.NearDays] = {}
        kinds = self.kinds
        end: A.Node | A.Span | None = None
        while kinds[self.i] in _OPEN_OPTIONS:
            kind = kinds[self.i]
            self.i += 1
            value: A.ExprNode | A.ByMonth | A.NearDays
            if kind == "MONTH" or kind == "NEAR":
                self.i -= 1
                key, value = "expiry", self.expiry_ref()
                end = value
            else:
                if kind == "SHORT":
                    self.expect("DELTA")
                    key = "short_delta"
                else:
                    key = kind.lower()
                value = self.expr(SUM)
                end = value  # the option's span ends where its value does
            if key in fields:
                raise Refused  # E306
            fields[key] = value
        if end is None:
            raise Refused
        return make(A.OpenCondor, span=self.from_token(first, end), **fields)

    def expiry_ref(self) -> A.ByMonth | A.NearDays:
        first = self.i
        if self.kinds[first] == "MONTH":
            self.i += 1
            month = self.month_ref()
            return make(A.ByMonth, span=self.from_token(first, month), month=month)
        self.expect("NEAR")
        days = self.expr(SUM)
        return make(A.NearDays, span=self.from_token(first, days), days=days)

    def month_ref(self) -> A.Name | A.Number:
        i = self.i
        kind = self.kinds[i]
        if kind != "NUMBER" and kind != "NAME":
            raise Refused
        self.i = i + 1
        return self.leaf(i)

    def roll_action(self) -> A.RollCondor:
        first = self.i
        self.i += 1
        self.expect("CONDOR")
        self.expect("TO")
        to = self.expiry_ref()
        end: A.Node | A.Span = to
        keeping = None
        if self.kinds[self.i] == "KEEPING":
            i = self.i + 1
            if self.kinds[i] not in ("DELTA", "WIDTH", "STRIKES"):
                raise Refused
            self.i = i + 1
            keeping = self.values[i]
            end = self.span(self.where[i], self.where[i])
        return make(A.RollCondor, span=self.from_token(first, end), to=to, keeping=keeping)

    def close_action(self) -> A.Close:
        first = self.i
        self.i += 1
        kinds = self.kinds
        fraction = None
        if kinds[self.i] not in ("CONDOR", "HEDGE", "ALL"):
            fraction = self.fraction()
            self.expect("OF")
        i = self.i
        target = kinds[i]
        if target not in ("CONDOR", "HEDGE", "ALL"):
            raise Refused
        self.i = i + 1
        month = None
        end: A.Node | A.Span = self.span(self.where[i], self.where[i])
        if target == "HEDGE" and kinds[self.i] == "MONTH":
            self.i += 1
            month = end = self.month_ref()
        return make(
            A.Close,
            span=self.from_token(first, end),
            target=self.values[i],
            month=month,
            fraction=fraction,
        )

    def fraction(self) -> A.ExprNode:
        i = self.i
        kind = self.kinds[i]
        if kind == "LPAR":
            self.i = i + 1
            inner = self.nested()
            self.expect("RPAR")
            return inner
        if kind != "PERCENT" and kind != "NAME":
            raise Refused
        self.i = i + 1
        return self.leaf(i)

    def shift_action(self) -> A.ShiftHedge:
        first = self.i
        self.i += 1
        fraction = self.fraction()
        if self.kinds[self.i] == "OF":
            self.i += 1
        self.expect("HEDGE")
        from_month = None
        if self.kinds[self.i] == "FROM":
            self.i += 1
            self.expect("MONTH")
            from_month = self.month_ref()
        self.expect("TO")
        self.expect("MONTH")
        to_month = self.month_ref()
        return make(
            A.ShiftHedge,
            span=self.from_token(first, to_month),
            fraction=fraction,
            from_month=from_month,
            to_month=to_month,
        )

    def trade_action(self) -> A.TradeFuture | A.BuyCallSpread:
        first = self.i
        side = self.values[first]
        self.i += 1
        kinds = self.kinds
        count = None
        kind = kinds[self.i]
        if kind == "LPAR":
            count = self.fraction()  # `(expr)`, as count's own alternative
        elif kind == "NUMBER" or kind == "NAME":
            self.i += 1
            count = self.leaf(self.i - 1)
        self.expect("VIX")
        kind = kinds[self.i]
        if kind == "FUTURE" or kind == "FUTURES":
            self.i += 1
            self.expect("MONTH")
            month = self.month_ref()
            return make(
                A.TradeFuture,
                span=self.from_token(first, month),
                side=side,
                count=count,
                month=month,
            )
        if side != "buy":
            raise Refused
        self.expect("CALL")
        self.expect("SPREAD")
        lower = self.strike()
        self.expect("SLASH")
        upper = self.strike()
        self.expect("MONTH")
        month = self.month_ref()
        costing = None
        if kinds[self.i] == "COSTING":
            self.i += 1
            costing = self.expr(SUM)
        return make(
            A.BuyCallSpread,
            span=self.from_token(first, costing if costing is not None else month),
            count=count,
            lower=lower,
            upper=upper,
            month=month,
            costing=costing,
        )

    def strike(self) -> A.Name | A.Number:
        i = self.i
        if self.kinds[i] not in ("NUMBER", "UNIT_NUMBER", "NAME"):
            raise Refused
        self.i = i + 1
        return self.leaf(i)


__all__ = ["enabled", "parse_items"]
