"""Upload limits and a full disk: clear errors, nothing stored, no half-written file left."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.faults.conftest import REPO, Gunicorn, api_token, app_env, prepare_database

pytestmark = pytest.mark.postgres  # real processes against a scratch PostgreSQL

PNG = b"\x89PNG\r\n\x1a\n"
KB = 1024


def _png(size: int) -> bytes:
    return PNG + os.urandom(size - len(PNG))


def _files_in(storage: Path) -> list[Path]:
    return sorted(p for p in storage.rglob("*") if p.is_file()) if storage.exists() else []


def _upload(base: str, headers: dict[str, str], instance_id: int, body: bytes) -> requests.Response:
    return requests.post(
        f"{base}/api/v1/process-instances/{instance_id}/attachments",
        headers=headers,
        data={"kind": "承诺书"},
        files={"file": ("material.png", body, "image/png")},
        timeout=60,
    )


def _attachments(base: str, headers: dict[str, str], instance_id: int) -> list[dict]:
    response = requests.get(
        f"{base}/api/v1/process-instances/{instance_id}", headers=headers, timeout=30
    )
    assert response.status_code == 200, response.text
    return list(response.json()["attachments"])


@pytest.fixture()
def prepared(scratch_url: str, tmp_path: Path) -> int:
    """The scratch database with one review_case instance of ent_chengxi; its id."""
    created = prepare_database(
        tmp_path,
        scratch_url,
        (REPO / "tests/bpmn/review_case",),
        (("review_case", "ent_chengxi", 1),),
    )
    return int(created[0]["instance"])


def test_oversized_uploads_get_413_and_store_nothing(
    scratch_url: str, tmp_path: Path, prepared: int
) -> None:
    storage = tmp_path / "files"
    env = app_env(tmp_path, scratch_url, MAX_UPLOAD_MB="2", ATTACHMENT_MAX_MB="1")
    server = Gunicorn(tmp_path, env, workers=1)
    try:
        headers = api_token(server.base, "ent_chengxi")
        # Over the per-file limit (1 MB): refused while streaming, the partial copy removed.
        too_big = _upload(server.base, headers, prepared, _png(1536 * KB))
        assert too_big.status_code == 413
        assert too_big.json()["error"]["code"] == "too_large"
        assert "1 MB" in too_big.json()["error"]["message"]
        # Over the request limit (2 MB): refused before the body is read.
        huge = _upload(server.base, headers, prepared, _png(3 * 1024 * KB))
        assert huge.status_code == 413
        assert "上传的文件过大" in huge.json()["error"]["message"]
        # The same limit on a page: a Chinese error page, not a crash.
        page = requests.post(
            f"{server.base}/register",
            data={"name": "x" * (3 * 1024 * KB)},
            headers={"Accept": "text/html"},
            timeout=60,
        )
        assert page.status_code == 413
        assert "text/html" in page.headers["Content-Type"]
        assert "上传的文件过大" in page.text
        assert _files_in(storage) == []
        assert _attachments(server.base, headers, prepared) == []
        # Within the limits it is stored.
        ok = _upload(server.base, headers, prepared, _png(100 * KB))
        assert ok.status_code == 201, ok.text
        assert len(_files_in(storage)) == 1
    finally:
        server.stop()


def _tmpfs(path: Path, size_kb: int) -> Callable[[], None] | None:
    """Mount a tiny tmpfs at `path`; the unmount function, or None where mounting is refused."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        return None
    return lambda: subprocess.run(["umount", "-l", str(path)], check=False)


def _limit_file_size(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the server process: writes past `limit` fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.fixture()
def full_disk_server(
    scratch_url: str, tmp_path: Path, prepared: int
) -> Iterator[tuple[Gunicorn, Path, str]]:
    """gunicorn whose STORAGE_DIR holds only 256 KB: a tmpfs, else RLIMIT_FSIZE, else skip."""
    storage = tmp_path / "files"
    unmount = _tmpfs(storage, 256)
    env = app_env(tmp_path, scratch_url)
    if unmount is not None:
        how = "tmpfs"
        server = Gunicorn(tmp_path, env, workers=1)
    else:
        how = "RLIMIT_FSIZE"
        try:
            server = Gunicorn(tmp_path, env, workers=1, preexec_fn=_limit_file_size(256 * KB))
        except AssertionError as exc:
            pytest.skip(f"cannot simulate a full disk here (no mount, RLIMIT_FSIZE failed: {exc})")
    try:
        yield server, storage, how
    finally:
        server.stop()
        if unmount is not None:
            unmount()


def test_a_full_disk_gives_507_and_leaves_no_partial_file(
    full_disk_server: tuple[Gunicorn, Path, str], prepared: int
) -> None:
    server, storage, how = full_disk_server
    headers = api_token(server.base, "ent_chengxi")
    full = _upload(server.base, headers, prepared, _png(400 * KB))
    assert full.status_code == 507, (how, full.status_code, full.text[:300])
    body = full.json()["error"]
    assert body["code"] == "insufficient_storage"
    assert "存储空间不足" in body["message"]
    assert _files_in(storage) == [], how  # the temporary copy was removed
    assert _attachments(server.base, headers, prepared) == []
    # A file that fits is still accepted: the service carries on.
    ok = _upload(server.base, headers, prepared, _png(20 * KB))
    assert ok.status_code == 201, ok.text
    assert [a["size"] for a in _attachments(server.base, headers, prepared)] == [20 * KB]
    assert len(_files_in(storage)) == 1
