"""The one base class of every Python object that owns a native handle.

The core does the synchronisation (see `rust/ffi/handle.rs`): every call on a
handle is serialized by the handle's own lock, `pyrt_<thing>_close` waits for
a call in flight and makes every later call fail with `PYRT_CLOSED`, and the
handle's memory is released by `pyrt_<thing>_free`, which only the garbage
collector calls here (through `ffi.gc`), once no thread can be inside a call
on it. So `close()` from one thread while another is inside `push` or
`update` is safe: the call finishes, later calls raise "closed".

Copies: `copy.copy`/`copy.deepcopy` of a handle make no second owner of one
native object. A class that can duplicate its state (a streaming indicator)
overrides `_duplicate`; every other handle refuses with `TypeError`. Handles do
not pickle (they live in this process); streams carry `to_bytes()` instead.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ._core import ffi

__all__ = ["Handle"]


class Handle:
    """Owns one native handle: `close()`, `with`, explicit copy semantics."""

    __slots__ = ("_ptr", "_closed", "__weakref__")
    # The compiled `pyrt_<thing>_close` and `pyrt_<thing>_free` of the subclass.
    _close_fn: ClassVar[Any] = None
    _free_fn: ClassVar[Any] = None

    def _adopt(self, raw: Any) -> None:
        """Takes ownership of a pointer fresh from a `_new`/`_open`/`_load` call."""
        self._ptr = ffi.gc(raw, type(self)._free_fn)
        self._closed = False

    def close(self) -> None:
        """Releases the native object now (idempotent). A call running on
        another thread finishes first; every later call raises ValueError
        ("... is closed")."""
        ptr = getattr(self, "_ptr", None)
        if ptr is not None:
            self._closed = True
            type(self)._close_fn(ptr)

    @property
    def closed(self) -> bool:
        """True once `close()` was called."""
        return getattr(self, "_closed", True)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _duplicate(self) -> "Handle":
        raise TypeError(
            f"{type(self).__name__} cannot be copied: it owns a native "
            f"{type(self).__name__} handle, and a copy would be a second owner of it")

    def __copy__(self) -> "Handle":
        return self._duplicate()

    def __deepcopy__(self, memo: Any) -> "Handle":
        return self._duplicate()

    def __reduce__(self) -> Any:
        raise TypeError(f"cannot pickle {type(self).__name__}: it owns a handle of this process")
