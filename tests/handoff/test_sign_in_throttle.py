"""handoff.sign_in_throttle: back-off by client address and by username, with
no lock anyone can trigger (the staff pages' wiring is in test_handoff_staff)."""

from __future__ import annotations

from handoff.sign_in_throttle import QUIET_S, SignInThrottle


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def throttle(**changes: float) -> tuple[SignInThrottle, Ticks]:
    ticks = Ticks()
    return SignInThrottle(free_attempts=3, client_cap_s=900.0, account_cap_s=60.0, ticks=ticks,
                          **changes), ticks  # type: ignore[arg-type]


def test_free_attempts_then_a_doubling_wait_up_to_the_clients_cap() -> None:
    gate, ticks = throttle()
    waits = []
    for attempt in range(14):
        waits.append(gate.wait_s("203.0.113.9", f"guess{attempt}"))  # a new name each time: the client's count
        ticks.now += waits[-1]
        gate.failed("203.0.113.9", f"guess{attempt}")
    assert waits[:4] == [0.0, 0.0, 0.0, 2.0]
    assert waits[4:8] == [4.0, 8.0, 16.0, 32.0]
    assert max(waits) == 900.0  # never longer than the cap


def test_a_stranger_elsewhere_delays_the_owner_of_a_name_by_at_most_the_accounts_cap() -> None:
    gate, ticks = throttle()
    for _ in range(30):
        ticks.now += gate.wait_s("198.51.100.7", "alice")
        gate.failed("198.51.100.7", "alice")
    assert gate.wait_s("198.51.100.7", "alice") > 60.0  # the stranger's own address waits long
    assert 0.0 < gate.wait_s("192.0.2.10", "alice") <= 60.0  # alice, at her counter, a minute at most
    ticks.now += 60.0
    assert gate.wait_s("192.0.2.10", "alice") == 0.0


def test_success_clears_the_name_but_not_the_client() -> None:
    gate, ticks = throttle()
    for name in ("alice", "alice", "alice", "bob"):
        ticks.now += gate.wait_s("203.0.113.9", name)
        gate.failed("203.0.113.9", name)
    gate.succeeded("alice")
    assert gate.wait_s("192.0.2.10", "alice") == 0.0
    assert gate.wait_s("203.0.113.9", "carol") > 0.0  # signing in to one's own account buys no guesses


def test_failures_are_forgotten_after_a_quiet_spell() -> None:
    gate, ticks = throttle()
    for _ in range(10):
        ticks.now += gate.wait_s("203.0.113.9", "alice")
        gate.failed("203.0.113.9", "alice")
    ticks.now += QUIET_S + 1
    assert gate.wait_s("203.0.113.9", "alice") == 0.0
    gate.failed("203.0.113.9", "alice")
    assert gate.wait_s("203.0.113.9", "alice") == 0.0  # a fresh count: the first failure is free


def test_the_table_is_bounded_and_holds_no_address_or_name() -> None:
    gate, _ = throttle(max_keys=100)
    for n in range(1000):
        gate.failed(f"10.0.{n // 256}.{n % 256}", f"user{n}")
    assert len(gate._table) == 100
    assert all(isinstance(key, bytes) and b"10.0." not in key and b"user" not in key for key in gate._table)
