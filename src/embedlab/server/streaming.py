"""Run a blocking iterator (a chat model generating tokens) in a worker thread and consume
it from the event loop, so the server keeps answering other requests while one streams.

:func:`thread_iter` hands each item over an :class:`asyncio.Queue`; when the consumer stops
early (the client went away, or an error), the producer is told to stop at its next item
and the iterator is closed in its own thread (a ``finally`` in a generator runs there).
:func:`ndjson` and :func:`sse` frame events the way Ollama and OpenAI stream them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

__all__ = ["ndjson", "sse", "thread_iter"]

T = TypeVar("T")

_DONE = object()
#: items buffered between the worker and the loop before the worker waits (back-pressure).
QUEUE_SIZE = 256


def thread_iter(make: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
    """Iterate ``make()`` in a new worker thread; yield its items on the event loop.

    An exception raised by the iterator (or by ``make``) is re-raised to the consumer after
    the items that came before it.

    :param make: builds the blocking iterator; called in the worker thread.
    """
    return _ThreadIter(make).run()


class _ThreadIter:
    def __init__(self, make: Callable[[], Iterator[Any]]) -> None:
        self.make = make
        self.stop = threading.Event()

    def _produce(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any]) -> None:
        def put(item: Any) -> bool:
            """Hand ``item`` over (waiting while the queue is full); ``False`` once the
            consumer has stopped or its loop has closed."""
            if self.stop.is_set() or loop.is_closed():
                return False
            coro = queue.put(item)
            try:
                fut = asyncio.run_coroutine_threadsafe(coro, loop)
            except RuntimeError:  # the loop closed meanwhile
                coro.close()
                return False
            while True:
                try:
                    fut.result(timeout=0.5)
                    return True
                except concurrent.futures.TimeoutError:
                    if self.stop.is_set() or loop.is_closed():
                        with contextlib.suppress(RuntimeError):  # a closed loop
                            fut.cancel()
                        return False
                except concurrent.futures.CancelledError:
                    return False

        it: Iterator[Any] | None = None
        try:
            it = self.make()
            for item in it:
                if not put(item):
                    break
            else:
                put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(_Raised(exc))
        finally:
            close = getattr(it, "close", None)
            if callable(close):
                close()

    async def run(self) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue(QUEUE_SIZE)
        worker = threading.Thread(
            target=self._produce, args=(loop, queue), name="embedlab-generate", daemon=True
        )
        worker.start()
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, _Raised):
                    raise item.exc
                yield item
        finally:
            self.stop.set()
            while not queue.empty():  # unblock a worker waiting on a full queue
                queue.get_nowait()


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def ndjson(event: Any) -> bytes:
    """One event as a line of JSON (Ollama's streaming format)."""
    return (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def sse(event: Any) -> bytes:
    """One event as a server-sent event (OpenAI's streaming format); ``"[DONE]"`` as is."""
    data = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
    return f"data: {data}\n\n".encode()
