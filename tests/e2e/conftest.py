"""End-to-end fixtures: the real app in a subprocess on loopback, driven by Debian's Chromium.

The server runs as `flask --app wsgi run` (plus `flask worker`) against a fresh SQLite file in a
temporary instance directory, after `db upgrade`, `seed demo` (today = the real date) and
`bpmn deploy` — exactly what `make run` does. Nothing here touches the in-process app or the
shared `app.extensions.db` session, so the backend-parametrized fixtures of tests/conftest.py are
neither used nor disturbed.

Without /usr/bin/chromium (or the `playwright` package) every e2e test is skipped with the
reason; with REQUIRE_E2E=1 that is a failure instead.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
REQUIRE_E2E = os.environ.get("REQUIRE_E2E") == "1"
PASSWORD = "demo12345"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT_S = 60
PAGE_TIMEOUT_MS = 10_000
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end test in Chromium against a live server")


def _missing_browser() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install chromium; `make test` installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package `playwright` is not installed in the venv"
    return None


@pytest.fixture(scope="session")
def chromium_available() -> None:
    reason = _missing_browser()
    if reason is None:
        return
    if REQUIRE_E2E:
        pytest.fail(f"REQUIRE_E2E=1 but {reason}")
    pytest.skip(f"end-to-end tests skipped: {reason}")


# --- the live server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _flask() -> list[str]:
    exe = Path(sys.executable).parent / "flask"
    return [str(exe) if exe.exists() else sys.executable, "--app", "wsgi"]


@dataclass
class LiveServer:
    base_url: str
    instance_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path


def _wait_healthy(server: LiveServer, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.processes[0].poll() is not None:
            break
        try:
            with urllib.request.urlopen(server.url("/healthz"), timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"the e2e server did not start:\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="session")
def live_server(chromium_available: None) -> Iterator[LiveServer]:
    """`make run` in miniature: migrate, seed, deploy, then serve with the worker."""
    with tempfile.TemporaryDirectory(prefix="creditflow-e2e-") as tmp:
        instance = Path(tmp)
        env = {
            **os.environ,
            "INSTANCE_DIR": str(instance),
            "DATABASE_URL": f"sqlite:///{instance / 'e2e.db'}",
            "STORAGE_DIR": str(instance / "files"),
            "SECRET_KEY": "e2e-secret-key",
            "WEBHOOK_SECRET": "e2e-webhook-secret",
            "DEMO_PASSWORD": PASSWORD,
            "LOGIN_RATE_LIMIT": "1000 per minute",  # every test signs in several accounts
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("FLASK_DEBUG", None)
        for step in (["db", "upgrade"], ["seed", "demo"], ["bpmn", "deploy"]):
            done = subprocess.run(
                [*_flask(), *step], cwd=ROOT, env=env, capture_output=True, timeout=120
            )
            if done.returncode != 0:
                output = (done.stdout + done.stderr).decode(errors="replace")
                pytest.fail(f"`flask {' '.join(step)}` failed:\n{output[-4000:]}", pytrace=False)
        port = _free_port()
        server = LiveServer(f"http://127.0.0.1:{port}", instance)
        log = instance / "server.log"
        with open(log, "wb") as out:
            server.processes.append(
                subprocess.Popen(
                    [*_flask(), "run", "--host", "127.0.0.1", "--port", str(port)],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
            server.processes.append(
                subprocess.Popen(
                    [*_flask(), "worker", "--interval", "1"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
            try:
                _wait_healthy(server, log)
                yield server
            finally:
                for proc in server.processes:
                    proc.terminate()
                for proc in server.processes:
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(timeout=5)


# --- REST API client (for steps whose page does not exist yet) ----------------------------------


class ApiError(AssertionError):
    pass


class Api:
    """A tiny urllib client for /api/v1 on the live server, one bearer token per username."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.tokens: dict[str, str] = {}

    def _send(self, method: str, path: str, who: str | None, body: bytes | None, ctype: str) -> Any:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = ctype
        if who:
            headers["Authorization"] = f"Bearer {self.token(who)}"
        request = urllib.request.Request(
            self.server.url("/api/v1" + path), data=body, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            raise ApiError(f"{method} {path} -> {err.code}: {err.read().decode()[:800]}") from None

    def token(self, who: str) -> str:
        if who not in self.tokens:
            body = json.dumps({"username": who, "password": PASSWORD}).encode()
            self.tokens[who] = self._send("POST", "/auth/token", None, body, "application/json")[
                "token"
            ]
        return self.tokens[who]

    def get(self, path: str, who: str) -> Any:
        return self._send("GET", path, who, None, "")

    def post(self, path: str, who: str, data: dict[str, Any] | None = None) -> Any:
        return self._send("POST", path, who, json.dumps(data or {}).encode(), "application/json")

    def upload(self, instance_id: int, who: str, kind: str, filename: str = "材料.pdf") -> str:
        boundary = uuid.uuid4().hex
        parts = [
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'
            ).encode(),
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{urllib.parse.quote(filename)}"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + PDF
            + b"\r\n",
            f"--{boundary}--\r\n".encode(),
        ]
        result = self._send(
            "POST",
            f"/process-instances/{instance_id}/attachments",
            who,
            b"".join(parts),
            f"multipart/form-data; boundary={boundary}",
        )
        return str(result["id"])

    def ready_tasks(self, who: str, instance_id: int, bpmn_id: str) -> list[dict[str, Any]]:
        listed = self.get("/tasks?scope=candidate&state=ready", who)
        return [
            t
            for t in listed["items"]
            if t["instance_id"] == instance_id and t["bpmn_id"] == bpmn_id
        ]

    def wait_task(
        self, who: str, instance_id: int, bpmn_id: str, timeout: float = 10
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.ready_tasks(who, instance_id, bpmn_id)
            if found:
                assert len(found) == 1, found
                return found[0]
            if time.monotonic() > deadline:
                raise ApiError(f"no ready {bpmn_id} task for {who} on instance {instance_id}")
            time.sleep(0.2)

    def complete(self, who: str, task: dict[str, Any], data: dict[str, Any]) -> Any:
        return self.post(f"/tasks/{task['id']}/complete", who, {"data": data})


@pytest.fixture()
def api(live_server: LiveServer) -> Api:
    return Api(live_server)


# --- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(chromium_available: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def context(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser context (cookies, storage) per test, Chinese first."""
    ctx = browser.new_context(
        base_url=live_server.base_url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    ctx.set_default_timeout(PAGE_TIMEOUT_MS)
    ctx.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture()
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture()
def new_page(context: Any, browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """Factory for extra pages in their own contexts (another user signed in at the same time)."""
    opened: list[Any] = []

    def make() -> Any:
        ctx = browser.new_context(
            base_url=live_server.base_url, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        ctx.set_default_timeout(PAGE_TIMEOUT_MS)
        opened.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in opened:
        ctx.close()


@pytest.fixture()
def screenshot(request: pytest.FixtureRequest) -> Any:
    """`screenshot(page, "label")` writes tests/artifacts/<test>-<nn>-<label>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^\w.-]+", "_", request.node.name)
    for stale in ARTIFACTS.glob(f"{test}-*.png"):  # this test's shots from an earlier run
        stale.unlink()
    counter = iter(range(1, 100))

    def take(page: Any, label: str) -> Path:
        safe = re.sub(r"[^\w.-]+", "_", label)
        path = ARTIFACTS / f"{test}-{next(counter):02d}-{safe}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def _sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form and wait for the home page."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "/login" not in page.url, page.content()[:2000]


def _sign_out(page: Any) -> None:
    with page.expect_navigation():
        page.click("header .who form button[type=submit]")


def _page_exists(page: Any, path: str) -> bool:
    """True when the signed-in user's GET of `path` is not a 404 (the page has been built)."""
    response = page.request.get(path)
    return response.status != 404


@pytest.fixture()
def sign_in() -> Any:
    return _sign_in


@pytest.fixture()
def sign_out() -> Any:
    return _sign_out


@pytest.fixture()
def page_exists() -> Any:
    return _page_exists


# --- one step of a process, in the browser when its page exists, else through the API -----------


def _fill_task_form(page: Any, data: dict[str, Any]) -> None:
    """Fill #task-form from a flat {name: value} dict: selects, radios, checkboxes, text."""
    form = page.locator("#task-form")
    for name, value in data.items():
        field = form.locator(f'[name="{name}"]')
        kind = field.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind.startswith("select"):
            field.first.select_option(str(value))
        elif kind == "input:radio":
            form.locator(f'[name="{name}"][value="{value}"]').check()
        elif kind == "input:file":
            field.first.set_input_files(value)  # {"name", "mimeType", "buffer"}
        elif kind == "input:checkbox":
            field.first.set_checked(bool(value))
        else:
            field.first.fill(str(value))


class Flow:
    """Drives one human task: the approver inbox + task page when they exist, else the API."""

    def __init__(self, api: Api, new_page: Any, screenshot: Any) -> None:
        self.api = api
        self.new_page = new_page
        self.screenshot = screenshot
        self.pages: dict[str, Any] = {}
        self.via_api: list[str] = []
        self.notes: list[str] = []

    def page_for(self, who: str) -> Any:
        if who not in self.pages:
            page = self.new_page()
            _sign_in(page, who)
            self.pages[who] = page
        return self.pages[who]

    def wait_done(self, who: str, task: dict[str, Any], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.api.get(f"/tasks/{task['id']}", who)
            if state.get("state") == "completed":
                return
            time.sleep(0.1)
        raise AssertionError(f"task {task['bpmn_id']} of {who} not completed: {state}")

    def complete(
        self, who: str, instance_id: int, bpmn_id: str, data: dict[str, Any], label: str
    ) -> dict[str, Any]:
        task = self.api.wait_task(who, instance_id, bpmn_id)
        page = self.page_for(who)
        if page.request.get(f"/tasks/{task['id']}").status == 404:
            self.via_api.append(f"{label} ({bpmn_id})")
            self.api.complete(who, task, data)
            return task
        if _page_exists(page, "/approver/inbox") and self._is_approver(who):
            page.goto("/approver/inbox")
            case = re.compile(rf"#{instance_id}\b")
            row = page.locator("tbody tr", has_text=case).filter(has_text=task["name"])
            self.screenshot(page, f"{label}-inbox")
            claim = row.get_by_role("button", name="认领")
            if claim.count():
                with page.expect_navigation():
                    claim.first.click()
                with page.expect_navigation():  # claimed: the task is now under "mine"
                    page.locator(".tabs a, nav a, a").filter(
                        has_text=re.compile("^我的")
                    ).first.click()
            page.locator("tbody tr", has_text=case).get_by_role(
                "link", name=task["name"]
            ).first.click()
            page.wait_for_load_state()
            if f"/tasks/{task['id']}" not in page.url:
                # The inbox links to the case page until it finds the task page's endpoint.
                self.notes.append(f"inbox linked {task['bpmn_id']} to {page.url}, not the task")
                self.screenshot(page, f"{label}-case")
                page.goto(f"/tasks/{task['id']}")
        else:
            page.goto(f"/tasks/{task['id']}")
        page.wait_for_selector("#task-form")
        _fill_task_form(page, data)
        self.screenshot(page, f"{label}-task")
        page.locator("#task-form button[type=submit]").click()
        self.wait_done(who, task)
        page.wait_for_load_state()
        return task

    def _is_approver(self, who: str) -> bool:
        return not who.startswith("ent_")


@pytest.fixture()
def flow(api: Api, new_page: Any, screenshot: Any) -> Flow:
    return Flow(api, new_page, screenshot)
