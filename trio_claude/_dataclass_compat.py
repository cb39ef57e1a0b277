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

:class:`ListTuple` is the value of the fields that are lists in the official dataclasses
(``ClaudeAgentOptions.allowed_tools``, ...): frozen and hashable like a tuple, it also does what
official code does with those lists short of changing them (``+ [...]``, ``== [...]``,
``.copy()``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar, cast

import attrs

__all__ = ["EMPTY_LIST_TUPLE", "ListTuple", "dataclass_compatible", "list_tuple"]

C = TypeVar("C", bound=type)
T = TypeVar("T")


def dataclass_compatible(cls: C) -> C:
    """Register an attrs class as a dataclass too, keeping every attrs-generated method.

    Apply it above the attrs decorator::

        @dataclass_compatible
        @attrs.frozen
        class Thing: ...

    Args:
        cls: An attrs class whose ``__init__`` arguments have their attributes' names (no
            aliased fields: ``dataclasses.replace`` passes every field to ``__init__`` by
            name). An ``init=False`` attribute is a dataclass field with ``init=False`` too:
            ``dataclasses.replace`` leaves it to ``__init__``.

    Returns:
        The same class, now also a dataclass.

    Raises:
        TypeError: ``cls`` is not an attrs class, or an attribute is not an ``__init__``
            argument under its own name.
    """
    if not attrs.has(cls):
        raise TypeError(f"{cls.__name__} is not an attrs class")
    for field in attrs.fields(cls):
        if field.init and field.alias != field.name:
            raise TypeError(
                f"{cls.__name__}.{field.name} is not an __init__ argument of the same name"
            )
    # init/repr/eq False: attrs' methods stay; not frozen: attrs' __setattr__ already refuses.
    decorated = dataclasses.dataclass(init=False, repr=False, eq=False, match_args=False)(cls)
    dataclass_fields = decorated.__dataclass_fields__  # type: ignore[attr-defined]
    for field in attrs.fields(cls):
        if not field.init and field.name in dataclass_fields:
            dataclass_fields[field.name].init = False
    return cast(C, decorated)


# The list methods that change the list: a frozen option's value has none of them.
_MUTATORS = frozenset({"append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse"})


class ListTuple(tuple[T, ...], Generic[T]):
    """The value of an option that is a list in the official SDK's dataclass.

    Options are frozen (and hashable), so the value is a tuple; it is a tuple that also takes
    part in what official code does with such a list without changing it:

    - ``value + ["x"]`` and ``["x"] + value`` give a ``list`` (as the official list does), so
      ``dataclasses.replace(options, allowed_tools=options.allowed_tools + ["Write"])`` works;
      with a tuple, the result is a tuple;
    - ``value == ["a", "b"]`` is true when the items are equal (a tuple is never equal to a
      list); the hash is the tuple's;
    - ``value.copy()`` is a new ``list`` of the items, to change and pass back.

    The list methods that change it in place (``append``, ``extend``, ...) raise
    ``AttributeError`` saying how to make a changed copy.
    """

    __slots__ = ()

    def __add__(self, other: Any) -> Any:
        if isinstance(other, list):
            return [*self, *other]
        if isinstance(other, tuple):
            return (*self, *other)
        return NotImplemented

    def __radd__(self, other: Any) -> Any:
        if isinstance(other, list):
            return [*other, *self]
        if isinstance(other, tuple):
            return (*other, *self)
        return NotImplemented

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            return tuple.__eq__(self, tuple(other))
        return tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = tuple.__hash__

    def copy(self) -> list[T]:
        """The items as a new ``list`` (``list.copy()`` of the official list)."""
        return list(self)

    if not TYPE_CHECKING:  # (seen by a type checker, every attribute would be NoReturn)

        def __getattr__(self, name: str) -> NoReturn:
            if name in _MUTATORS:
                raise AttributeError(
                    f"{name}(): options are frozen and their list fields are tuples; make a new "
                    "value instead, e.g. options = dataclasses.replace(options, "
                    "allowed_tools=[*options.allowed_tools, 'Write'])"
                )
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


#: The empty :class:`ListTuple`, shared (the default of the list options).
EMPTY_LIST_TUPLE: ListTuple[Any] = ListTuple()


def list_tuple(values: Iterable[T]) -> ListTuple[T]:
    """``values`` as a :class:`ListTuple` (itself if it is one; the shared one if empty).

    Raises:
        TypeError: ``values`` is not iterable.
    """
    if type(values) is ListTuple:
        return values
    result = ListTuple(values)
    return result if result else EMPTY_LIST_TUPLE
