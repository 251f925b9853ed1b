"""``thread_iter``: a blocking iterator consumed from the event loop (how answers stream
while the server keeps serving): items in order, errors after the items that came before,
and a consumer that stops early stops and closes the producer in its own thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from embedlab.errors import ChatStreamError
from embedlab.server.streaming import ndjson, sse, thread_iter
from tests.conftest import run_async


def test_items_in_order_then_the_error() -> None:
    threads: list[str] = []

    def produce() -> Iterator[int]:
        threads.append(threading.current_thread().name)
        yield 1
        yield 2
        raise ChatStreamError("cut off", partial="12")

    async def consume() -> list[int]:
        got = []
        with pytest.raises(ChatStreamError, match="cut off"):
            async for item in thread_iter(produce):
                got.append(item)
        return got

    assert run_async(consume) == [1, 2]
    assert threads == ["embedlab-generate"]  # not the event loop's thread


def test_an_early_stop_closes_the_producer() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def produce() -> Iterator[int]:
        try:
            for i in range(1000):
                produced.append(i)
                time.sleep(0.005)
                yield i
        finally:
            closed.set()

    async def consume() -> None:
        async for item in thread_iter(produce):
            if item == 2:
                break  # the client went away

    run_async(consume)
    assert closed.wait(5), "the producer was never closed"
    assert len(produced) < 50  # it stopped soon after, instead of running to the end


def test_the_loop_keeps_running_while_the_producer_blocks() -> None:
    def produce() -> Iterator[str]:
        time.sleep(0.3)  # a slow first token: blocking, but not on the loop
        yield "a"

    async def main() -> tuple[int, list[str]]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        got = [x async for x in thread_iter(produce)]
        ticker.cancel()
        return ticks, got

    ticks, got = run_async(main)
    assert got == ["a"] and ticks >= 10


def test_frames() -> None:
    assert ndjson({"a": "é"}) == '{"a":"é"}\n'.encode()
    assert sse({"a": 1}) == b'data: {"a": 1}\n\n' and sse("[DONE]") == b"data: [DONE]\n\n"
