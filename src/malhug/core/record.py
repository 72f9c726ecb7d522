"""``Record`` and ``MutableRecord``: dataclass-like value classes that cost nothing to create.

A dataclass compiles its ``__init__``, ``__eq__``, ``__hash__``, ``__repr__`` (and for a frozen one
``__setattr__``) when its module is imported: about 0.3 ms a class, which every cold ``malhug scan``
pays for every class on its path. A subclass here writes its own ``__init__``; the other methods
are shared.

- ``Record``: immutable, declared with ``__slots__`` (its fields, in ``__init__``'s parameter order);
  ``__init__`` assigns through ``object.__setattr__``. Equal when of the same class with equal
  fields, hashable, copied and pickled as ``cls(*fields)``.
- ``MutableRecord``: fields listed in ``_fields``; equal when of the same class with equal fields,
  unhashable (as a mutable dataclass).

Both have ``replace(**changes)``, the counterpart of ``dataclasses.replace``.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

_R = TypeVar("_R", bound="Record")
_M = TypeVar("_M", bound="MutableRecord")


def _repr(obj: object, fields: tuple[str, ...]) -> str:
    inner = ", ".join(f"{name}={getattr(obj, name)!r}" for name in fields)
    return f"{type(obj).__name__}({inner})"


class Record:
    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def replace(self: _R, **changes: Any) -> _R:
        """A copy with ``changes`` applied (``__init__`` validates them as for a new record)."""
        values = dict(zip(self.__slots__, self._values(), strict=True))
        values.update(changes)
        return type(self)(**values)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self) -> tuple[type[Record], tuple[Any, ...]]:
        return (type(self), self._values())

    def __repr__(self) -> str:
        return _repr(self, self.__slots__)


class MutableRecord:
    _fields: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def replace(self: _M, **changes: Any) -> _M:
        """A copy with ``changes`` applied (mutable fields are shared with this record, as with
        ``dataclasses.replace``)."""
        values = dict(zip(self._fields, self._values(), strict=True))
        values.update(changes)
        return type(self)(**values)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, MutableRecord)
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable: unhashable, as a mutable dataclass

    def __repr__(self) -> str:
        return _repr(self, self._fields)
