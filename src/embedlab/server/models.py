"""The model pool behind every route: shared encoders and request batching.

:class:`ModelPool` loads the default model at start (in a worker thread, so the event loop
keeps answering) and any other model on first use. ``await pool.embed(model, texts, role)``
puts the request on that model's queue; requests that arrive while the model is busy, or
within a few milliseconds of each other, are merged into one ``encoder.embed`` call run in
a worker thread, and each caller gets its own rows back. One big call keeps the CPU busy
with one well-filled batch instead of many small ones that fight over the cores.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embedlab import settings
from embedlab.errors import (
    BatchTooLargeError,
    ModelNotInstalledError,
    ServerBusyError,
    UnknownModelError,
)
from embedlab.models import Encoder, load_model
from embedlab.models.base import as_text_list, check_role
from embedlab.models.registry import PREFIXES, find_spec, is_installed, known_names
from embedlab.server.access import AccessPolicy

__all__ = ["EmbedOutcome", "ModelPool", "PoolStats", "configure_threads", "get_pool"]

#: how long (seconds) an idle queue waits for more requests before it runs a batch.
BATCH_WINDOW_S = 0.004
#: the most texts merged into one encoder call.
MAX_MERGED_TEXTS = 512
#: merged batches of one model that may run at once (each in its own worker thread).
MAX_INFLIGHT = 2
#: a second batch starts beside a running one only with at least this many texts waiting.
MIN_PARALLEL_TEXTS = 8
#: texts that may wait for one model before new requests get a 503 (a bounded queue).
MAX_QUEUED_TEXTS = 4096


@dataclass(frozen=True)
class EmbedOutcome:
    """What one request got back.

    :param vectors: float32 ``(len(texts), dims)``, rows in the caller's order.
    :param encoder: the encoder that made them.
    :param load_seconds: time this request waited for the model to load (0 when loaded).
    :param inference_seconds: duration of the encoder call that embedded the request's
        texts (shared with the requests merged into the same call).
    :param queue_seconds: time spent waiting for the batch to start.
    :param batch_texts: how many texts that encoder call embedded in all.
    :param tokens: tokens per text with the model's tokenizer (``None``: it has none).
    """

    vectors: np.ndarray
    encoder: Encoder
    load_seconds: float
    inference_seconds: float
    queue_seconds: float
    batch_texts: int
    tokens: list[int] | None = None

    def token_total(self) -> int:
        """Tokens of all the texts (words when the model has no tokenizer)."""
        return sum(self.tokens) if self.tokens is not None else 0

    def timing(self) -> dict[str, float]:
        """Milliseconds, as every route reports them: inference and model load apart."""
        return {
            "inference_ms": round(1000 * self.inference_seconds, 3),
            "load_ms": round(1000 * self.load_seconds, 3),
            "queue_ms": round(1000 * self.queue_seconds, 3),
        }


@dataclass
class PoolStats:
    """Counters that show whether batching happens (the tests and benchmark read them)."""

    requests: int = 0
    encoder_calls: int = 0
    texts: int = 0
    max_requests_merged: int = 0
    rejected: int = 0


@dataclass
class _Job:
    texts: list[str]
    role: str
    future: asyncio.Future[tuple[np.ndarray, float, int]]
    queued_at: float = field(default_factory=time.perf_counter)


@dataclass
class _Queue:
    """Pending jobs of one model, and whether a drain task is working on them."""

    jobs: list[_Job] = field(default_factory=list)
    draining: bool = False
    inflight: int = 0


class ModelPool:
    """Encoders shared by all routes, with per-model request batching.

    :param default: the model used when a request names none.
    :param preload: models to load when the app starts (the default is always among them).
    :param batching: merge concurrent requests for one model (turn off to measure the gain).
    :param max_batch: the most texts one request may carry (the ``max_batch`` setting).
    :param window_s: how long an idle queue waits for more requests before running.
    :param max_inflight: merged batches of one model that may run at once; also the
        number of encoder threads (unbatched requests queue for them too).
    :param max_queued: texts that may wait for one model; beyond, requests get a 503.
    :param policy: what requests may name (default: the catalogue, trained models in
        embedlab's home, and ``preload``); see :mod:`embedlab.server.access`.
    """

    def __init__(
        self,
        default: str | None = None,
        preload: Sequence[str] = (),
        *,
        batching: bool = True,
        max_batch: int | None = None,
        window_s: float = BATCH_WINDOW_S,
        max_inflight: int = MAX_INFLIGHT,
        max_queued: int = MAX_QUEUED_TEXTS,
        policy: AccessPolicy | None = None,
    ) -> None:
        self.default = default or settings.get("model")
        self.preload = list(dict.fromkeys([self.default, *preload]))
        for name in self.preload:  # fail at start, not on the first request
            check_model_name(name)
        self.policy = policy or AccessPolicy(tuple(self.preload))
        self.batching = batching
        self.max_batch = int(max_batch or settings.get("max_batch"))
        self.window_s = window_s
        self.max_inflight = max(1, max_inflight)
        self.max_queued = max_queued
        # encoder calls run on their own few threads (batched or not), so a burst of
        # requests never oversubscribes the cores with dozens of concurrent model calls
        self._executor = ThreadPoolExecutor(self.max_inflight, thread_name_prefix="embedlab-encode")
        self.stats = PoolStats()
        self._encoders: dict[str, Encoder] = {}
        self._queues: dict[str, _Queue] = {}
        self._loading: dict[str, asyncio.Future[Encoder]] = {}
        #: load options per remote backend the operator configured ({"ollama": {"base_url": ...}})
        self.remote_options: dict[str, dict[str, Any]] = {}

    # --- loading ---------------------------------------------------------------------

    def loaded(self) -> list[str]:
        """Names of the models loaded so far."""
        return list(self._encoders)

    def start(self) -> None:
        """Begin loading the preload models in worker threads (call inside the event loop)."""
        for name in self.preload:
            self._load_future(name)

    def _load_future(self, name: str) -> asyncio.Future[Encoder]:
        fut = self._loading.get(name)
        loop = asyncio.get_running_loop()
        if fut is None or fut.get_loop() is not loop or (fut.done() and fut.exception()):
            options = self.remote_options.get(name.partition(":")[0].lower(), {})
            fut = loop.run_in_executor(None, functools.partial(load_model, name, **options))
            fut.add_done_callback(lambda f: f.cancelled() or f.exception())  # no "never retrieved"
            self._loading[name] = fut
        return fut

    async def encoder(
        self, name: str | None = None, *, trusted: bool = False
    ) -> tuple[Encoder, float]:
        """The encoder for ``name`` (the default when ``None``) and seconds spent waiting
        for it to load (0 when it was already loaded).

        :param trusted: ``name`` comes from the operator's own store (an index's model),
            not from a request, so the access policy does not apply.
        :raises AccessDeniedError: a request named a path, a foreign folder or a remote model.
        :raises UnknownModelError: no such model (the message lists the known ones).
        :raises ModelNotInstalledError: its package is missing (the message says what to install).
        """
        if not trusted:
            name = self.policy.model(name)
        name = name or self.default
        if name in self._encoders:
            return self._encoders[name], 0.0
        start = time.perf_counter()
        enc = await self._load_future(name)
        self._encoders[name] = enc
        return enc, time.perf_counter() - start

    # --- embedding -------------------------------------------------------------------

    def check_batch(self, n: int) -> None:
        """Raise :class:`BatchTooLargeError` when a request carries more than ``max_batch`` texts."""
        if n > self.max_batch:
            raise BatchTooLargeError(
                f"The request holds {n} texts; this server accepts at most {self.max_batch} "
                "per request (setting EMBEDLAB_MAX_BATCH). Split it into smaller requests."
            )

    async def embed(
        self,
        model: str | None,
        texts: str | Sequence[str],
        role: str = "document",
        *,
        trusted: bool = False,
    ) -> np.ndarray:
        """Embed ``texts`` with ``model``: float32 ``(n, dims)``; see :meth:`embed_detailed`."""
        return (await self.embed_detailed(model, texts, role, trusted=trusted)).vectors

    async def embed_detailed(
        self,
        model: str | None,
        texts: str | Sequence[str],
        role: str = "document",
        *,
        truncate: bool = True,
        trusted: bool = False,
    ) -> EmbedOutcome:
        """Embed ``texts`` with ``model`` through the model's batching queue.

        :param truncate: when ``False``, a text over the model's token limit raises
            :class:`~embedlab.errors.TextTooLongError` naming the limit.
        :param trusted: as for :meth:`encoder`.
        :raises EmptyInputError, InputError, BatchTooLargeError: bad input, before any work.
        """
        items = as_text_list(texts)
        check_role(role)
        self.check_batch(len(items))
        enc, load_s = await self.encoder(model, trusted=trusted)
        tokens = enc.count_tokens(items, role)
        if not truncate:
            enc.check_length(items, role, counts=tokens)
        self.stats.requests += 1
        if not self.batching:
            start = time.perf_counter()
            vecs = await self._run(enc.embed, items, role)
            took = time.perf_counter() - start
            self._count_call(len(items), 1)
            return EmbedOutcome(vecs, enc, load_s, took, 0.0, len(items), tokens)
        fut: asyncio.Future[tuple[np.ndarray, float, int]] = (
            asyncio.get_running_loop().create_future()
        )
        job = _Job(items, role, fut)
        queue = self._queues.setdefault(enc.info.name, _Queue())
        waiting = sum(len(j.texts) for j in queue.jobs)
        if waiting + len(items) > self.max_queued:
            self.stats.rejected += 1
            raise ServerBusyError(
                f"{waiting} texts are already waiting for {enc.info.name} (the queue holds "
                f"{self.max_queued}). Try again in a moment, or send fewer requests at once."
            )
        queue.jobs.append(job)
        if not queue.draining:
            queue.draining = True
            asyncio.get_running_loop().create_task(self._drain(enc, queue))
        vecs, took, batch_texts = await fut
        queued = max(0.0, time.perf_counter() - job.queued_at - took)
        return EmbedOutcome(vecs, enc, load_s, took, queued, batch_texts, tokens)

    async def _run(self, fn: Callable[..., np.ndarray], *args: Any) -> np.ndarray:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _count_call(self, texts: int, requests: int) -> None:
        self.stats.encoder_calls += 1
        self.stats.texts += texts
        self.stats.max_requests_merged = max(self.stats.max_requests_merged, requests)

    async def _drain(self, enc: Encoder, queue: _Queue) -> None:
        """Start merged batches until the queue is empty (one drain task per model at a time).

        At most ``max_inflight`` batches run at once; the pending texts are split evenly over
        the free slots, so two cores each get a well-filled batch.
        """
        try:
            await asyncio.sleep(self.window_s)
            while queue.jobs:
                free = self.max_inflight - queue.inflight
                pending = sum(len(job.texts) for job in queue.jobs)
                if free <= 0 or (queue.inflight and pending < MIN_PARALLEL_TEXTS):
                    # busy, or too few texts to be worth a second batch: let more arrive
                    await asyncio.sleep(0.002)
                    continue
                # split over the free slots only when each part is still a good batch
                split = free if pending >= 2 * MIN_PARALLEL_TEXTS else 1
                cap = max(1, min(MAX_MERGED_TEXTS, -(-pending // split)))
                batch = _take_batch(queue.jobs, cap)
                queue.inflight += 1
                asyncio.get_running_loop().create_task(self._run_batch(enc, batch, queue))
        finally:
            queue.draining = False

    async def _run_batch(self, enc: Encoder, batch: list[_Job], queue: _Queue) -> None:
        texts = [t for job in batch for t in job.texts]
        start = time.perf_counter()
        try:
            vecs = await self._run(enc.embed, texts, batch[0].role)
        except Exception as exc:  # every caller of the batch gets the error
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        finally:
            queue.inflight -= 1
        took = time.perf_counter() - start
        self._count_call(len(texts), len(batch))
        row = 0
        for job in batch:
            n = len(job.texts)
            if not job.future.done():
                job.future.set_result((vecs[row : row + n], took, len(texts)))
            row += n

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary: default, loaded models, batching counters."""
        return {
            "default": self.default,
            "loaded": self.loaded(),
            "batching": self.batching,
            "max_batch": self.max_batch,
            "stats": vars(self.stats).copy(),
        }


