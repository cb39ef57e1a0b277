"""attrs classes that are standard-library dataclasses too.

The official SDK's option and result classes are dataclasses, and code written for it
calls :func:`dataclasses.asdict`, :func:`dataclasses.replace` and :func:`dataclasses.fields` on
them (the official client itself sends ``asdict(agent_definition)``). trio-claude's equivalents
are attrs classes (frozen, slotted, with converters and validators), which those functions
reject. :func:`dataclass_compatible` makes such a class a real dataclass as well: the standard
library records its fields (``__dataclass_fields__``, from the class's annotations, in attrs'
order), while attrs keeps generating and owning ``__init__``, ``__eq__``, ``__hash__``,
``__repr__`` and immutability. So:

- ``dataclasses.is_dataclass(obj)`` is true and ``dataclasses.fields(obj)`` lists the attributes;
- ``dataclasses.asdict(obj)`` gives ``{attribute: value}`` (attribute names, recursively for
  nested dataclasses), ``dataclasses.astuple(obj)`` the values;
- ``dataclasses.replace(obj, **changes)`` builds a new instance through ``__init__`` (attrs'
  converters and validators run), like ``attrs.evolve``;
- ``attrs.fields``, ``attrs.evolve`` and cattrs keep working as before.

The dataclass fields have no defaults (attrs keeps those), so ``dataclasses.fields(cls)[i]
.default`` is ``MISSING``: read defaults from ``attrs.fields(cls)``.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar, cast

import attrs

__all__ = ["dataclass_compatible"]

C = TypeVar("C", bound=type)


def dataclass_compatible(cls: C) -> C:
    """Register an attrs class as a dataclass too, keeping every attrs-generated method.

    Apply it above the attrs decorator::

        @dataclass_compatible
        @attrs.frozen
        class Thing: ...

    Args:
        cls: An attrs class whose attributes are all ``__init__`` arguments under their own
            names (no ``init=False`` or aliased fields: ``dataclasses.replace`` passes every
            field to ``__init__`` by name).

    Returns:
        The same class, now also a dataclass.

    Raises:
        TypeError: ``cls`` is not an attrs class, or an attribute is not an ``__init__``
            argument under its own name.
    """
    if not attrs.has(cls):
        raise TypeError(f"{cls.__name__} is not an attrs class")
    for field in attrs.fields(cls):
        if not field.init or field.alias != field.name:
            raise TypeError(
                f"{cls.__name__}.{field.name} is not an __init__ argument of the same name"
            )
    # init/repr/eq False: attrs' methods stay; not frozen: attrs' __setattr__ already refuses.
    decorated = dataclasses.dataclass(init=False, repr=False, eq=False, match_args=False)(cls)
    return cast(C, decorated)
