"""What the bridge said last on each call, so "repeat that" (or the star
key) can say it again at any prompt.

Kept in this process's memory only, per call id, bounded and forgotten when
the call ends or after two hours. A call whose next turn reaches another
replica of the bridge finds nothing here; the caller then hears the
question again instead (voice.CallFlow)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Generic, TypeVar

MAX_CALLS = 10_000
KEEP_S = 2 * 3600.0

Said = TypeVar("Said")


class LastSaid(Generic[Said]):
    def __init__(self, max_calls: int = MAX_CALLS, keep_s: float = KEEP_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._max, self._keep_s, self._clock = max_calls, keep_s, clock
        self._lock = threading.Lock()
        self._said: OrderedDict[str, tuple[float, Said]] = OrderedDict()

    def remember(self, call: str, said: Said) -> None:
        if not call:
            return
        with self._lock:
            self._said.pop(call, None)
            self._said[call] = (self._clock(), said)
            while len(self._said) > self._max:
                self._said.popitem(last=False)

    def recall(self, call: str) -> Said | None:
        with self._lock:
            found = self._said.get(call)
            if found is None or self._clock() - found[0] > self._keep_s:
                self._said.pop(call, None)
                return None
            return found[1]

    def forget(self, call: str) -> None:
        with self._lock:
            self._said.pop(call, None)

    def __len__(self) -> int:
        return len(self._said)
