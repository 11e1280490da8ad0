"""统计看板 in Chromium: a department leader opens the dashboard, the charts are drawn, the
tables carry the numbers, and the CSV and XLSX downloads hold the same numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.e2e

HONGQIAO = "91310105MAAY4CL126"
GROUND = "信息错误或不完整、公示期限错误"

PAINTED = """(canvas) => {
  const ctx = canvas.getContext('2d');
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
  return painted;
}"""


def _objection_with_the_provider(api: Any) -> str:
    """ent_hongqiao objects to one of its records; the window forwards it. Returns the dept."""
    records = api.get(f"/subjects/{HONGQIAO}/records", "ent_hongqiao")["items"]
    record = next(r for r in records if r["status"] == "published")
    started = api.post(
        "/process-instances",
        "ent_hongqiao",
        {
            "process_key": "objection_handling",
            "data": {"record_id": record["id"], "ground": "wrong_info", "claim": "金额有误。"},
        },
    )
    task = api.wait_task("clerk_window", started["id"], "platform_check")
    api.complete("clerk_window", task, {"decision": "forward"})
    return str(record["department"])


def _html_rows(page: Any, key: str) -> list[list[str]]:
    return page.eval_on_selector(
        f"#table-{key}",
        """t => [...t.querySelectorAll('tr')].map(
            r => [...r.querySelectorAll('th,td')].map(c => c.innerText.trim()))""",
    )


def _download(page: Any, key: str, label: str) -> Path:
    with page.expect_download() as info:
        page.locator(f"#block-{key} .dash-exports a", has_text=label).click()
    download = info.value
    assert download.suggested_filename.startswith(key)
    return Path(download.path())


def test_leader_dashboard_charts_tables_and_downloads(
    page: Any, api: Any, sign_in: Any, screenshot: Any
) -> None:
    department = _objection_with_the_provider(api)
    sign_in(page, f"lead_{department}")
    page.goto("/dashboards")
    assert page.locator("main h1").inner_text() == "统计看板"

    # Charts: every canvas the page announces is drawn, and has pixels on it.
    page.wait_for_selector("canvas[data-chart-ready='true']")
    canvases = page.locator("canvas[role='img']")
    assert canvases.count() >= 3
    for i in range(canvases.count()):
        canvas = canvases.nth(i)
        assert canvas.get_attribute("data-chart-ready") == "true"
        assert canvas.evaluate(PAINTED) > 100, canvas.get_attribute("id")
    screenshot(page, "dashboard")

    # Tables: the objection just forwarded is counted, under its ground, as pending.
    rows = _html_rows(page, "objections_ground")
    header, body = rows[0], {r[0]: r for r in rows[1:]}
    assert header[:2] == ["异议理由", "受理"]
    wrong = body[GROUND]
    assert int(wrong[header.index("受理")]) >= 1 and int(wrong[header.index("办理中")]) >= 1
    tasks = {r[0]: r for r in _html_rows(page, "tasks_department")[1:]}
    (mine,) = tasks.values()  # a leader sees their own department only
    assert int(mine[1]) >= 1  # the provider's decision task is open

    # Downloads: the same numbers as the page.
    with open(_download(page, "objections_ground", "CSV"), encoding="utf-8-sig") as f:
        exported = list(csv.reader(f))
    shown = [[("" if v == "—" else v) for v in r] for r in rows]
    assert exported == shown
    book = load_workbook(io.BytesIO(_download(page, "objections_ground", "Excel").read_bytes()))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == header
    from_xlsx = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    assert from_xlsx[GROUND][1].value == int(wrong[1])  # a number, not text

    # The 践诺率 table also downloads, with every month of the default period.
    with open(_download(page, "fulfilment_month", "CSV"), encoding="utf-8-sig") as f:
        months = list(csv.reader(f))
    assert months[0][0] == "月份" and len(months) == 1 + 12
    screenshot(page, "downloaded")
