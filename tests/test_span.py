"""``Span`` is an immutable named tuple that reads and writes as the model it was.

The JSON strings below are what the project wrote when ``Span`` was a pydantic
model (captured from that tree): every output holding a span must stay
byte-identical, and JSON must validate back into the same values.
"""

from __future__ import annotations

import copy
import pickle

import pytest
from pydantic import ValidationError

from alvh_dsl.lang import ast as A
from alvh_dsl.lang.diagnostics import DataSpan, Diagnostic, Related, error, fix, note
from alvh_dsl.lang.formats import diagnostics_schema
from alvh_dsl.lang.parse import parse

SPAN = A.Span(file="b.alvh", line=3, column=8, end_line=3, end_column=14)
SPAN_JSON = '{"file":"b.alvh","line":3,"column":8,"end_line":3,"end_column":14}'
FIRST = A.Span(file="b.alvh", line=1, column=1, end_line=1, end_column=5)
FIRST_JSON = '{"file":"b.alvh","line":1,"column":1,"end_line":1,"end_column":5}'

DIAGNOSTIC_JSON = (
    '{"code":"E101","severity":"error","message":"unknown name `detla`",'
    f'"span":{SPAN_JSON},"help":"did you mean `delta`?",'
    f'"related":[{{"span":{FIRST_JSON},"message":"first defined here"}}],'
    f'"fix":{{"span":{SPAN_JSON},"replacement":"delta"}}}}'
)

BOOK = 'rulebook "x" version "1"\nrule r\n  when VIX > 1\n  then close condor\n'
BOOK_JSON = (
    '{"kind":"rulebook","statements":[{"kind":"header","version":"1","span":{"file":"t.alvh",'
    '"line":1,"column":1,"end_line":1,"end_column":25},"name":"x"},{"kind":"rule","named":true,'
    '"title":null,"priority":0,"when":{"kind":"compare","span":{"file":"t.alvh","line":3,'
    '"column":8,"end_line":3,"end_column":15},"op":">","left":{"kind":"name","span":{"file":'
    '"t.alvh","line":3,"column":8,"end_line":3,"end_column":11},"name":"VIX"},"right":{"kind":'
    '"number","unit":"bare","text":"1","span":{"file":"t.alvh","line":3,"column":14,"end_line":'
    '3,"end_column":15},"value":1.0}},"unless":null,"actions":[{"kind":"close","month":null,'
    '"fraction":null,"span":{"file":"t.alvh","line":4,"column":8,"end_line":4,"end_column":20},'
    '"target":"condor"}],"cooldown":null,"span":{"file":"t.alvh","line":2,"column":1,'
    '"end_line":4,"end_column":20},"id":"r","id_span":{"file":"t.alvh","line":2,"column":6,'
    '"end_line":2,"end_column":7}}],"span":{"file":"t.alvh","line":1,"column":1,"end_line":5,'
    '"end_column":1},"file":"t.alvh"}'
)


def _diagnostic() -> Diagnostic:
    return error(
        "E101",
        "unknown name `detla`",
        SPAN,
        help="did you mean `delta`?",
        related=[note(FIRST, "first defined here")],
        fix=fix(SPAN, "delta"),
    )


def test_a_span_is_an_immutable_named_tuple() -> None:
    assert isinstance(SPAN, tuple) and SPAN._fields == (
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
    )
    assert (SPAN.file, SPAN.line, SPAN.column, SPAN.end_line, SPAN.end_column) == tuple(SPAN)
    assert str(SPAN) == "b.alvh:3:8"
    assert repr(SPAN) == "Span(file='b.alvh', line=3, column=8, end_line=3, end_column=14)"
    with pytest.raises(AttributeError):
        SPAN.line = 4  # type: ignore[misc]
    assert SPAN._replace(file="c.alvh").file == "c.alvh" and SPAN.file == "b.alvh"


def test_cover_is_the_smallest_span_holding_both() -> None:
    covered = FIRST.cover(SPAN)
    assert type(covered) is A.Span
    assert covered == A.Span("b.alvh", 1, 1, 3, 14) == SPAN.cover(FIRST)


