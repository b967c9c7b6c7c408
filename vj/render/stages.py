"""Stages of a render on their own threads, joined by bounded queues, so decoding, analysis, the net,
the look and encoding overlap instead of taking turns.

The heavy work in each stage (torch, FFmpeg, the GL driver) runs outside Python's lock, so threads are
enough; a bounded queue keeps a fast stage from running far ahead, and an error in any stage comes out
where the render waits for it, as that error.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()
_POLL_S = 0.1


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


class Ahead(Generic[T]):
    """Iterates ``items`` on a thread, up to ``depth`` items ahead of the reader."""

    def __init__(self, items: Iterable[T], depth: int, name: str):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(items,), name=name, daemon=True)
        self._thread.start()

    def _run(self, items: Iterable[T]) -> None:
        try:
            for item in items:
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the reader, who raises it
            self._put(_Failed(error))

    def _put(self, item: object) -> bool:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item

    def close(self) -> None:
        """Stop the thread after the item it is on (it may be blocked in a slow step: not waited for)."""
        self._closed.set()


class Behind(Generic[T]):
    """Calls ``consume(item)`` on a thread for each item `put`, at most ``depth`` waiting."""

    def __init__(self, consume: Callable[[T], None], depth: int, name: str):
        self._consume = consume
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not _DONE:
            if self._error is None:
                try:
                    self._consume(item)
                except BaseException as error:  # noqa: BLE001 - raised by the next put or by finish
                    self._error = error

    def put(self, item: T) -> None:
        self._raise()
        self._queue.put(item)

    def finish(self) -> None:
        """Wait until every item put is consumed; raise what consuming one raised."""
        self._queue.put(_DONE)
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
