"""统计看板 over HTTP: who may see what, filters (422 with field messages), the numbers on the
page and in the CSV / XLSX files (parsed back with csv and openpyxl), audit of exports."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Matter, Subject
from app.services import commitments
from tests.conftest import login

HONGQIAO, CHENGXI = "91310105MAAY4CL126", "91310114MA1GT8QX92"
FOOD, PROJECT = "SAMR-SPJY-001", "NDRC-XMBA-002"
NOV = "from=2026-11&to=2026-11"


def _commit(session: Session, uscc: str, code: str, due: date, status: str | None, closed=None):
    matter = session.scalar(select(Matter).where(Matter.code == code))
    subject = session.scalar(select(Subject).where(Subject.uscc == uscc))
    made = commitments.sign(
        session,
        kind="rongque",
        subject=subject,
        text=f"测试承诺 {code} {due}",
        signer_name="王某某",
        signed_by=None,
        matter_id=matter.id,
        department_id=matter.department_id,
        due_on=due,
    )
    if status:
        commitments.set_status(session, made.id, status, closed or due)
    return made


@pytest.fixture()
def data(seeded: Session) -> Session:
    _commit(seeded, HONGQIAO, FOOD, date(2026, 11, 10), "fulfilled")
    _commit(seeded, HONGQIAO, FOOD, date(2026, 11, 12), "fulfilled_late", date(2026, 11, 15))
    _commit(seeded, CHENGXI, FOOD, date(2026, 11, 14), "breached", date(2026, 11, 15))
    _commit(seeded, HONGQIAO, PROJECT, date(2026, 11, 5), "fulfilled")
    seeded.commit()
    return seeded


def _table(html: str, key: str) -> list[list[str]]:
    """The cells of table#table-<key> (header row first), tags stripped."""
    match = re.search(rf'<table class="table" id="table-{key}">(.*?)</table>', html, re.S)
    assert match, f"no table {key}"
    rows = re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def _csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese text as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# --- access --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "staff", "mine"),
    [
        ("admin", 200, 403),
        ("lead_samr", 200, 403),
        ("rev_samr", 403, 403),
        ("clerk_window", 403, 403),
        ("insp_samr", 403, 403),
        ("owner", 403, 403),
        ("ent_chengxi", 403, 200),
    ],
)
def test_who_may_open_which_dashboard(
    client: FlaskClient, seeded: Session, username: str, staff: int, mine: int
) -> None:
    login(client, username)
    assert client.get("/dashboards").status_code == staff
    assert client.get("/dashboards/fulfilment_month.csv").status_code == staff
    assert client.get("/dashboards/mine").status_code == mine
    assert client.get("/dashboards/mine/my_commitments.xlsx").status_code == mine


