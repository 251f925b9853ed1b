"""Embedding on a running Ray cluster: an :class:`Encoder` whose vectors come from a pool of
encoder actors, each loading the model once.

:class:`RayEncoder` is what ``--ray ADDRESS`` hands to ``index create|update`` and
``eval retrieval|rag``. It keeps a local copy of the model for what happens on this machine
(the model's identity and fingerprint, its tokenizer for counting tokens and chunking) and
sends every :meth:`~Encoder.embed` call to the cluster: the texts are cut into batches of
``batch_size`` and spread over ``actors`` actors, which run them in parallel; the call returns
the vectors in order, so a writer stores them as each call returns.

Why actors kept for the whole run rather than a Ray Data pipeline per call: a Ray Data
``map_batches`` with a callable class starts a fresh actor pool for each dataset it runs
(one model load per actor per call), and an index writer embeds in many small calls as it
reads; a Ray Data pipeline over the whole run would need every chunk's text before the first
write. :func:`embed_dataset` is that pipeline, for a corpus known up front (benchmarks,
notebooks): ``ray.data.from_items(...).map_batches(EncoderActor, concurrency=n)``.

Faults: an address nobody answers on fails fast (:data:`CONNECT_TIMEOUT`) with
:class:`~embedlab.errors.RayClusterError` naming it; an actor that dies is restarted by Ray
and its batch retried (``max_restarts``, ``max_task_retries``), so a call returns all its
vectors or raises, never part of them.

Ray is an optional extra: ``pip install 'embedlab[scale]'``.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from embedlab.errors import ModelNotInstalledError, RayClusterError
from embedlab.models.base import Encoder

#: seconds to wait for a TCP answer from the cluster's address before giving up.
CONNECT_TIMEOUT = 5.0
#: seconds ``ray.init`` may take once the address answered.
INIT_TIMEOUT = 30.0
#: texts per actor call, and actors in the pool (``--ray-batch``, ``--ray-actors``).
DEFAULT_BATCH = 64
DEFAULT_ACTORS = 2
#: seconds the actors get to start and load the model before the run is refused.
START_TIMEOUT = 180.0
#: times Ray restarts a dead actor (and retries its batch) before the call fails.
MAX_RESTARTS = 3

INSTALL = "pip install 'embedlab[scale]'"


def import_ray() -> Any:
    """``import ray``, or a :class:`ModelNotInstalledError` that says what to install."""
    try:
        import ray
    except ImportError as exc:
        raise ModelNotInstalledError(
            f"Embedding on a Ray cluster needs Ray, which is not installed ({exc}). "
            f"Install it with: {INSTALL}"
        ) from None
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of a plain ``HOST:PORT`` or ``ray://HOST:PORT`` address, else ``None``."""
    rest = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise :class:`RayClusterError` unless something accepts a TCP connection at
    ``address`` within ``timeout`` seconds (``auto`` and other forms are left to Ray)."""
    hp = _host_port(address)
    if hp is None:
        return
    try:
        with socket.create_connection(hp, timeout=timeout):
            pass
    except OSError as exc:
        why = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise RayClusterError(
            f"Ray cluster at {address!r} is unreachable: {why} (after at most {timeout:.0f} s). "
            "Start one with 'ray start --head --port PORT' and pass its address "
            "(HOST:PORT, as 'ray start' prints it)."
        ) from None


def connect(address: str) -> Any:
    """Connect this process to the Ray cluster at ``address`` (once; later calls reuse it).

    :raises RayClusterError: nothing answers there, or what answers is not a Ray cluster.
    """
    ray = import_ray()
    if ray.is_initialized():
        if _CONNECTED and _CONNECTED[0] != address:
            raise RayClusterError(
                f"This process is connected to the Ray cluster at {_CONNECTED[0]!r}; it cannot "
                f"also use {address!r} (Ray allows one cluster per process)."
            )
        return ray
    check_reachable(address)
    import threading

    box: dict[str, BaseException] = {}

    def init() -> None:
        try:
            ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        except BaseException as exc:  # noqa: BLE001 - reported to the caller below
            box["error"] = exc

    t = threading.Thread(target=init, daemon=True, name="ray-init")
    t.start()
    t.join(INIT_TIMEOUT)
    if t.is_alive():
        raise RayClusterError(
            f"Ray cluster at {address!r} answered but did not accept a driver within "
            f"{INIT_TIMEOUT:.0f} s: is it a Ray head's GCS port (6379 by default)?"
        )
    if "error" in box:
        exc = box["error"]
        raise RayClusterError(
            f"Ray cluster at {address!r} refused the connection: {type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        ) from None
    _CONNECTED[:] = [address]
    return ray


#: the address this process connected to (Ray keeps one connection per process).
_CONNECTED: list[str] = []


class EncoderActor:
    """One model load, then batches: what each Ray actor runs (also Ray Data's callable
    class in :func:`embed_dataset`)."""

    def __init__(self, model: str, options: dict[str, Any] | None = None) -> None:
        from embedlab.models.registry import load_model

        self.encoder = load_model(model, **(options or {}))

    def embed(self, texts: list[str], role: str) -> np.ndarray:
        return self.encoder.embed(texts, role=role)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Ray Data batch: ``{"i", "text"}`` in, ``{"i", "vector"}`` out (``i`` puts the
        rows back in order: batches come back as they finish)."""
        texts = [str(t) for t in batch["text"]]
        return {"i": batch["i"], "vector": self.embed(texts, "document")}

    def pid(self) -> int:
        import os

        return os.getpid()


