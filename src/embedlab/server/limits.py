"""Request limits the routes apply: how many items a request carries, and how many long
jobs (map, grid, training, indexing) run at once.

The body size, the text length and paths in naming fields are checked before any route
runs (:mod:`embedlab.server.guard`); the numbers live in :class:`~embedlab.server.config.Limits`
(from the settings table). A long-job route wraps its work in ``async with
long_job(request, "map"):``; a request beyond the slots gets a 429 naming the limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from embedlab.errors import BatchTooLargeError, TooManyJobsError
from embedlab.server.config import Limits

__all__ = ["JobSlots", "check_count", "limits_of", "long_job"]


class JobSlots:
    """A counter of the long jobs running in one app (the event loop is single-threaded,
    so a plain counter is enough).

    :param size: the most jobs that may run at once.
    """

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.running: dict[str, int] = {}

    def busy(self) -> int:
        """Jobs running now, of every kind."""
        return sum(self.running.values())

    @asynccontextmanager
    async def slot(self, kind: str) -> AsyncIterator[None]:
        """Hold one slot while the block runs.

        :raises TooManyJobsError: every slot is taken (a 429 naming the limit).
        """
        if self.busy() >= self.size:
            raise TooManyJobsError(
                f"{self.busy()} long jobs (maps, grids, training, indexing) are running; this "
                f"server runs at most {self.size} at once (setting EMBEDLAB_MAX_LONG_JOBS). "
                f"Try the {kind} again when one has finished."
            )
        self.running[kind] = self.running.get(kind, 0) + 1
        try:
            yield
        finally:
            self.running[kind] -= 1


def limits_of(request: Any) -> Limits:
    """The app's limits, from a route's ``Request``."""
    limits: Limits = request.app.state.config.limits
    return limits


def long_job(request: Any, kind: str) -> Any:
    """``async with long_job(request, "map"):`` holds one of the app's long-job slots."""
    slots: JobSlots = request.app.state.jobs
    return slots.slot(kind)


def check_count(n: int, limit: int, what: str, setting: str = "EMBEDLAB_MAX_BATCH") -> None:
    """Refuse a request carrying more than ``limit`` items (a 413 naming the limit).

    :param what: what is counted, plural (``"candidates"``).
    """
    if n > limit:
        raise BatchTooLargeError(
            f"The request holds {n} {what}; this server accepts at most {limit} per request "
            f"(setting {setting}). Split it into smaller requests."
        )