def test_anonymous_is_sent_to_sign_in(client: FlaskClient, seeded: Session) -> None:
    for path in ("/dashboards", "/dashboards/tasks_department.xlsx", "/dashboards/mine"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_leader_sees_own_department_and_gets_403_for_another(
    client: FlaskClient, data: Session
) -> None:
    login(client, "lead_samr")
    page = client.get(f"/dashboards?{NOV}")
    assert page.status_code == 200
    assert "范围：区市场监管局" in page.text
    rows = _table(page.text, "fulfilment_department")
    assert rows[1:] == [["区市场监管局", "3", "1", "1", "1", "0", "33.3%"]]
    assert "区发展改革委" not in page.text.split('id="table-fulfilment_department"')[1][:2000]
    assert client.get(f"/dashboards?{NOV}&department=samr").status_code == 200
    assert client.get(f"/dashboards?{NOV}&department=ndrc").status_code == 403
    assert client.get(f"/dashboards/fulfilment_month.csv?{NOV}&department=ndrc").status_code == 403
    # the department list offers only their own
    options = re.findall(r'<option value="([^"]*)"', page.text)
    assert options == ["samr"]


def test_admin_sees_every_department_and_may_filter(client: FlaskClient, data: Session) -> None:
    login(client, "admin")
    page = client.get(f"/dashboards?{NOV}")
    rows = _table(page.text, "fulfilment_department")
    assert rows[1:] == [
        ["区发展改革委", "1", "1", "0", "0", "0", "100.0%"],
        ["区市场监管局", "3", "1", "1", "1", "0", "33.3%"],
    ]
    assert "全部部门" in page.text
    ndrc = client.get(f"/dashboards?{NOV}&department=ndrc")
    assert _table(ndrc.text, "fulfilment_department")[1:] == [
        ["区发展改革委", "1", "1", "0", "0", "0", "100.0%"]
    ]


# --- filters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-13", "from", "开始时间无效"),
        ("from=yesterday", "from", "开始时间无效"),
        ("to=2026-02-30", "to", "结束时间无效"),
        ("from=1999-01", "from", "开始时间无效"),
        ("from=2026-11&to=2026-10", "to", "结束时间不能早于开始时间"),
        ("from=2010-01&to=2026-10", "to", "不能超过 10 年"),
        ("department=nope", "department", "部门不存在"),
    ],
)
def test_bad_filters_answer_422_with_the_field_message(
    client: FlaskClient, seeded: Session, query: str, field: str, message: str
) -> None:
    login(client, "admin")
    page = client.get(f"/dashboards?{query}")
    assert page.status_code == 422
    error = re.search(rf'<p class="error" id="f-{field}-error">([^<]*)</p>', page.text)
    assert error and message in error.group(1)
    assert f'aria-describedby="f-period-help f-{field}-error"' in page.text or (
        f'aria-describedby="f-{field}-error"' in page.text
    )
    assert 'aria-invalid="true"' in page.text
    download = client.get(f"/dashboards/tasks_department.csv?{query}")
    assert download.status_code == 422
    api_style = client.get(
        f"/dashboards/tasks_department.xlsx?{query}", headers={"Accept": "application/json"}
    )
    assert api_style.status_code == 422
    assert message in api_style.json["error"]["details"]["fields"][field][0]


def test_leader_with_unknown_department_gets_422_not_403(
    client: FlaskClient, seeded: Session
) -> None:
    login(client, "lead_samr")
    assert client.get("/dashboards?department=nope").status_code == 422


def test_enterprise_overview_refuses_a_department_filter(
    client: FlaskClient, seeded: Session
) -> None:
    login(client, "ent_chengxi")
    page = client.get("/dashboards/mine?department=samr")
    assert page.status_code == 422 and "此页面不按部门筛选" in page.text
    assert client.get("/dashboards/mine?to=2026-99").status_code == 422


def test_unknown_table_is_404(client: FlaskClient, seeded: Session) -> None:
    login(client, "admin")
    assert client.get("/dashboards/nothing.csv").status_code == 404
    assert client.get("/dashboards/fulfilment_month.pdf").status_code == 404


def test_staff_table_is_not_an_enterprise_table(client: FlaskClient, seeded: Session) -> None:
    login(client, "ent_chengxi")
    assert client.get("/dashboards/mine/fulfilment_month.csv").status_code == 404


# --- page structure and charts -------------------------------------------------------------


def test_tables_are_accessible_and_charts_have_their_data(
    client: FlaskClient, data: Session
) -> None:
    login(client, "admin")
    page = client.get("/dashboards?from=2026-10&to=2026-11").text
    for key in ("fulfilment_month", "repairs_outcome", "objections_ground", "tasks_department"):
        block = page.split(f'id="table-{key}"')[1].split("</table>")[0]
        assert "<caption>" in block and 'scope="col"' in block
    month = _table(page, "fulfilment_month")
    assert month[0][0] == "月份" and month[1:] == [
        ["2026-10", "0", "0", "0", "0", "0", "—"],
        ["2026-11", "4", "2", "1", "1", "0", "50.0%"],
    ]
    assert '<th scope="row">2026-11</th>' in page
    raw = re.search(
        r'<script type="application/json" id="dashboard-charts">(.*?)</script>', page, re.S
    )
    charts = {c["canvas"]: c for c in json.loads(raw.group(1))}
    chart = charts["chart-fulfilment_month"]
    assert chart["labels"] == ["2026-10", "2026-11"]
    assert [d["data"] for d in chart["datasets"]] == [[0, 2], [0, 1], [0, 1], [0, 0]]
    assert chart["rate"]["data"] == [None, 50.0]
    # Codes are shown as their labels; an all-zero ring is not drawn (the table says 0).
    assert charts["chart-objections_ground"]["labels"][0] == "信息错误或不完整、公示期限错误"
    assert "chart-repairs_outcome" not in charts
    for canvas in charts:
        assert f'<canvas id="{canvas}" role="img"' in page
    assert "dist/charts.js" in page