class RayEncoder(Encoder):
    """The model ``model`` with its vectors computed by a pool of Ray actors.

    :param model: a registry name (loaded locally too: identity, tokenizer) or an
        already-loaded encoder of that model.
    :param address: the cluster (``HOST:PORT`` of the head, ``ray://HOST:PORT``, ``auto``).
    :param batch_size: texts per actor call.
    :param actors: actors in the pool (each takes one CPU and loads the model once).
    :param options: the model's load options, passed to each actor.
    :param actor_class: the class the actors run (a subclass of :class:`EncoderActor`).
    """

    def __init__(
        self,
        model: str | Encoder,
        address: str,
        *,
        batch_size: int = DEFAULT_BATCH,
        actors: int = DEFAULT_ACTORS,
        options: dict[str, Any] | None = None,
        actor_class: type[EncoderActor] = EncoderActor,
        max_restarts: int = MAX_RESTARTS,
    ) -> None:
        from embedlab.errors import InputError
        from embedlab.models.registry import load_model

        if batch_size < 1 or actors < 1:
            raise InputError(
                f"--ray-batch and --ray-actors must be at least 1 (got {batch_size}, {actors})."
            )
        check_reachable(address)  # before the model loads: a wrong address fails at once
        self.local = load_model(model, **(options or {})) if isinstance(model, str) else model
        self.info = self.local.info
        self.name = model if isinstance(model, str) else self.local.info.name
        self.address = address
        self.batch_size = batch_size
        self.n_actors = actors
        self.options = dict(options or {})
        self.actor_class = actor_class
        self.max_restarts = max_restarts
        self._actors: list[Any] = []
        self.seconds = 0.0  # time spent waiting on the cluster
        self.embedded = 0  # texts embedded on the cluster

    # --- what the writer sees ---------------------------------------------------------
    @property
    def embed_group(self) -> int:
        """Texts a writer should hand over per call so that every actor has two batches."""
        return self.batch_size * self.n_actors * 2

    def count_tokens(self, texts: Sequence[str], role: str = "document") -> list[int] | None:
        return self.local.count_tokens(texts, role)

    def token_spans(self, text: str) -> list[tuple[int, int]] | None:
        return self.local.token_spans(text)

    def counting_tokenizer(self) -> Any:
        return self.local.counting_tokenizer()

    # --- the pool ---------------------------------------------------------------------
    def start(self) -> RayEncoder:
        """Connect and start the actors (done by the first embed call otherwise)."""
        if self._actors:
            return self
        ray = connect(self.address)
        remote = ray.remote(
            num_cpus=1, max_restarts=self.max_restarts, max_task_retries=self.max_restarts
        )(self.actor_class)
        actors = [remote.remote(self.name, self.options) for _ in range(self.n_actors)]
        ready, _ = ray.wait([a.pid.remote() for a in actors], num_returns=len(actors),
                            timeout=START_TIMEOUT)  # fmt: skip
        if len(ready) < len(actors):
            for a in actors:
                with contextlib.suppress(Exception):
                    ray.kill(a)
            free = ray.available_resources().get("CPU", 0)
            total = ray.cluster_resources().get("CPU", 0)
            raise RayClusterError(
                f"Only {len(ready)} of {len(actors)} encoder actors started on the Ray cluster "
                f"at {self.address!r} within {START_TIMEOUT:.0f} s (each needs one CPU; "
                f"{free:g} of {total:g} CPUs are free). Use fewer --ray-actors or add workers."
            )
        self._actors = actors
        return self

    def close(self) -> None:
        """Stop the actors (the cluster keeps running)."""
        if not self._actors:
            return
        ray = import_ray()
        for a in self._actors:
            with contextlib.suppress(Exception):  # an actor already gone is fine
                ray.kill(a)
        self._actors = []

    def _embed(self, texts: list[str], role: str) -> np.ndarray:
        ray = import_ray()
        self.start()
        t0 = time.perf_counter()
        refs = [
            self._actors[i % len(self._actors)].embed.remote(texts[s : s + self.batch_size], role)
            for i, s in enumerate(range(0, len(texts), self.batch_size))
        ]
        try:
            parts = ray.get(refs)
        except ray.exceptions.RayActorError as exc:
            raise RayClusterError(
                f"An encoder actor on the Ray cluster at {self.address!r} died more than "
                f"{self.max_restarts} time(s) ({type(exc).__name__}); nothing of this call "
                "was written. Check the workers' logs "
                "(/tmp/ray/session_latest/logs) and run 'embedlab index update' to resume."
            ) from None
        except KeyboardInterrupt:
            for r in refs:
                with contextlib.suppress(Exception):  # best effort
                    ray.cancel(r)
            raise
        self.seconds += time.perf_counter() - t0
        self.embedded += len(texts)
        return np.concatenate(parts).astype(np.float32, copy=False)

    def __repr__(self) -> str:
        return f"<RayEncoder {self.info.name} at {self.address} x{self.n_actors}>"


