"""Per-worker cache of parsed specs, keyed by process-version id and content hash."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from app.engine.errors import SpecNotLoadedError

_MAX = 256
_cache: OrderedDict[str, tuple[Any, dict[str, Any]]] = OrderedDict()
_lock = threading.Lock()


def key_for(version_id: int, sha256: str) -> str:
    """The spec key stored in instance state: id plus content hash, never ambiguous."""
    return f"{version_id}:{sha256[:16]}"


def cached(key: str | None) -> tuple[Any, dict[str, Any]]:
    """The parsed (spec, subprocess_specs) of a version already put in the cache."""
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)  # type: ignore[arg-type]
            return _cache[key]  # type: ignore[index]
    raise SpecNotLoadedError(f"process version {key} is not loaded in this worker")


def ensure(key: str, load: Callable[[], str]) -> tuple[Any, dict[str, Any]]:
    """Return the cached specs, filling the cache from `load()` (the stored spec JSON)."""
    try:
        return cached(key)
    except SpecNotLoadedError:
        pass
    from app.engine.serializer import spec_from_json

    spec, subprocess_specs = spec_from_json(load())
    spec.spec_key = key
    with _lock:
        _cache[key] = (spec, subprocess_specs)
        while len(_cache) > _MAX:
            _cache.popitem(last=False)
    return spec, subprocess_specs


def clear() -> None:
    with _lock:
        _cache.clear()