def test_a_diagnostic_writes_the_same_json() -> None:
    d = _diagnostic()
    assert d.model_dump_json() == DIAGNOSTIC_JSON
    dumped = d.model_dump()
    assert dumped["span"] == {
        "file": "b.alvh",
        "line": 3,
        "column": 8,
        "end_line": 3,
        "end_column": 14,
    }
    assert list(dumped["span"]) == list(A.Span._fields)
    assert dumped["related"][0]["span"] == FIRST._asdict()


def test_a_diagnostic_reads_back_from_its_json_and_its_dict() -> None:
    d = _diagnostic()
    for back in (
        Diagnostic.model_validate_json(DIAGNOSTIC_JSON),
        Diagnostic.model_validate(d.model_dump()),
        Diagnostic.model_validate(d.model_dump(mode="json")),
    ):
        assert back == d
        assert type(back.span) is A.Span and type(back.fix.span) is A.Span  # type: ignore[union-attr]
        assert type(back.related[0].span) is A.Span


def test_a_span_instance_validates_as_itself() -> None:
    assert Related.model_validate({"span": SPAN, "message": "m"}).span is SPAN


def test_validation_is_the_models() -> None:
    """Lax as the model was (a numeric string is a number), extra and missing keys refused."""
    lax = Related.model_validate({"span": {**SPAN._asdict(), "line": "3"}, "message": "m"})
    assert lax.span == SPAN
    with pytest.raises(ValidationError):
        Related.model_validate({"span": {**SPAN._asdict(), "row": 2}, "message": "m"})
    with pytest.raises(ValidationError):
        Related.model_validate({"span": {"file": "b.alvh", "line": 3}, "message": "m"})
    with pytest.raises(ValidationError):  # a bare tuple is not a span, as it was not
        Related.model_validate({"span": tuple(SPAN), "message": "m"})


def test_the_span_union_picks_span_or_data_span_by_the_keys() -> None:
    text = Diagnostic.model_validate_json(
        f'{{"code":"E1","severity":"error","message":"m","span":{SPAN_JSON}}}'
    )
    assert type(text.span) is A.Span and text.span == SPAN
    data = Diagnostic.model_validate_json(
        '{"code":"E1","severity":"error","message":"m",'
        '"span":{"file":"d.csv","row":4,"column":"VIX","path":null}}'
    )
    assert data.span == DataSpan(file="d.csv", row=4, column="VIX")
    only_file = Diagnostic.model_validate({"code": "E1", "severity": "error", "message": "m",
                                           "span": {"file": "d.csv"}})  # fmt: skip
    assert type(only_file.span) is DataSpan


def test_a_rulebook_writes_and_reads_the_same_json() -> None:
    book = parse(BOOK, "t.alvh").book
    assert book.model_dump_json() == BOOK_JSON
    back = A.Rulebook.model_validate_json(BOOK_JSON)
    assert back == book and hash(back) == hash(book)
    assert all(type(n.span) is A.Span for n in A.walk(back))


def test_nodes_compare_and_hash_by_their_spans() -> None:
    a = parse(BOOK, "t.alvh").book
    b = parse(BOOK, "t.alvh").book
    moved = parse("\n" + BOOK, "t.alvh").book
    assert a == b and hash(a) == hash(b)
    assert a.statements[1] != moved.statements[1]
    assert A.strip_spans(a.statements[1]) == A.strip_spans(moved.statements[1])


def test_spans_and_books_pickle_and_copy() -> None:
    book = parse(BOOK, "t.alvh").book
    for clone in (pickle.loads(pickle.dumps(book)), copy.deepcopy(book)):
        assert clone == book
        assert type(clone.statements[1].span) is A.Span
    assert pickle.loads(pickle.dumps(SPAN)) == SPAN


def test_the_json_schema_of_a_span_is_the_models() -> None:
    schema = diagnostics_schema()["$defs"]["Span"]
    assert schema["title"] == "Span" and schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == list(A.Span._fields)
    assert schema["description"] == (
        "A region of a source file. Lines and columns are 1-based; the end is exclusive."
    )
    assert {k: v["type"] for k, v in schema["properties"].items()} == {
        "file": "string",
        "line": "integer",
        "column": "integer",
        "end_line": "integer",
        "end_column": "integer",
    }