# --- exports -------------------------------------------------------------------------------


def test_csv_export_has_the_numbers_of_the_page(client: FlaskClient, data: Session) -> None:
    login(client, "lead_samr")
    response = client.get(f"/dashboards/fulfilment_matter.csv?{NOV}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="fulfilment_matter.csv"' in response.headers["Content-Disposition"]
    rows = _csv(response.data)
    assert rows == [
        ["事项", "应履行", "按期履行", "逾期履行", "违诺", "到期未认定", "践诺率"],
        ["食品经营许可（新办）", "3", "1", "1", "1", "0", "33.3%"],
    ]
    event = data.scalar(select(AuditEvent).where(AuditEvent.action == "dashboard.exported"))
    assert event.actor_name == "lead_samr" and event.object_id == "fulfilment_matter"
    assert event.details["department"] == "samr" and event.details["format"] == "csv"


def test_xlsx_export_is_typed_and_carries_the_filters(client: FlaskClient, data: Session) -> None:
    login(client, "admin")
    response = client.get("/dashboards/fulfilment_month.xlsx?from=2026-10&to=2026-11-30")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == [
        "月份",
        "应履行",
        "按期履行",
        "逾期履行",
        "违诺",
        "到期未认定",
        "践诺率",
    ]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert rows == [["2026-10", 0, 0, 0, 0, 0, None], ["2026-11", 4, 2, 1, 1, 0, 0.5]]
    assert sheet["G3"].number_format == "0.0%"
    notes = {r[0].value: r[1].value for r in book["说明"].iter_rows()}
    assert notes["统计期间"] == "2026-10-01 — 2026-11-30" and notes["部门"] == "全部部门"


def test_every_staff_table_downloads_in_both_formats(client: FlaskClient, data: Session) -> None:
    from app.web.dashboards.specs import STAFF_TABLES

    login(client, "admin")
    for key, spec in STAFF_TABLES.items():
        header = [str(c.label) for c in spec.columns]
        body = client.get(f"/dashboards/{key}.csv?{NOV}")
        assert body.status_code == 200 and _csv(body.data)[0] == header, key
        book = load_workbook(io.BytesIO(client.get(f"/dashboards/{key}.xlsx?{NOV}").data))
        assert [c.value for c in book.worksheets[0][1]] == header, key


# --- the enterprise's own overview ---------------------------------------------------------


def test_enterprise_sees_only_its_own_commitments(client: FlaskClient, data: Session) -> None:
    login(client, "ent_hongqiao")
    page = client.get(f"/dashboards/mine?{NOV}")
    assert page.status_code == 200 and "上海虹桥示例商贸有限公司" in page.text
    summary = _table(page.text, "my-fulfilment")
    assert summary[1] == ["66.7%", "3", "2", "1", "0", "0"]
    rows = _table(page.text, "my_commitments")[1:]
    assert sorted(r[5] for r in rows) == ["按期履行", "按期履行", "逾期履行"]
    assert "违诺" not in {r[5] for r in rows}  # chengxi's breach is not shown here
    exported = _csv(client.get(f"/dashboards/mine/my_commitments.csv?{NOV}").data)
    assert exported[0][:3] == ["承诺编号", "承诺类型", "事项"]
    assert sorted(r[5] for r in exported[1:]) == ["按期履行", "按期履行", "逾期履行"]
    assert {r[1] for r in exported[1:]} == {"容缺受理承诺"}
    book = load_workbook(io.BytesIO(client.get(f"/dashboards/mine/my_commitments.xlsx?{NOV}").data))
    assert book.worksheets[0]["E2"].is_date  # the deadline is a date cell
