"""The AST's generic traversal and :func:`alvh_dsl.lang.construct.construct`.

- :func:`~alvh_dsl.lang.ast.children` visits exactly the fields that hold
  nodes, in field order, for every node class (checked on books that use every
  class, against a reference read off each node's values);
- ``construct`` builds what ``model_construct`` builds, for every AST and state
  model, and refuses the models its fast path does not cover.
"""

from __future__ import annotations

import datetime as dt
import types
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, RootModel, ValidationError

from alvh_dsl.lang import ast as A
from alvh_dsl.lang import state as S
from alvh_dsl.lang.construct import construct
from alvh_dsl.lang.parse import parse

ROOT = Path(__file__).resolve().parents[1]

EVERY_CLASS = """\
rulebook "all" version "1"
description "every node class"
include "other.alvh"
param p = 2
define d = not (VIX > 1) and -VIX < 2 or SMA(VIX, 20).x between 1 and 3
define e = VIX crosses above 2 * (SPX - 1) / 3 + 50% of SPX
rule r "title" priority 1
  when d
  unless e
  then open iron condor month 1 short delta 0.16 wings 50 points quantity 2
   and roll condor to near 30 days keeping width
   and close 50% of hedge month 2 and shift 25% hedge from month 1 to month 2
   and buy 2 VIX futures month 2 and buy 2 VIX call spread 25/35 month 2 costing $100
   and alert "hi"
  cooldown 5 days
"""


def _all_nodes() -> list[A.Node]:
    books = [EVERY_CLASS, *(p.read_text() for p in sorted(ROOT.glob("rulebooks/*.alvh")))]
    nodes: list[A.Node] = []
    for text in books:
        result = parse(text, "t.alvh")
        nodes.extend(A.walk(result.book))
    return nodes


def _node_subclasses(cls: type[A.Node]) -> set[type[A.Node]]:
    out = set()
    for sub in cls.__subclasses__():
        out.add(sub)
        out |= _node_subclasses(sub)
    return out


def _reference_children(node: A.Node) -> list[A.Node]:
    """Children read off the node's values, in field order (independent of child_fields)."""
    out: list[A.Node] = []
    for name in type(node).model_fields:
        value = getattr(node, name)
        if isinstance(value, A.Node):
            out.append(value)
        elif isinstance(value, tuple):
            out.extend(v for v in value if isinstance(v, A.Node))
    return out


def test_the_books_use_every_node_class() -> None:
    seen = {type(n) for n in _all_nodes()}
    assert seen == _node_subclasses(A.Node)


def test_children_are_the_fields_that_hold_nodes() -> None:
    for node in _all_nodes():
        assert list(A.children(node)) == _reference_children(node), type(node).__name__


@pytest.mark.parametrize(
    "cls",
    sorted(_node_subclasses(A.Node), key=lambda c: c.__name__),
    ids=lambda c: c.__name__,
)
def test_children_with_every_optional_field_given_and_absent(cls: type[A.Node]) -> None:
    """children() reads each class through a getter made for its fields (fixed ones at
    once, optional ones one by one): each node field set to a distinct node, then every
    optional one None, gives the reference's children, in order."""
    span = A.Span(file="f", line=1, column=1, end_line=1, end_column=2)
    made = iter(range(1000))

    def leaf() -> A.Name:
        return construct(A.Name, span=span, name=f"n{next(made)}")

    given: dict[str, object] = {}  # a distinct node in every field that holds nodes
    others: dict[str, object] = {}  # the rest: spans, and a value for required fields
    holds = dict(A.child_fields(cls))  # which fields to fill; the reference reads values
    for name, info in cls.model_fields.items():
        annotation = str(info.annotation)
        if name in holds:  # a name stands for any node here
            given[name] = (leaf(), leaf()) if holds[name] else leaf()
        elif "Span" in annotation:
            others[name] = span
        elif info.is_required():
            others[name] = 1 if annotation in ("<class 'int'>", "<class 'float'>") else "x"
    full = construct(cls, **others, **given)
    assert list(A.children(full)) == _reference_children(full)
    optional = {k: None for k in given if cls.model_fields[k].default is None}
    if optional:
        bare = construct(cls, **others, **{**given, **optional})
        assert list(A.children(bare)) == _reference_children(bare)


def test_walk_is_preorder_and_reaches_every_node_once() -> None:
    book = parse(EVERY_CLASS, "t.alvh").book

    def recursive(node: A.Node) -> list[A.Node]:
        return [node, *(n for c in A.children(node) for n in recursive(c))]

    walked = list(A.walk(book))
    assert walked == recursive(book)
    assert len({id(n) for n in walked}) == len(walked)


