"""The database goes away and comes back: 503 meanwhile, recovery without a restart."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.faults.conftest import REPO, Gunicorn, api_token, app_env, prepare_database
from tests.faults.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres  # real processes against a scratch PostgreSQL


@pytest.fixture()
def proxied(scratch_url: str, tmp_path: Path) -> Iterator[tuple[Gunicorn, TcpProxy, list]]:
    """gunicorn (2 workers) whose only way to PostgreSQL is a proxy the test can cut."""
    prepared = prepare_database(
        tmp_path,
        scratch_url,
        (REPO / "tests/bpmn/review_case",),
        (("review_case", "ent_chengxi", 2),),
    )
    target = urlsplit(scratch_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    url = scratch_url.replace(target.netloc, f"{target.username}@127.0.0.1:{proxy.port}")
    server = Gunicorn(tmp_path, app_env(tmp_path, url), workers=2)
    try:
        yield server, proxy, prepared
    finally:
        server.stop()
        proxy.close()


def _signed_in(base: str, username: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(base + "/login", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token, page.text[:500]
    response = browser.post(
        base + "/login",
        data={"username": username, "password": "demo12345", "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    return browser


def test_requests_get_503_while_the_database_is_cut_and_work_again_after(
    proxied: tuple[Gunicorn, TcpProxy, list],
) -> None:
    server, proxy, prepared = proxied
    base = server.base
    browser = _signed_in(base, "ent_chengxi")
    headers = api_token(base, "ent_chengxi")
    first, second = (item["tasks"][0] for item in prepared)
    assert browser.get(base + "/", timeout=10).status_code == 200
    assert requests.get(base + "/api/v1/tasks", headers=headers, timeout=10).status_code == 200

    proxy.cut()
    # Every worker's pooled connection is dead now; several requests reach both workers.
    for _ in range(4):
        page = browser.get(base + "/", timeout=15)
        assert page.status_code == 503
        assert "text/html" in page.headers["Content-Type"]
        assert "系统暂时无法连接数据库" in page.text
        assert page.headers.get("Retry-After") == "30"
        listing = requests.get(base + "/api/v1/tasks", headers=headers, timeout=15)
        assert listing.status_code == 503
        assert listing.json()["error"]["code"] == "unavailable"
        assert "数据库" in listing.json()["error"]["message"]
    health = requests.get(base + "/healthz", timeout=15)
    assert (health.status_code, health.json()["db"]) == (503, "unavailable")
    # A completion sent during the outage is refused, not half-applied.
    refused = requests.post(
        base + f"/api/v1/tasks/{first}/complete",
        json={"data": {"claim": "断线期间提交"}},
        headers=headers,
        timeout=15,
    )
    assert refused.status_code == 503

    proxy.restore()
    for _ in range(4):  # both workers recover on their own (pool pre-ping), no restart
        assert browser.get(base + "/", timeout=15).status_code == 200
        assert requests.get(base + "/api/v1/tasks", headers=headers, timeout=15).status_code == 200
    for task_id in (first, second):
        done = requests.post(
            base + f"/api/v1/tasks/{task_id}/complete",
            json={"data": {"claim": "恢复后提交"}},
            headers=headers,
            timeout=15,
        )
        assert done.status_code == 200, done.text
        task = requests.get(base + f"/api/v1/tasks/{task_id}", headers=headers, timeout=15)
        assert task.json()["state"] == "completed"
    # The completion refused during the outage was not applied: only the one after it counts.
    reviewer = api_token(base, "rev_samr")
    inbox = requests.get(base + "/api/v1/tasks", headers=reviewer, timeout=15).json()
    items = inbox["items"] if isinstance(inbox, dict) else inbox
    review_tasks = [t for t in items if t["bpmn_id"] == "review_application"]
    assert len(review_tasks) == 2


def test_a_database_that_stops_answering_gives_503_soon_not_a_hung_worker(
    proxied: tuple[Gunicorn, TcpProxy, list],
) -> None:
    server, proxy, _prepared = proxied
    base = server.base
    headers = api_token(server.base, "ent_chengxi")
    assert requests.get(base + "/api/v1/tasks", headers=headers, timeout=10).status_code == 200

    proxy.cut(blackhole=True)  # connections are accepted but never answered
    for _ in range(2):
        started = time.monotonic()
        listing = requests.get(base + "/api/v1/tasks", headers=headers, timeout=40)
        elapsed = time.monotonic() - started
        assert listing.status_code == 503, listing.text[:300]
        assert listing.json()["error"]["code"] == "unavailable"
        assert elapsed < 20, elapsed  # the connect timeout, well before gunicorn's worker timeout

    proxy.restore()
    assert requests.get(base + "/api/v1/tasks", headers=headers, timeout=15).status_code == 200