def embed_dataset(
    texts: Sequence[str],
    model: str,
    address: str,
    *,
    batch_size: int = DEFAULT_BATCH,
    actors: int = DEFAULT_ACTORS,
    options: dict[str, Any] | None = None,
) -> np.ndarray:
    """Embed a corpus known up front with Ray Data: ``map_batches`` over a pool of
    ``actors`` :class:`EncoderActor` s (one model load each), vectors in the input's order.
    """
    ray = connect(address)
    ds = ray.data.from_items([{"i": i, "text": t} for i, t in enumerate(texts)])
    ds = ds.map_batches(
        EncoderActor,
        fn_constructor_args=(model, options or {}),
        batch_size=batch_size,
        concurrency=actors,
        num_cpus=1,
        batch_format="numpy",
        max_restarts=MAX_RESTARTS,
        max_task_retries=MAX_RESTARTS,
    )
    order, parts = [], []
    for b in ds.iter_batches(batch_size=None, batch_format="numpy"):
        order.append(b["i"])
        parts.append(b["vector"])
    if not parts:
        return np.zeros((0, 0), dtype=np.float32)
    matrix = np.concatenate(parts).astype(np.float32, copy=False)
    return matrix[np.argsort(np.concatenate(order), kind="stable")]


def on_ray(
    model: str | Encoder,
    address: str | None,
    *,
    batch_size: int = DEFAULT_BATCH,
    actors: int = DEFAULT_ACTORS,
) -> str | Encoder:
    """``model`` itself when ``address`` is ``None``, else that model embedding on the Ray
    cluster at ``address`` (what ``--ray ADDRESS --ray-batch N --ray-actors N`` choose)."""
    if address is None:
        return model
    return RayEncoder(model, address, batch_size=batch_size, actors=actors)


__all__ = [
    "CONNECT_TIMEOUT",
    "EncoderActor",
    "RayEncoder",
    "check_reachable",
    "connect",
    "embed_dataset",
    "import_ray",
    "on_ray",
]