def test_action_and_statement_exprs() -> None:
    book = parse(EVERY_CLASS, "t.alvh").book
    rule = next(s for s in book.statements if isinstance(s, A.Rule))
    exprs = A.statement_exprs(rule)
    assert all(A.is_expr(e) for e in exprs)
    # when, unless, every action argument (expiry references unwrapped), cooldown
    expected = [rule.when, rule.unless]
    for action in rule.actions:
        for child in A.children(action):
            expected.append(
                A.expiry_expr(child) if isinstance(child, A.ByMonth | A.NearDays) else child
            )
    expected.append(rule.cooldown)
    assert exprs == expected
    param = next(s for s in book.statements if isinstance(s, A.Param))
    assert A.statement_exprs(param) == []


def test_map_children_rebuilds_only_what_changes() -> None:
    book = parse("define d = VIX > 1 and SPX < 2", "t.alvh").book
    (define,) = book.statements
    assert isinstance(define, A.Define)

    def rename(node: A.Node) -> A.Node:
        if isinstance(node, A.Name):
            return construct(A.Name, span=node.span, name=node.name.lower())
        return A.map_children(node, rename)

    renamed = A.map_children(define.expr, rename)
    assert sorted(n.name for n in A.names_in(renamed)) == ["spx", "vix"]
    assert sorted(n.name for n in A.names_in(define.expr)) == ["SPX", "VIX"]
    leaf = construct(A.Number, span=define.span, value=1.0)
    assert A.map_children(leaf, rename) is leaf


# ------------------------------------------------------------------ construct


def _models(module: types.ModuleType) -> list[type[BaseModel]]:
    return [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == module.__name__
    ]


def _same(a: BaseModel, b: BaseModel) -> None:
    assert type(a) is type(b)
    assert a.__dict__ == b.__dict__
    for slot in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"):
        assert getattr(a, slot) == getattr(b, slot), slot
    assert a == b


@pytest.mark.parametrize("node", _all_nodes()[:400], ids=lambda n: type(n).__name__)
def test_construct_matches_model_construct_on_ast_nodes(node: A.Node) -> None:
    fields = {k: v for k, v in node.__dict__.items() if k in node.model_fields_set}
    _same(construct(type(node), **fields), type(node).model_construct(**fields))


@pytest.mark.parametrize("cls", _models(S), ids=lambda c: c.__name__)
def test_construct_matches_model_construct_on_state_models(cls: type[BaseModel]) -> None:
    values = {name: None for name, f in cls.model_fields.items() if f.is_required()}
    _same(construct(cls, **values), cls.model_construct(**values))


def test_construct_gives_each_instance_its_own_defaults() -> None:
    market = construct(S.Market, SPX=4000.0, VIX=15.0)
    a = construct(S.State, date=dt.date(2020, 1, 2), market=market, equity=1.0, cash=1.0)
    b = construct(S.State, date=dt.date(2020, 1, 2), market=market, equity=1.0, cash=1.0)
    assert a.condors == [] and a.condors is not b.condors
    assert a.last_fired == {} and a.last_fired is not b.last_fired
    assert a.greeks == S.Greeks()


def test_construct_keeps_models_frozen() -> None:
    span = A.Span(file="f", line=1, column=1, end_line=1, end_column=2)
    name = construct(A.Name, span=span, name="VIX")
    with pytest.raises(ValidationError):
        name.name = "SPX"  # type: ignore[misc]
    with pytest.raises(AttributeError):  # a span is a named tuple, not a model
        span.line = 2  # type: ignore[misc]


def test_construct_refuses_a_span_which_is_not_a_model() -> None:
    with pytest.raises(TypeError, match="call it instead"):
        construct(A.Span, file="f", line=1, column=1, end_line=1, end_column=2)  # type: ignore[type-var]


def test_every_span_field_of_a_built_node_holds_a_span_tuple() -> None:
    """A span is not a model (construct() does not build one): every span the parser and
    construct() put in a node is the named tuple itself, never a model or a plain tuple."""
    for node in _all_nodes():
        spans = [v for k, v in node.__dict__.items() if k == "span" or k.endswith("_span")]
        assert spans and all(type(s) is A.Span for s in spans), type(node).__name__
        assert all(isinstance(s, tuple) and not isinstance(s, BaseModel) for s in spans)
        fields = {k: v for k, v in node.__dict__.items() if k in node.model_fields_set}
        rebuilt = construct(type(node), **fields)
        assert rebuilt.span is node.span


class _Aliased(BaseModel):
    value: int = Field(alias="v")


class _Extra(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Private(BaseModel):
    _secret: int = PrivateAttr(default=0)


class _PostInit(BaseModel):
    def model_post_init(self, context: object) -> None:
        pass


class _Root(RootModel[int]):
    pass


@pytest.mark.parametrize("cls", [_Aliased, _Extra, _Private, _PostInit, _Root])
def test_construct_refuses_models_outside_its_fast_path(cls: type[BaseModel]) -> None:
    with pytest.raises(TypeError, match="construct"):
        construct(cls)
