"""ARM's read throttling as the emulator enforces it: token buckets and Resource Graph's quota."""

from __future__ import annotations

import math
import threading
import time


class TokenBuckets:
    """ARM's read throttling: a bucket per key (subscription, or 'tenant'), refilled continuously."""

    def __init__(self, size: int, per_second: float) -> None:
        self.size = size
        self.per_second = per_second
        self._tokens: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        tokens, updated = self._tokens.get(key, (float(self.size), now))
        return min(float(self.size), tokens + (now - updated) * self.per_second)

    def peek(self, key: str) -> int:
        with self._lock:
            return int(self._level(key, time.monotonic()))

    def take(self, key: str) -> tuple[bool, int, int]:
        """(allowed, remaining after this request, seconds to wait when refused)."""
        with self._lock:
            now = time.monotonic()
            level = self._level(key, now)
            if level < 1:
                self._tokens[key] = (level, now)
                wait = math.ceil((1 - level) / self.per_second) if self.per_second > 0 else 3600
                return False, 0, max(1, wait)
            level -= 1
            self._tokens[key] = (level, now)
            return True, int(level), 0


class GraphQuota:
    """Resource Graph's per-user quota: N queries per sliding window (15 per 5 s by default)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._times: list[float] = []
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until the window resets)."""
        with self._lock:
            now = time.monotonic()
            self._times = [t for t in self._times if now - t < self.window]
            if len(self._times) >= self.limit:
                return False, 0, self.window - (now - self._times[0])
            self._times.append(now)
            return True, self.limit - len(self._times), self.window - (now - self._times[0])


def hms(seconds: float) -> str:
    whole = max(0, math.ceil(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
