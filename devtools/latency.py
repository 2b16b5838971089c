"""What every load benchmark reports alike: latency figures and the machine
they were measured on."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from typing import Sequence

import numpy as np


def summarise(latencies_ms: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99/max in ms (numpy's linear percentiles); None when nothing was timed."""
    if not latencies_ms:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    values = np.asarray(latencies_ms, dtype=float)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50_ms": round(float(p50), 1), "p95_ms": round(float(p95), 1),
            "p99_ms": round(float(p99), 1), "max_ms": round(float(values.max()), 1)}


def machine_info() -> dict[str, object]:
    """Cores, Python, architecture and when: beside every benchmark's figures."""
    return {"cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.machine(),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
