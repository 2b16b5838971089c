"""Password checks on a thread of their own, with a bounded queue.

Each check is one scrypt (tens of milliseconds and 16 MiB), so a burst of
sign-ins run in the default executor would queue ahead of the case API's
store calls. Here they take one thread of their own; when more than
MAX_WAITING are already waiting, the next is refused at once (the page asks
the member of staff to try again in a moment) rather than queued.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

MAX_WAITING = 16


class TooBusy(Exception):
    """More sign-ins are waiting for a password check than the queue takes."""


class PasswordChecks:
    def __init__(self, workers: int = 1, max_waiting: int = MAX_WAITING) -> None:
        self.max_waiting = max_waiting
        self.waiting = 0  # touched only on the event loop
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="password-check")

    async def run(self, func: Callable[..., Any], *args: Any) -> Any:
        if self.waiting >= self.max_waiting:
            raise TooBusy()
        self.waiting += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, functools.partial(func, *args))
        finally:
            self.waiting -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
