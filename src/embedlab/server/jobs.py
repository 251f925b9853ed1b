"""Background jobs of the web lab: long work (an index, a map, a grid, a training run) that
streams its progress to the page and can be cancelled.

One mechanism for every kind: a route starts the work with :func:`start_job` and answers
the job's id at once; the work runs in a worker thread and calls ``job.progress(stage,
fraction, **extra)`` between its batches. That call records an event and, once the user has
asked to cancel (``POST /lab/jobs/{id}/cancel``), raises :class:`JobCancelledError` so the
core stops at its next check. The page reads the events as NDJSON from
``GET /lab/jobs/{id}/events`` (:mod:`embedlab.server.routes.jobs`) until the last one:
``done`` (with the result), ``error`` (the usual ``{type, message}``) or ``cancelled``.

A job holds one of the app's long-job slots (:mod:`embedlab.server.limits`) from start to
end, so a job beyond ``EMBEDLAB_MAX_LONG_JOBS`` is refused with a 429 before it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from embedlab.errors import EmbedlabError, JobCancelledError, JobNotFoundError
from embedlab.server.limits import long_job

__all__ = ["Job", "JobRegistry", "jobs_of", "start_job"]

log = logging.getLogger("embedlab.server")

#: finished jobs kept (with their events and result) for pages that come back to them.
KEEP_JOBS = 32
#: how often a stream looks for new events (seconds).
POLL_S = 0.1
TERMINAL = frozenset({"done", "error", "cancelled"})


@dataclass
class Job:
    """One background job: its events so far, its state and, once done, its result."""

    id: str
    kind: str
    title: str
    state: str = "running"
    events: list[dict[str, Any]] = field(default_factory=list)
    result: Any = None
    started: float = field(default_factory=time.time)
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _add(self, event: dict[str, Any]) -> None:
        with self.lock:
            event = {"seq": len(self.events), "job": self.id, **event}
            self.events.append(event)

    def progress(self, stage: str, fraction: float | None = None, **extra: Any) -> None:
        """Record where the work is (``fraction`` 0..1 when known) and stop it here if the
        user asked to cancel.

        :raises JobCancelledError: the job was cancelled; the caller's work unwinds.
        """
        self.check()
        frac = None if fraction is None else max(0.0, min(1.0, float(fraction)))
        self._add({"type": "progress", "stage": stage, "fraction": frac, **extra})

    def check(self) -> None:
        """Raise :class:`JobCancelledError` once cancelling was asked for."""
        if self.cancel_requested.is_set():
            raise JobCancelledError(f"The {self.kind} job {self.id} was cancelled.")

    def cancel(self) -> bool:
        """Ask the work to stop at its next progress check; ``False`` if it had ended."""
        if self.state in TERMINAL:
            return False
        self.cancel_requested.set()
        return True

    def since(self, seq: int) -> list[dict[str, Any]]:
        """The events after the first ``seq``."""
        with self.lock:
            return list(self.events[max(0, seq) :])

    def snapshot(self) -> dict[str, Any]:
        """The job as JSON: id, kind, title, state, the last event, and the result if done."""
        with self.lock:
            last = self.events[-1] if self.events else None
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "state": self.state,
            "cancel_requested": self.cancel_requested.is_set(),
            "started": self.started,
            "last": last,
            "result": self.result if self.state == "done" else None,
        }

    def finish(self, state: str, **event: Any) -> None:
        """Record the last event and the final state (the state changes after the event is
        stored, so a stream that sees the state also sees the event)."""
        self._add({"type": state, **event})
        self.state = state


class JobRegistry:
    """The jobs of one app, the finished ones bounded to :data:`KEEP_JOBS` (touched on the
    event loop only)."""

    def __init__(self) -> None:
        self.running: dict[str, Job] = {}
        self.finished: OrderedDict[str, Job] = OrderedDict()
        self.tasks: set[asyncio.Task[None]] = set()

    def get(self, job_id: str) -> Job:
        """The job ``job_id``.

        :raises JobNotFoundError: no such job (or it finished long ago).
        """
        job = self.running.get(job_id) or self.finished.get(job_id)
        if job is None:
            raise JobNotFoundError(
                f"No job {job_id[:40]!r} in this server: it never existed or finished long "
                f"ago (the last {KEEP_JOBS} finished jobs are kept). Start it again."
            )
        return job

    def all(self) -> list[Job]:
        """Running jobs first, then the finished ones kept, newest first."""
        done = sorted(self.finished.values(), key=lambda j: -j.started)
        return list(self.running.values()) + done

    def _ended(self, job: Job) -> None:
        self.running.pop(job.id, None)
        self.finished[job.id] = job
        while len(self.finished) > KEEP_JOBS:
            self.finished.popitem(last=False)


def jobs_of(request: Any) -> JobRegistry:
    """This app's :class:`JobRegistry` (made on first use; the event loop runs this whole)."""
    registry = getattr(request.app.state, "job_registry", None)
    if not isinstance(registry, JobRegistry):
        registry = request.app.state.job_registry = JobRegistry()
    return registry