def _take_batch(jobs: list[_Job], cap: int = MAX_MERGED_TEXTS) -> list[_Job]:
    """Remove and return the first jobs that share the first job's role, up to ``cap`` texts
    (a first job larger than ``cap`` goes alone)."""
    role = jobs[0].role
    batch: list[_Job] = []
    total = 0
    rest: list[_Job] = []
    for job in jobs:
        fits = job.role == role and (not batch or total + len(job.texts) <= cap)
        if fits:
            batch.append(job)
            total += len(job.texts)
        else:
            rest.append(job)
    jobs[:] = rest
    return batch


def check_model_name(name: str) -> None:
    """Raise now if ``name`` can never load: unknown, or its package is missing.

    Backend-prefixed names (``st:``, ``ollama:``, ``openai:``) are checked when they load.
    :raises UnknownModelError: the message lists the known models.
    :raises ModelNotInstalledError: the message says what to install.
    """
    prefix, sep, _ = name.partition(":")
    if sep and prefix.lower() in PREFIXES:
        return
    spec = find_spec(name)
    if spec is None:
        raise UnknownModelError(
            f"Unknown model {name!r}. Known models: {', '.join(known_names())}."
        )
    if not is_installed(spec):
        raise ModelNotInstalledError(
            f"Model {spec.name!r} is not installed. Install it with: {spec.install}"
        )


def configure_threads(max_inflight: int = MAX_INFLIGHT) -> int:
    """Split the cores between the encoder threads (torch intra-op threads per call).

    With two batches in flight on two cores, each call gets one thread: torch's default
    (all cores per call) makes concurrent calls fight over the same cores, and on a busy
    machine its spinning threads lose more than they gain. Process-wide, so only the
    server process calls it (``embedlab.server.run``), never the library.

    :return: the threads per call, or 0 when torch is not installed.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = max(1, (cores or 1) // max(1, max_inflight))
    torch.set_num_threads(threads)
    return threads


def get_pool(request: Any) -> ModelPool:
    """The app's pool, from a route's ``Request`` (``request.app.state.pool``)."""
    pool: ModelPool = request.app.state.pool
    return pool
