"""Per-caller limits, so that one number cannot tie up the line or make the
bridge text without end (a robocaller, a texting loop with another bot, a
prank): at most `limit` calls (or texts) from one number in any `window_s`.
The web chat counts messages the same way, by session and by client address.

Numbers are kept only as a keyed hash with a key made at start (nothing in
memory reads back as a number), in a table bounded by `max_numbers`: when it
is full the least recently seen number is forgotten. Each replica of the
bridge counts on its own, so behind N replicas a number gets up to N times
the limit; that bounds abuse, which is what it is for. Withheld and invalid
numbers are not counted (they would all share one key and lock each other
out); Twilio's own abuse protection sees those.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import OrderedDict, deque
from typing import Callable


class CallerLimit:
    def __init__(self, limit: int, window_s: float, max_numbers: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._max = max_numbers
        self._clock = clock
        self._key = os.urandom(16)
        self._seen: OrderedDict[bytes, deque[float]] = OrderedDict()

    def allow(self, number: str) -> bool:
        """Count one call or text from `number`; False when it is over the limit."""
        if self.limit <= 0:
            return True
        key = hashlib.blake2b(number.encode(), key=self._key, digest_size=16).digest()
        now = self._clock()
        times = self._seen.pop(key, None) or deque()
        while times and now - times[0] >= self.window_s:
            times.popleft()
        allowed = len(times) < self.limit
        if allowed:
            times.append(now)
        self._seen[key] = times
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)
        return allowed