async def start_job(
    request: Any,
    kind: str,
    title: str,
    work: Callable[[Job], Any],
    on_cancel: Callable[[], None] | None = None,
) -> Job:
    """Start ``work(job)`` in a worker thread as a background job and return at once.

    :param kind: ``index``, ``map``, ``grid``, ``train``... (the 429 message names it).
    :param work: the blocking work; calls ``job.progress`` between batches; its return
        value (JSON-ready) is the ``done`` event's ``result``.
    :param on_cancel: tidies up after a cancelled run (in the worker thread).
    :raises TooManyJobsError: every long-job slot is taken (before anything starts).
    """
    registry = jobs_of(request)
    slot = long_job(request, kind)
    await slot.__aenter__()  # a 429 here, before the job exists
    job = Job(id=secrets.token_urlsafe(9), kind=kind, title=title)
    registry.running[job.id] = job
    job.progress("queued", 0.0)

    def run() -> Any:
        job.check()
        return work(job)

    async def main() -> None:
        try:
            result = await _in_daemon_thread(run, f"embedlab-{kind}-job")
        except JobCancelledError as exc:
            if on_cancel is not None:
                await asyncio.to_thread(_quietly, on_cancel)
            job.finish("cancelled", message=str(exc))
        except EmbedlabError as exc:
            job.finish("error", error={"type": type(exc).__name__, "message": str(exc)})
        except Exception as exc:  # the traceback to the log, one line to the page
            log.error("background %s job %s failed", kind, job.id, exc_info=exc)
            message = (
                f"The {kind} job failed unexpectedly; the server's log has the details. "
                "This is a bug; please report it."
            )
            job.finish("error", error={"type": "InternalError", "message": message})
        else:
            job.result = result
            job.finish("done", result=result)
        finally:
            registry._ended(job)
            await slot.__aexit__(None, None, None)

    task = asyncio.get_running_loop().create_task(main())
    registry.tasks.add(task)
    task.add_done_callback(registry.tasks.discard)
    return job


async def _in_daemon_thread(fn: Callable[[], Any], name: str) -> Any:
    """``await`` ``fn()`` run in a daemon thread: a server stopped mid-job (Ctrl+C) exits
    without waiting for a long training or indexing run (``asyncio.to_thread``'s pool
    threads are joined at exit)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def settle(setter: Callable[[Any], None], value: Any) -> None:
        if not done.done():
            setter(value)

    def target() -> None:
        try:
            value = fn()
        except BaseException as exc:  # handed to the awaiting coroutine
            with contextlib.suppress(RuntimeError):  # the loop has closed meanwhile
                loop.call_soon_threadsafe(settle, done.set_exception, exc)
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, done.set_result, value)

    threading.Thread(target=target, name=name, daemon=True).start()
    return await done


def _quietly(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception as exc:  # tidying up must not hide the cancel
        log.warning("tidying up a cancelled job failed: %s", exc)


async def follow(job: Job, after: int = 0) -> AsyncIterator[dict[str, Any]]:
    """The job's events from ``after`` on, as they come, ending with its last event."""
    seq = after
    while True:
        state = job.state  # read before the events: a terminal state's event is stored
        events = job.since(seq)
        for event in events:
            yield event
        seq += len(events)
        if state in TERMINAL:
            return
        await asyncio.sleep(POLL_S)
