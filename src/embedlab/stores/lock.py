"""One writer per index: an exclusive ``fcntl.flock`` on a lock file in the index folder.

The lock is released by the kernel when the process dies (SIGKILL included), so a killed
indexer never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from embedlab.errors import IndexLockedError

#: seconds a second writer waits for the lock before it is refused.
DEFAULT_WAIT = 2.0


class WriteLock:
    """Context manager holding the index's write lock.

    :param path: the lock file (created if missing).
    :param name: index name, for the error message.
    :param wait: seconds to wait for another writer before raising :class:`IndexLockedError`.
    """

    def __init__(self, path: Path, name: str, wait: float = DEFAULT_WAIT) -> None:
        self.path = path
        self.name = name
        self.wait = wait
        self._fd: int | None = None

    def acquire(self) -> WriteLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(fd)
                    os.close(fd)
                    raise IndexLockedError(
                        f"Index {self.name!r} is being written by another process{holder}; "
                        f"waited {self.wait:g} s. Wait until that 'index create/update' "
                        "finishes, then try again."
                    ) from None
                time.sleep(0.05)
        try:  # who holds it, for the message a second writer gets; best effort (a full disk)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        except OSError:
            pass
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriteLock:
        return self.acquire()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
