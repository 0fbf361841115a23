"""The pydantic schema of :class:`~alvh_dsl.lang.ast.Span`, a named tuple that reads and
writes as the JSON object it was when it was a model.

A span is a :class:`typing.NamedTuple` (decision 91), which pydantic on its own would
validate from, and serialize to, a JSON array. Every output that holds one (``alvh
check --format json`` and ``sarif``, ``alvh parse --json``, the language server's
messages, ``alvh schema --diagnostics``) must stay byte-identical, so the schema here
is the model's: a typed dict of the five fields in order, extra keys refused, lax
coercion as a model has; a span instance passes as itself (as a model instance does,
unrevalidated); and it serializes, in Python and JSON mode alike, to the dict of its
five fields, under the same ``$defs/Span`` JSON Schema (title, description, required).
"""

from __future__ import annotations

from typing import Any

from pydantic_core import CoreSchema, core_schema


def span_schema(cls: type[Any]) -> CoreSchema:
    """The core schema of the named tuple ``cls`` (``Span``), as a model of its fields."""
    fields = {
        name: core_schema.typed_dict_field(
            core_schema.str_schema() if name == "file" else core_schema.int_schema()
        )
        for name in cls._fields
    }
    as_dict = core_schema.typed_dict_schema(
        fields, cls=cls, extra_behavior="forbid", ref=f"{cls.__module__}.{cls.__qualname__}"
    )

    def from_dict(value: dict[str, Any]) -> Any:
        return cls(**value)

    def to_dict(span: Any) -> dict[str, Any]:
        return span._asdict()  # type: ignore[no-any-return]

    from_json = core_schema.no_info_after_validator_function(from_dict, as_dict)
    return core_schema.json_or_python_schema(
        json_schema=from_json,
        python_schema=core_schema.union_schema(
            [core_schema.is_instance_schema(cls), from_json], mode="left_to_right"
        ),
        serialization=core_schema.plain_serializer_function_ser_schema(
            to_dict, return_schema=as_dict
        ),
    )


__all__ = ["span_schema"]
