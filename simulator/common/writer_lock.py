"""The queue SQLite writers wait in, shared by the sandbox's store and the service's.

SQLite makes a writer that finds the database locked sleep and poll (1, 2, 5, 10 … up to
100 ms a step), which turns contention into long tail latencies: the lock is often free
again long before the sleeper looks. A thread lock plus an ``flock`` on a side file
(``<db>.lock``) hands the write lock over as soon as it is released, across threads and
across worker processes alike. SQLite's own lock stays the authority: a process that
does not queue here (a shell, another tool) is still waited for by ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

# How often a writer with a deadline looks again at another process's flock.
_POLL_SECONDS = (0.0002, 0.0005, 0.001, 0.002)


class WriterLock:
    """``with lock:`` waits as long as it takes; ``acquire(timeout)`` gives up (False)
    after ``timeout`` seconds, as SQLite's busy timeout does. Without a ``path`` (an
    in-memory database) only the threads of this process queue."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = -1

    def _file(self) -> int | None:
        if self.path is None:
            return None
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._thread_lock.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            return False
        try:
            fd = self._file()
            if fd is None:
                return True
            if deadline is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
                return True
            if _flock_by(fd, deadline):
                return True
        except BaseException:
            self._thread_lock.release()
            raise
        self._thread_lock.release()
        return False

    def release(self) -> None:
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _flock_by(fd: int, deadline: float) -> bool:
    """Take the flock before ``deadline``, looking again every fraction of a millisecond
    (``flock`` itself cannot be given a timeout)."""
    attempt = 0
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, _POLL_SECONDS[min(attempt, len(_POLL_SECONDS) - 1)]))
            attempt += 1
