"""Back-off for failed staff sign-ins, by client address and by username.

A lock that five wrong passwords trigger lets anyone lock any member of staff
out, and answering "locked" only for real accounts tells a stranger which
usernames exist. Instead each key (the client's address; the username as
typed, whether or not it exists) has a few free failures, then must wait
before its next try: 2, 4, 8... seconds after its last failure, up to a cap.
An account's cap is short (a minute by default), so a stranger hammering a
username slows its owner down by at most that; a client's cap is long
(fifteen minutes), so one address cannot try many passwords. While a key
must wait, the answer is the same for every username and no hash is
computed, so neither the words nor the timing tell anyone anything.

Keys are kept as keyed hashes (a random key per process, so the table holds
neither addresses nor usernames) in a bounded table, forgotten after a quiet
spell. The table belongs to one process: with several replicas of the
handoff service, each throttles on its own.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

# How long a key's failures are remembered without a new one.
QUIET_S = 3600.0
MAX_KEYS = 20_000


@dataclass
class _Failures:
    count: int
    last: float


class SignInThrottle:
    def __init__(self, free_attempts: int = 5, client_cap_s: float = 900.0, account_cap_s: float = 60.0,
                 max_keys: int = MAX_KEYS, ticks: Callable[[], float] = time.monotonic) -> None:
        self.ticks = ticks  # seconds; a test may move it on
        self.free_attempts = free_attempts
        self.caps = {"client": client_cap_s, "account": account_cap_s}
        self.max_keys = max_keys
        self._secret = secrets.token_bytes(32)
        self._table: OrderedDict[bytes, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def _key(self, kind: str, value: str) -> bytes:
        return hashlib.blake2b(f"{kind}\0{value}".encode("utf-8"), key=self._secret, digest_size=16).digest()

    def _keys(self, client: str, username: str) -> list[tuple[str, bytes]]:
        return [("client", self._key("client", client)), ("account", self._key("account", username))]

    def _delay(self, kind: str, failures: _Failures) -> float:
        extra = failures.count - self.free_attempts
        if extra < 0:
            return 0.0
        return min(self.caps[kind], 2.0 ** (extra + 1))

    def wait_s(self, client: str, username: str) -> float:
        """Seconds before this client may try this username again (0: now)."""
        now = self.ticks()
        longest = 0.0
        with self._lock:
            for kind, key in self._keys(client, username):
                failures = self._table.get(key)
                if failures is None:
                    continue
                if now - failures.last > QUIET_S:
                    del self._table[key]
                    continue
                longest = max(longest, failures.last + self._delay(kind, failures) - now)
        return max(longest, 0.0)

    def failed(self, client: str, username: str) -> None:
        now = self.ticks()
        with self._lock:
            for _, key in self._keys(client, username):
                failures = self._table.pop(key, None) or _Failures(0, now)
                if now - failures.last > QUIET_S:
                    failures.count = 0
                failures.count += 1
                failures.last = now
                self._table[key] = failures  # to the end: the most recent
            while len(self._table) > self.max_keys:
                self._table.popitem(last=False)

    def succeeded(self, username: str) -> None:
        """The account's count restarts; the client's does not (signing in to
        one's own account must not buy more guesses at someone else's)."""
        with self._lock:
            self._table.pop(self._key("account", username), None)
