"""Building a pydantic model from values that are right by construction, without validation.

The parser builds every node of a book (hundreds of thousands for a large
one), and the dry-run builds a :class:`~alvh_dsl.lang.state.State` every
simulated day; both already know their values are valid, so validating them
again would cost more than the work itself. :func:`construct` is the one way
the project does that, for the AST and the state models alike.

It produces exactly what :meth:`pydantic.BaseModel.model_construct` produces
(the same ``__dict__`` contents, fields-set, extra and private slots, defaults
and default factories), for less: ``model_construct`` is general (aliases,
``extra="allow"``, private attributes, post-init hooks) and walks every field
on every call, while :func:`construct` works out each class's defaults once
and refuses, with a :class:`TypeError`, any model that uses one of those
features. ``tests/test_ast.py`` holds it to ``model_construct`` for every AST
and state model; ``python benchmarks/bench_language.py`` (d) times the two
side by side on every node of a 5,000-rule book (about 0.6–0.8× here), and
(b) the parser built on it.

Use it only for values already valid (the parser's shapes, the simulator's
numbers); anything from outside goes through ``model_validate``. A
:class:`~alvh_dsl.lang.ast.Span` is a named tuple, not a model (decision 91): it is
made by calling it, and ``construct`` refuses it.
"""

from __future__ import annotations

import copy
import functools
import sys
from collections.abc import Callable
from typing import TypeVar, cast

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_IMMUTABLE = (type(None), bool, int, float, str, bytes, frozenset)

# Per class: the defaults to copy in, and the fields whose default is made per instance.
_Plan = tuple[dict[str, object], tuple[tuple[str, Callable[[], object]], ...]]
_PLANS: dict[type[BaseModel], _Plan] = {}

_new = object.__new__
_set = object.__setattr__

# The slots every pydantic model has, set through their descriptors' own ``__set__``
# (cheaper than ``object.__setattr__``, which looks the name up on every call): for the
# code that builds many nodes by hand on a hot path (the fast parser, the language
# server's moved statements), holding the same contents as :func:`construct` gives.
_SLOTS = BaseModel.__dict__
set_dict: Callable[[object, object], None] = _SLOTS["__dict__"].__set__
set_fields_set: Callable[[object, object], None] = _SLOTS["__pydantic_fields_set__"].__set__
set_extra: Callable[[object, object], None] = _SLOTS["__pydantic_extra__"].__set__
set_private: Callable[[object, object], None] = _SLOTS["__pydantic_private__"].__set__


def construct(cls: type[M], **fields: object) -> M:
    """An instance of ``cls`` holding ``fields`` (and the defaults of the rest), unvalidated.

    Equivalent to ``cls.model_construct(**fields)``; see the module docstring
    for when to use it and which models it accepts.
    """
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _plan(cls)
    defaults, factories = plan
    obj = _new(cls)
    values = defaults.copy()
    values.update(fields)
    for name, factory in factories:
        if name not in fields:
            values[name] = factory()
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", set(fields))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


def _plan(cls: type[BaseModel]) -> _Plan:
    """Defaults and default factories of ``cls``, after checking the fast path applies."""
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        raise TypeError(f"construct() builds pydantic models, not {cls!r}: call it instead")
    problem = _unsupported(cls)
    if problem:
        raise TypeError(f"construct() cannot build {cls.__name__}: it {problem}")
    defaults: dict[str, object] = {}
    factories: list[tuple[str, Callable[[], object]]] = []
    for name, info in cls.model_fields.items():
        if info.is_required():
            continue
        if info.default_factory is not None:
            if info.default_factory_takes_validated_data:
                raise TypeError(f"construct() cannot build {cls.__name__}: `{name}`'s factory")
            factories.append((name, cast(Callable[[], object], info.default_factory)))
        elif _is_immutable(info.default):
            defaults[name] = info.default
        else:  # as model_construct does: a fresh copy of a mutable default each time
            factories.append((name, functools.partial(copy.deepcopy, info.default)))
    return defaults, tuple(factories)


def _unsupported(cls: type[BaseModel]) -> str | None:
    # Importing pydantic.RootModel builds a schema (tens of milliseconds at start-up);
    # a root model cannot exist unless its module was imported, so look it up instead.
    root_model = sys.modules.get("pydantic.root_model")
    if root_model is not None and issubclass(cls, root_model.RootModel):
        return "is a root model"
    if cls.model_config.get("extra") == "allow":
        return 'allows extra fields (extra="allow")'
    if cls.__private_attributes__:
        return "has private attributes"
    if cls.model_post_init is not BaseModel.model_post_init:
        return "has a model_post_init hook"
    for name, info in cls.model_fields.items():
        if info.alias not in (None, name) or info.validation_alias not in (None, name):
            return f"gives field `{name}` an alias"
    return None


def _is_immutable(value: object) -> bool:
    if isinstance(value, tuple):
        return all(_is_immutable(v) for v in value)
    return isinstance(value, _IMMUTABLE)


__all__ = ["construct", "set_dict", "set_extra", "set_fields_set", "set_private"]
