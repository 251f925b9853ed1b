"""Timing helpers: single-query latency measured on one thread.

On a shared machine, FAISS's OpenMP threads, the BLAS threads numpy uses and torch's
intra-op threads wait on each other, and one small query can take 100x longer than its work
(measured here under load: MiniLM embedding one query took ~1.4 s on 2 torch threads and
~25 ms on one). Latency per query is measured
with both pinned to one thread (a server answering many queries at once would run one query
per core the same way).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def one_thread() -> Iterator[None]:
    """Pin FAISS, the BLAS libraries and torch (when loaded) to one thread for the duration."""
    import faiss

    before = faiss.omp_get_max_threads()
    torch = sys.modules.get("torch")
    torch_before = torch.get_num_threads() if torch is not None else None
    with ExitStack() as stack:
        try:
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(limits=1))
        except ImportError:  # pragma: no cover - comes with scikit-learn
            pass
        faiss.omp_set_num_threads(1)
        if torch is not None:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            faiss.omp_set_num_threads(before)
            if torch is not None and torch_before is not None:
                torch.set_num_threads(torch_before)


def timed_calls(fn: Callable[[int], T], n: int, sample: int) -> tuple[list[T], float]:
    """``[fn(0), ..., fn(n-1)]`` on one thread, and the median milliseconds of the first
    ``sample`` calls (after one warm-up call of ``fn(0)``)."""
    out: list[T] = []
    times: list[float] = []
    with one_thread():
        if n:
            fn(0)
        for i in range(n):
            start = time.perf_counter()
            out.append(fn(i))
            if i < sample:
                times.append(time.perf_counter() - start)
    return out, 1000 * statistics.median(times) if times else 0.0


__all__ = ["one_thread", "timed_calls"]
