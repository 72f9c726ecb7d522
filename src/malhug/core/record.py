"""``Record``: value semantics for small immutable classes declared with ``__slots__``.

A frozen dataclass compiles its ``__init__``, ``__eq__``, ``__hash__``, ``__repr__`` and
``__setattr__`` when its module is imported (about 0.3 ms a class), and every cold ``malhug scan``
imports the classes on its path. A ``Record`` subclass writes its ``__init__`` (assigning through
``object.__setattr__``); the other methods are shared: instances are equal when they are of the same
class and every slot is equal, hash by their slots, and refuse assignment.
"""

from __future__ import annotations

from typing import Any


class Record:
    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

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
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"
