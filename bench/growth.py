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
import statistics
from datetime import date
from typing import Any

from sqlalchemy import select

from app import migrate
from app.models import ProcessInstance, User
from app.services import instances
from app.services.definitions import deploy_bundle, read_bundle_dir
from app.services.seed import seed_demo
from app.services.uow import transaction
from bench.engine_bench import (
    BUNDLE,
    _complete_once,
    _percentile,
    bound_to,
    scratch_database,
)


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
    rows: list[dict[str, Any]] = []
    profile: dict[str, str] = {}
    load_before = os.getloadavg()
    with scratch_database(url) as db_url:
        migrate.upgrade(db_url)
        with bound_to(db_url):
            with transaction() as session:
                seed_demo(session, password="bench-password-1", today=date.today())
                deploy_bundle(session, read_bundle_dir(BUNDLE))
                reviewer = session.scalar(select(User).where(User.username == "rev_samr"))
                instance = instances.start_instance(session, "bench_review", {}, reviewer)
                instance_id, reviewer_id = instance.id, reviewer.id
            done = 0
            for size in sizes:
                while done < size:
                    _complete_once(instance_id, reviewer_id)
                    done += 1
                timings = [_complete_once(instance_id, reviewer_id) for _ in range(samples)]
                done += samples
                with transaction() as session:
                    state_kb = len(session.get(ProcessInstance, instance_id).state) / 1024
                rows.append(
                    {
                        "completed": size,
                        "p50_ms": round(statistics.median(timings), 2),
                        "p95_ms": round(_percentile(timings, 0.95), 2),
                        "state_kb": round(state_kb, 1),
                    }
                )
                if size == profile_at:
                    profiler = cProfile.Profile()
                    profiler.enable()
                    for _ in range(samples):
                        _complete_once(instance_id, reviewer_id)
                    profiler.disable()
                    done += samples
                    profile = {
                        "cumulative": _stats(profiler, "cumulative", top),
                        "tottime": _stats(profiler, "tottime", top),
                    }
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
