"""Smoke test in Chromium: sign-in page, failed and good sign-in, records, language, sign-out."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def test_login_records_language_and_logout(
    page: Any, screenshot: Any, sign_in: Any, sign_out: Any
) -> None:
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("main h1").inner_text() == "登录"
    assert page.get_by_label("用户名").count() == 1 or page.locator("#username").count() == 1
    screenshot(page, "login")

    page.fill("#username", "ent_chengxi")
    page.fill("#password", "wrong-password")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    error = page.locator("#password-error")
    assert "用户名或密码不正确" in error.inner_text()
    assert page.locator("#password").get_attribute("aria-invalid") == "true"
    assert page.input_value("#username") == "ent_chengxi"  # input kept
    screenshot(page, "login-error")

    sign_in(page, "ent_chengxi")
    assert "上海澄溪示例食品有限公司" in page.locator("main").inner_text()
    page.get_by_role("navigation").get_by_role("link", name="我的信用记录").click()
    page.wait_for_load_state()
    table = page.locator("main table")
    rows = table.locator("tbody tr")
    assert rows.count() >= 5, table.inner_text()
    header = table.locator("thead").inner_text()
    assert "可申请修复日期" in header
    body = table.locator("tbody").inner_text()
    assert len(DATE.findall(body)) >= 5
    # repairable-from dates: one in the past (repairable now), the serious penalty's in the future
    today = date.today().isoformat()
    column = [h.strip() for h in header.split("\t")].index("可申请修复日期")
    repairable_from = []
    for i in range(rows.count()):
        cell = rows.nth(i).locator("td").nth(column).inner_text()
        repairable_from += DATE.findall(cell)
    assert any(d <= today for d in repairable_from), repairable_from
    assert any(d > today for d in repairable_from), repairable_from
    screenshot(page, "records")

    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="中文").count() == 1
    assert "My credit records" in page.locator("body").inner_text()
    screenshot(page, "records-en")
    with page.expect_navigation():
        page.get_by_role("button", name="中文").click()
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    sign_out(page)
    assert "/login" in page.url
    assert "您已退出登录" in page.locator("main").inner_text()
    page.goto("/")
    assert "/login" in page.url  # signed out: the home page asks to sign in again
