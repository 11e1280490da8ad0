"""Per-worker cache of parsed specs, keyed by process-version id."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from app.engine.errors import SpecNotLoadedError

_MAX = 256
_cache: OrderedDict[int, tuple[Any, dict[str, Any]]] = OrderedDict()
_lock = threading.Lock()


def cached(version_id: int | None) -> tuple[Any, dict[str, Any]]:
    """The parsed (spec, subprocess_specs) of a version already put in the cache."""
    with _lock:
        if version_id in _cache:
            _cache.move_to_end(version_id)  # type: ignore[arg-type]
            return _cache[version_id]  # type: ignore[index]
    raise SpecNotLoadedError(f"process version {version_id} is not loaded in this worker")


def ensure(version_id: int, load: Callable[[], str]) -> tuple[Any, dict[str, Any]]:
    """Return the cached specs, filling the cache from `load()` (the stored spec JSON)."""
    try:
        return cached(version_id)
    except SpecNotLoadedError:
        pass
    from app.engine.serializer import spec_from_json

    spec, subprocess_specs = spec_from_json(load())
    spec.spec_key = version_id
    with _lock:
        _cache[version_id] = (spec, subprocess_specs)
        while len(_cache) > _MAX:
            _cache.popitem(last=False)
    return spec, subprocess_specs


def clear() -> None:
    with _lock:
        _cache.clear()
