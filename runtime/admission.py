"""Admission control for reconnection storms (sans-I/O: every input takes ``now``).

After a carrier outage tens of thousands of stations reconnect within minutes, each with a TLS
handshake and a BootNotification. Two limits, both off by default, keep a CSMS node standing:

- ``ConnectionLimiter``: token buckets for new connections, overall and optionally per source
  address (off by default: whole fleets sit behind one carrier NAT address). An upgrade beyond
  the rate is answered HTTP 503 with ``Retry-After`` (RFC 9110 section 10.2.3) before any TLS
  session work beyond the handshake the socket already did, any authentication or any session.
  Stations on ocppgen's client wait that long before their next attempt.
- ``BootPacer``: at most ``max_concurrent`` BootNotifications handled at once; one more is
  answered Pending with an interval that spreads the re-registrations (B02: the station boots
  again after the interval, B02.FR.08; while Pending it may not send its queued transaction
  messages, B02.FR.02, so the interval is bounded by ``max_interval``).
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["BootPacer", "ConnectionLimiter", "TokenBucket"]


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` stored; full at ``now`` (monotonic
    seconds, as every ``now`` of this module)."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp = now

    def take(self, now: float) -> float:
        """At ``now``: 0.0 when a token was taken, else the seconds until one will be there."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class ConnectionLimiter:
    """New connections per second, overall and (optionally) per source address."""

    def __init__(
        self, rate: float, burst: int, *, per_address_rate: float | None = None, per_address_burst: int = 10,
        max_addresses: int = 100_000,
    ) -> None:
        """``rate``/``burst``: the overall bucket; ``per_address_rate``/``per_address_burst``:
        one bucket per source address (None: no per-address limit); ``max_addresses`` bounds
        the memory of per-address buckets (the oldest are forgotten)."""
        self.rate = rate
        self.burst = burst
        self.per_address_rate = per_address_rate
        self.per_address_burst = per_address_burst
        self.max_addresses = max_addresses
        self._overall: TokenBucket | None = None
        self._addresses: dict[str, TokenBucket] = {}
        self.refused = 0

    def admit(self, address: str | None, now: float) -> int | None:
        """A connection from ``address`` (None: unknown) at ``now``: None to admit it, else the
        ``Retry-After`` seconds for HTTP 503."""
        if self._overall is None:
            self._overall = TokenBucket(self.rate, self.burst, now)
        if self.per_address_rate is not None and address is not None:
            bucket = self._addresses.get(address)
            if bucket is None:
                if len(self._addresses) >= self.max_addresses:
                    self._addresses.pop(next(iter(self._addresses)))
                bucket = self._addresses[address] = TokenBucket(self.per_address_rate, self.per_address_burst, now)
            wait = bucket.take(now)
            if wait > 0:
                self.refused += 1
                return max(1, math.ceil(wait))
        wait = self._overall.take(now)
        if wait > 0:
            self.refused += 1
            return max(1, math.ceil(wait))
        return None


class BootPacer:
    """At most ``max_concurrent`` BootNotifications being handled; one more is answered Pending
    with an interval that grows with the crowd: the n-th deferral within the last
    ``max_interval`` seconds waits about n / ``boots_per_second`` seconds, between
    ``min_interval`` and ``max_interval`` (so the re-registrations spread out and no station
    waits longer than ``max_interval`` before it may deliver its queued messages)."""

    def __init__(
        self, max_concurrent: int, *, boots_per_second: float = 50.0, min_interval: int = 10, max_interval: int = 300
    ) -> None:
        if max_concurrent < 1 or boots_per_second <= 0 or not 1 <= min_interval <= max_interval:
            raise ValueError("BootPacer needs max_concurrent >= 1, boots_per_second > 0, 1 <= min_interval <= max_interval")
        self.max_concurrent = max_concurrent
        self.boots_per_second = boots_per_second
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.running = 0
        self.paced = 0
        self._recent: deque[float] = deque()

    def acquire(self, now: float) -> int | None:
        """A BootNotification arrives at ``now``. None: handle it (call ``release`` once it is
        answered); else answer Pending with this interval (seconds)."""
        if self.running < self.max_concurrent:
            self.running += 1
            return None
        while self._recent and self._recent[0] <= now - self.max_interval:
            self._recent.popleft()
        self._recent.append(now)
        self.paced += 1
        spread = math.ceil(len(self._recent) / self.boots_per_second)
        return max(self.min_interval, min(self.max_interval, spread))

    def release(self) -> None:
        """A BootNotification that ``acquire`` let through was answered."""
        self.running = max(0, self.running - 1)
