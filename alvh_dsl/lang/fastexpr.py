"""The fast parser's expressions: precedence climbing over the tokens of
:mod:`alvh_dsl.lang.fastlex`, building the nodes the Lark path's
:class:`~alvh_dsl.lang.transform.Builder` builds.

The grammar's expression rules (``or_test`` … ``unary``, loosest first) are a chain
of nine, and Lark reduces an atom through every one of them; here an operand is read
once and the operator after it picks the level. Levels: ``or`` 1, ``and`` 2, ``not``
3 (a prefix, over a comparison), comparisons 4 (not chained: ``a < b < c`` is
refused), ``+ -`` 5, ``* /`` 6, ``of`` 7 (to the right), unary ``-`` 8 (folded into a
literal). ``and`` / ``or`` chains are flattened per level as the grammar's rules are,
and parentheses leave no node.

Nodes are made by small functions equivalent to
:func:`~alvh_dsl.lang.construct.construct` for their class (the same ``__dict__``, in
the same order, and fields-set), about three times cheaper as they fill a literal
dict; ``tests/test_fastparse.py`` holds each to ``construct``. See
:mod:`alvh_dsl.lang.fastparse` for what the fast path accepts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel

from . import ast as A
from .construct import set_dict, set_extra, set_fields_set, set_private
from .fastlex import Lexed, Where
from .transform import MAX_NUMBER, MAX_STRING_BYTES, UNIT_OF, string_value

if TYPE_CHECKING:  # pragma: no cover (the fast path never loads lark: issue 11)
    from lark import Token

MAX_EXPR_DEPTH = 64
"""As :data:`alvh_dsl.lang.parse.MAX_EXPR_DEPTH`; deeper expressions are left to Lark (E407)."""
TRACK_FROM = 32
"""Lines of more tokens than this have their expressions' depth worked out."""
MAX_NESTING = 32
"""Parentheses and calls nested deeper than this are left to Lark: each level costs the
descent a few Python frames, and such a line is past any real book."""


M = TypeVar("M", bound=BaseModel)


class Refused(Exception):
    """The text is not one the fast path is sure of: Lark parses it."""


# ------------------------------------------------------------------ node makers

_new = object.__new__


# Each class's fields-set, one set shared by its instances: pydantic only ever reads it
# or copies it first (model_copy), and a frozen model's is never added to. One object
# fewer a node: allocation is most of what building the nodes costs.
_NAME_SET = {"span", "name"}
_NUMBER_SET = {"span", "value", "unit", "text"}
_BINOP_SET = {"span", "op", "left", "right"}
_BOOLOP_SET = {"span", "op", "operands"}
_BETWEEN_SET = {"span", "value", "low", "high"}
_UNARY_SET = {"span", "operand"}


_DEFAULTS: dict[type[BaseModel], dict[str, Any]] = {}
# The fields-set of each (class, fields given) make() has seen: shared as the ones above.
_FIELD_SETS: dict[tuple[type[BaseModel], tuple[str, ...]], set[str]] = {}


def make(cls: type[M], **fields: Any) -> M:
    """``construct(cls, **fields)`` for an AST class, whose defaults are all immutable.

    The same ``__dict__`` (defaults first, in field order, then the rest as given),
    set through the slots directly, which is what makes it cheaper.
    """
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        infos = cls.model_fields.items()
        if any(info.default_factory is not None for _, info in infos):
            raise TypeError(f"make() cannot build {cls.__name__}: it has a default factory")
        defaults = _DEFAULTS[cls] = {
            name: info.default for name, info in infos if not info.is_required()
        }
    obj = _new(cls)
    set_dict(obj, {**defaults, **fields})
    key = (cls, tuple(fields))
    given = _FIELD_SETS.get(key)
    if given is None:
        given = _FIELD_SETS[key] = set(fields)
    set_fields_set(obj, given)
    set_extra(obj, None)
    set_private(obj, None)
    return obj


_tuple_new = tuple.__new__
_SPAN = A.Span  # the hot paths make spans inline, as make_span does


def make_span(file: str, line: int, column: int, end_line: int, end_column: int) -> A.Span:
    """``A.Span(file, line, column, end_line, end_column)``, without the named tuple's
    Python-level ``__new__`` (a parse makes a span for every node)."""
    return _tuple_new(A.Span, (file, line, column, end_line, end_column))


