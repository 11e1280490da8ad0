"""`flask bench growth`: completion latency as one instance grows, and where the time goes.

The same sample as `flask bench engine` (one real `tasks.complete` in its own transaction on
the looping reviewer task of bench/bpmn/), measured at each size; at `profile_at` completed
tasks another `samples` completions run under cProfile and the top functions by cumulative
and by own time are returned, so a slowdown can be traced to serializer, engine or database.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
from collections.abc import Callable
from typing import Any

from bench.engine_bench import measure


def _stats(profile: cProfile.Profile, order: str, top: int) -> str:
    buffer = io.StringIO()
    pstats.Stats(profile, stream=buffer).strip_dirs().sort_stats(order).print_stats(top)
    return buffer.getvalue()


def run(
    url: str | None,
    sizes: tuple[int, ...] = (10, 500),
    samples: int = 30,
    profile_at: int | None = 500,
    top: int = 25,
) -> dict[str, Any]:
    """{"rows": [{completed, p50_ms, p95_ms, state_kb}], "growth_p50", "profile": {…}}."""
    profile: dict[str, str] = {}
    load_before = os.getloadavg()

    def profile_size(size: int, complete: Callable[[], float]) -> None:
        if size != profile_at:
            return
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(samples):
            complete()
        profiler.disable()
        profile["cumulative"] = _stats(profiler, "cumulative", top)
        profile["tottime"] = _stats(profiler, "tottime", top)

    rows = [
        {
            "completed": row["completed"],
            "p50_ms": round(row["p50_ms"], 2),
            "p95_ms": round(row["p95_ms"], 2),
            "state_kb": round(row["state_kb"], 1),
        }
        for row in measure(url, sizes, samples, after_size=profile_size)
    ]
    first, last = rows[0]["p50_ms"], rows[-1]["p50_ms"]
    return {
        "backend": (url or "sqlite").split(":", 1)[0].split("+")[0],
        "samples": samples,
        "rows": rows,
        "growth_p50": round(last / first, 2) if first else None,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "profile": profile,
    }
