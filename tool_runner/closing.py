"""`Closing`: context-manager support for the classes that own native handles or threads."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

_Self = TypeVar("_Self", bound="Closing")


class Closing:
    """A base for classes with `close()`: `with` closes them on the way out."""

    def close(self) -> None:
        """Release what this object owns; closing twice is harmless."""

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