def make_name(span: A.Span, name: str) -> A.Name:
    """``construct(A.Name, span=span, name=name)``."""
    obj = _new(A.Name)
    set_dict(obj, {"kind": "name", "span": span, "name": name})
    set_fields_set(obj, _NAME_SET)
    set_extra(obj, None)
    set_private(obj, None)
    return obj


def make_number(span: A.Span, value: float, unit: str, text: str | None) -> A.Number:
    """``construct(A.Number, span=span, value=value, unit=unit, text=text)``."""
    obj = _new(A.Number)
    set_dict(obj, {"kind": "number", "unit": unit, "text": text, "span": span, "value": value})
    set_fields_set(obj, _NUMBER_SET)
    set_extra(obj, None)
    set_private(obj, None)
    return obj


def make_binop(cls: type[A.Node], span: A.Span, op: str, left: A.Node, right: A.Node) -> Any:
    """``construct(cls, span=span, op=op, left=left, right=right)``: BinOp or Compare."""
    obj = _new(cls)
    kind = "binop" if cls is A.BinOp else "compare"
    set_dict(obj, {"kind": kind, "span": span, "op": op, "left": left, "right": right})
    set_fields_set(obj, _BINOP_SET)
    set_extra(obj, None)
    set_private(obj, None)
    return obj


def make_boolop(span: A.Span, op: str, operands: tuple[A.ExprNode, ...]) -> A.BoolOp:
    """``construct(A.BoolOp, span=span, op=op, operands=operands)``."""
    obj = _new(A.BoolOp)
    set_dict(obj, {"kind": "boolop", "span": span, "op": op, "operands": operands})
    set_fields_set(obj, _BOOLOP_SET)
    set_extra(obj, None)
    set_private(obj, None)
    return obj


def make_between(span: A.Span, value: A.Node, low: A.Node, high: A.Node) -> A.Between:
    """``construct(A.Between, span=span, value=value, low=low, high=high)``."""
    obj = _new(A.Between)
    set_dict(obj, {"kind": "between", "span": span, "value": value, "low": low, "high": high})
    set_fields_set(obj, _BETWEEN_SET)
    set_extra(obj, None)
    set_private(obj, None)
    return obj


def make_unary(cls: type[A.Node], span: A.Span, operand: A.Node) -> Any:
    """``construct(cls, span=span, operand=operand)``: Not or Neg."""
    obj = _new(cls)
    set_dict(obj, {"kind": "not" if cls is A.Not else "neg", "span": span, "operand": operand})
    set_fields_set(obj, _UNARY_SET)
    set_extra(obj, None)
    set_private(obj, None)
    return obj


_RULE_SET = {"span", "when", "unless", "actions", "cooldown", "id", "id_span", "title", "priority"}


def make_rule(
    span: A.Span,
    when: A.ExprNode | None,
    unless: A.ExprNode | None,
    actions: tuple[A.ActionNode, ...],
    cooldown: A.ExprNode | None,
    id: str,
    id_span: A.Span,
    title: str | None,
    priority: int,
) -> A.Rule:
    """``construct(A.Rule, span=…, when=…, unless=…, actions=…, cooldown=…, id=…,
    id_span=…, title=…, priority=…)``: the defaults first, in field order, then the rest."""
    obj = _new(A.Rule)
    set_dict(
        obj,
        {
            "kind": "rule",
            "named": True,
            "title": title,
            "priority": priority,
            "when": when,
            "unless": unless,
            "actions": actions,
            "cooldown": cooldown,
            "span": span,
            "id": id,
            "id_span": id_span,
        },
    )
    set_fields_set(obj, _RULE_SET)
    set_extra(obj, None)
    set_private(obj, None)
    return obj


LITERALS = frozenset({"NUMBER", "UNIT_NUMBER", "PERCENT", "DOLLARS"})
_LEAVES = LITERALS | {"NAME", "VIX"}
ANDS = frozenset({"AND", "CONT_AND"})
_ORS = frozenset({"OR", "CONT_OR"})
_LEVEL = {
    "OR": 1,
    "CONT_OR": 1,
    "AND": 2,
    "CONT_AND": 2,
    "COMP_OP": 4,
    "BETWEEN": 4,
    "CROSSES": 4,
    "PLUS": 5,
    "MINUS": 5,
    "STAR": 6,
    "SLASH": 6,
    "OF": 7,
}
OR, AND, NOT, COMPARISON, SUM, PRODUCT, OF = 1, 2, 3, 4, 5, 6, 7


class ExprParser:
    """The state of one parse and the expression rules; :mod:`.fastparse` adds the rest."""

    def __init__(self, lexed: Lexed, file: str) -> None:
        self.kinds = lexed.kinds
        self.values = lexed.values
        self.where = lexed.where
        self.file = file
        self.i = 0
        self.nesting = 0
        # Expression depth as transform.Builder._track counts it (parentheses count), by
        # node id. Kept only on a line of more than TRACK_FROM tokens (`track`): a level
        # of depth takes at least one token, so a shorter line is that shallow.
        self.track = False
        self.depth: dict[int, int] = {}
        self.deepest = TRACK_FROM  # the deepest expression, or the bound on untracked ones
        self.stale = 0  # the depth Lark may count in excess: see unary()

    # ------------------------------------------------------------------ helpers

    def span(self, first: Where, last: Where) -> A.Span:
        """The span from the start of token position ``first`` to the end of ``last``."""
        return _tuple_new(_SPAN, (self.file, first[0], first[1], last[2], last[3]))

    def cover(self, first: A.Node, last: A.Node | A.Span) -> A.Span:
        """The span from the start of ``first`` to the end of ``last``."""
        start = first.span
        end = last if isinstance(last, A.Span) else last.span
        return _tuple_new(
            _SPAN, (self.file, start.line, start.column, end.end_line, end.end_column)
        )

    def from_token(self, tok: int, last: A.Node | A.Span) -> A.Span:
        """The span from the start of token ``tok`` to the end of ``last``."""
        where = self.where[tok]
        end = last if isinstance(last, A.Span) else last.span
        return _tuple_new(_SPAN, (self.file, where[0], where[1], end.end_line, end.end_column))

    def expect(self, kind: str) -> int:
        """The index of the next token, which must be a ``kind``."""
        i = self.i
        if self.kinds[i] != kind:
            raise Refused
        self.i = i + 1
        return i

    def tracked(self, node: Any, *kids: A.Node) -> Any:
        """``node``, its depth recorded (Builder._track) when the line is long enough."""
        if self.track:
            depth = self.depth
            d = 1
            for k in kids:
                kd = depth.get(id(k), 1)
                if kd >= d:
                    d = kd + 1
            if d > self.deepest:
                if d > MAX_EXPR_DEPTH:
                    raise Refused  # E407: Lark's path reports it
                self.deepest = d
            depth[id(node)] = d
        return node

    def string(self, i: int) -> str:
        """The value of string literal token ``i``."""
        raw = self.values[i]
        if len(raw) > MAX_STRING_BYTES:
            raise Refused  # E011
        # Below the limit string_value reads only the text (a Token is a str).
        return string_value(cast("Token", raw))

    def number(self, i: int) -> A.Number:
        """The literal of token ``i`` (transform.number)."""
        text = self.values[i]
        kind = self.kinds[i]
        if kind == "NUMBER":
            if text[0] != "0":  # the commonest: digits as written, no zeros to drop
                value = float(text)
                if value > MAX_NUMBER:
                    raise Refused  # E009
                w = self.where[i]
                return make_number(
                    _tuple_new(_SPAN, (self.file, w[0], w[1], w[2], w[3])), value, "bare", text
                )
            digits, unit = text, "bare"
        elif kind == "PERCENT":
            digits, unit = text[:-1], "percent"
        elif kind == "DOLLARS":
            digits, unit = text[1:], "dollars"
        else:  # UNIT_NUMBER: digits, blanks, a unit word
            end = 0
            while text[end] in "0123456789.":
                end += 1
            digits, unit = text[:end], UNIT_OF[text[end:].lstrip(" \t")]
        value = float(digits)
        if value > MAX_NUMBER:
            raise Refused  # E009
        written = digits.lstrip("0")
        if not written or written[0] == ".":
            written = "0" + written
        return make_number(_tuple_new(_SPAN, (self.file, *self.where[i])), value, unit, written)

    def name(self, i: int) -> A.Name:
        """The name of token ``i``."""
        return make_name(_tuple_new(_SPAN, (self.file, *self.where[i])), self.values[i])

    def leaf(self, i: int) -> A.Name | A.Number:
        """A name or a literal, as the token is (Builder._leaf)."""
        return self.name(i) if self.kinds[i] == "NAME" else self.number(i)

    # -------------------------------------------------------------- expressions

    def expr(self, floor: int = OR) -> A.ExprNode:  # Long: the whole operator table in one loop
        """An expression of the given level or tighter (``SUM`` for the grammar's ``sum``)."""
        kinds = self.kinds
        i = self.i
        kind = kinds[i]
        if (kind == "NAME" and kinds[i + 1] != "LPAR") or kind == "VIX":  # commonest first
            self.i = i + 1
            w = self.where[i]
            left: A.ExprNode = make_name(
                _tuple_new(_SPAN, (self.file, w[0], w[1], w[2], w[3])), self.values[i]
            )
        elif kind == "NUMBER" or kind == "UNIT_NUMBER":
            self.i = i + 1
            left = self.number(i)
        elif kind == "NOT":
            if floor > NOT:
                raise Refused
            nots = []
            while kinds[self.i] == "NOT":
                nots.append(self.i)
                self.i += 1
            left = self.expr(COMPARISON)
            for tok in reversed(nots):
                left = self.tracked(make_unary(A.Not, self.from_token(tok, left), left), left)
        else:
            left = self.unary()
        while True:
            kind = kinds[self.i]
            level = _LEVEL.get(kind)
            if level is None or level < floor:
                return left
            if level == OF:
                left = self.of_chain(left)
            elif level >= SUM:  # left-associative + - * /
                op = self.values[self.i]
                self.i += 1
                right = self.expr(level + 1)
                node = make_binop(A.BinOp, self.cover(left, right), op, left, right)
                left = self.tracked(node, left, right)
            elif level == COMPARISON:
                left = self.comparison(left, kind)
                if _LEVEL.get(kinds[self.i]) == COMPARISON:
                    raise Refused  # comparisons do not chain
            else:  # a flattened `and` or `or` chain
                ops = ANDS if level == AND else _ORS
                operands = [left]
                while kinds[self.i] in ops:
                    self.i += 1
                    operands.append(self.expr(level + 1))
                node = make_boolop(
                    self.cover(left, operands[-1]),
                    "and" if level == AND else "or",
                    tuple(operands),
                )
                left = self.tracked(node, *operands)

    def comparison(self, left: A.ExprNode, kind: str) -> A.ExprNode:
        """``left`` compared: ``< b``, ``between a and b``, ``crosses above b``."""
        i = self.i
        if kind == "COMP_OP":
            kinds = self.kinds
            j = i + 1
            k = kinds[j]
            if k in _LEAVES and _LEVEL.get(kinds[j + 1], 0) < SUM and kinds[j + 1] != "LPAR":
                # `a < 5`, `a < b`: the commonest right side, a leaf nothing binds to, read
                # here rather than by expr(SUM) (no `(` after it: that is a call or refused)
                self.i = j + 1
                w = self.where[j]
                if k == "NAME" or k == "VIX":
                    right: A.ExprNode = make_name(
                        _tuple_new(_SPAN, (self.file, w[0], w[1], w[2], w[3])), self.values[j]
                    )
                else:
                    right = self.number(j)
                s = left.span
                span = _tuple_new(_SPAN, (self.file, s.line, s.column, w[2], w[3]))
                node = make_binop(A.Compare, span, self.values[i], left, right)
                return cast(A.ExprNode, self.tracked(node, left, right) if self.track else node)
            self.i = j
            right = self.expr(SUM)
            node = make_binop(A.Compare, self.cover(left, right), self.values[i], left, right)
            return cast(A.ExprNode, self.tracked(node, left, right))
        if kind == "BETWEEN":
            self.i = i + 1
            low = self.expr(SUM)
            if self.kinds[self.i] not in ANDS:
                raise Refused
            self.i += 1
            high = self.expr(SUM)
            node = make_between(self.cover(left, high), left, low, high)
            return cast(A.ExprNode, self.tracked(node, left, low, high))
        direction = self.values[i + 1]  # CROSSES
        if self.kinds[i + 1] not in ("ABOVE", "BELOW"):
            raise Refused
        self.i = i + 2
        right = self.expr(SUM)
        node = make(
            A.Crosses, span=self.cover(left, right), direction=direction, left=left, right=right
        )
        return cast(A.ExprNode, self.tracked(node, left, right))

    def of_chain(self, first: A.ExprNode) -> A.ExprNode:
        """``first of b of c``: grouped to the right, as ``of_expr`` is."""
        kinds = self.kinds
        chain = [first]
        while kinds[self.i] == "OF":
            self.i += 1
            chain.append(self.unary())
        right = chain.pop()
        while chain:
            left = chain.pop()
            node = make_binop(A.BinOp, self.cover(left, right), "of", left, right)
            right = self.tracked(node, left, right)
        return right

    def unary(self) -> A.ExprNode:
        """``-`` * an atom; a minus before a literal is folded into it (Builder.neg)."""
        kinds = self.kinds
        i = self.i
        kind = kinds[i]
        if kind == "NAME" and kinds[i + 1] != "LPAR":  # the commonest operand first
            self.i = i + 1
            return self.name(i)
        minuses = []
        while kind == "MINUS":
            minuses.append(i)
            i += 1
            kind = kinds[i]
        self.i = i
        node = self.atom()
        if minuses and type(node) is A.Number and id(node) in self.depth:
            # `-(5)`: Builder.neg folds the parenthesised number, and its depth entry stays
            # behind under an id a later leaf may be given, which then counts that much
            # deeper there (and may pass it on, folded again). lines() makes sure no
            # expression could reach the limit with all of them added up.
            self.stale += self.depth.pop(id(node)) - 1
        for tok in reversed(minuses):
            if type(node) is A.Number:
                node = make_number(self.from_token(tok, node), -node.value, node.unit, node.text)
            else:
                node = self.tracked(make_unary(A.Neg, self.from_token(tok, node), node), node)
        return node

    def atom(self) -> A.ExprNode:
        """A literal, a name, a call or a parenthesised expression."""
        i = self.i
        kind = self.kinds[i]
        if kind in LITERALS:
            self.i = i + 1
            return self.number(i)
        if kind == "NAME":
            if self.kinds[i + 1] == "LPAR":
                return self.call()
            self.i = i + 1
            return self.name(i)
        if kind == "VIX":
            self.i = i + 1
            return self.name(i)
        if kind == "LPAR":
            self.i = i + 1
            inner = self.nested()
            self.expect("RPAR")
            # Parentheses leave no node but count towards the depth (Builder.paren). The
            # entry is kept even on short lines, for unary()'s `-(5)` check.
            depth = self.depth
            d = depth[id(inner)] = depth.get(id(inner), 1) + 1
            if self.track and d > self.deepest:
                if d > MAX_EXPR_DEPTH:
                    raise Refused
                self.deepest = d
            return inner
        raise Refused

    def nested(self) -> A.ExprNode:
        """An expression inside parentheses or a call's arguments."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise Refused
        node = self.expr()
        self.nesting -= 1
        return node

    def call(self) -> A.Call:
        """``NAME(args)`` and an optional ``.field``."""
        first = self.i
        self.i += 2  # NAME LPAR
        args: list[A.ExprNode] = []
        if self.kinds[self.i] != "RPAR":
            args.append(self.nested())
            while self.kinds[self.i] == "COMMA":
                self.i += 1
                args.append(self.nested())
        last = self.expect("RPAR")
        field = None
        if self.kinds[self.i] == "DOT":
            self.i += 1
            last = self.expect("NAME")
            field = self.values[last]
        node = make(
            A.Call,
            span=self.span(self.where[first], self.where[last]),
            func=self.values[first],
            args=tuple(args),
            field=field,
        )
        return cast(A.Call, self.tracked(node, *args))


__all__ = [
    "ANDS",
    "LITERALS",
    "MAX_EXPR_DEPTH",
    "MAX_NESTING",
    "SUM",
    "TRACK_FROM",
    "ExprParser",
    "Refused",
    "make",
    "make_rule",
    "make_span",
]
