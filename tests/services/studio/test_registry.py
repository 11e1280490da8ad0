"""Registry lists for the modeler and the timer preview (sandboxed, engine clock, +08:00)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.engine import clock
from app.services.definitions import LANE_ROLES
from app.services.errors import InvalidInputError
from app.services.handlers import HANDLERS
from app.services.studio import registry

TZ = ZoneInfo("Asia/Shanghai")
HAN = re.compile(r"[\u3400-\u9fff]")
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=TZ)  # a Friday


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


def test_handlers_list_names_with_their_label_in_the_request_language(app: Flask) -> None:
    handlers = {h["name"]: h["doc"] for h in registry.handlers()}
    assert handlers["system.echo"] == "原样返回参数（供测试和试用服务任务）"  # outside a request
    assert "repair.check_eligibility" in handlers
    assert all(doc and "\n" not in doc for doc in handlers.values())
    assert list(handlers) == sorted(handlers)
    with app.test_request_context("/?lang=zh_CN"):
        chinese = {h["name"]: h["doc"] for h in registry.handlers()}
    with app.test_request_context("/?lang=en"):
        english = {h["name"]: h["doc"] for h in registry.handlers()}
    assert chinese == handlers
    assert english["system.echo"].startswith("Return the parameters")
    assert english["repair.check_eligibility"] == "Check each record against the repair conditions"
    assert not [n for n, doc in english.items() if HAN.search(doc)]  # every handler has English


def test_a_handler_without_a_label_shows_its_first_doc_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def probe(ctx: object, params: dict[str, object]) -> object:
        """Probe handler.

        More text.
        """
        return params

    monkeypatch.setitem(HANDLERS, "test.probe", probe)
    assert {h["name"]: h["doc"] for h in registry.handlers()}["test.probe"] == "Probe handler."


def test_roles_are_the_lane_roles_with_chinese_labels(app: Flask) -> None:
    with app.test_request_context():
        roles = registry.roles()
    assert [r["key"] for r in roles] == list(LANE_ROLES)
    labels = {r["key"]: r["label"] for r in roles}
    assert labels["window"] == "一口受理窗口" and labels["enterprise"] == "企业"


def test_helpers_have_signatures_and_chinese_docs() -> None:
    helpers = {h["name"]: h for h in registry.helpers()}
    assert set(helpers) >= {"today", "add_working_days", "deadline_after_working_days", "Decimal"}
    assert helpers["add_working_days"]["signature"] == "add_working_days(days, start=None)"
    assert "工作日" in helpers["add_working_days"]["doc"]


def test_duration_p5d_is_due_five_days_from_now(session: Session) -> None:
    result = registry.timer_preview(session, "timeDuration", '"P5D"')
    assert result["ok"] and result["due"] == "2026-11-25T09:30:00+08:00"
    assert result["display"].startswith("2026-11-25 09:30（星期三）")
    assert "5 天" in result["message"]


def test_time_date_literal_and_working_day_helper(session: Session) -> None:
    literal = registry.timer_preview(session, "timeDate", '"2026-12-01T01:00:00Z"')
    assert literal["due"] == "2026-12-01T09:00:00+08:00"
    helper = registry.timer_preview(session, "timeDate", "deadline_after_working_days(5)")
    assert helper["value"] == "2026-11-27T23:59:59+08:00"  # Mon–Fri of the next week
    past = registry.timer_preview(session, "timeDate", '"2026-11-01T09:00:00+08:00"')
    assert "已过" in past["message"]


def test_cycle_and_variables_from_sample_data(session: Session) -> None:
    cycle = registry.timer_preview(session, "timeCycle", '"R3/P1D"')
    assert cycle["due"] == "2026-11-21T09:30:00+08:00" and "共 3 次" in cycle["message"]
    hours = registry.timer_preview(session, "timeDuration", 'f"PT{h}H"', {"h": 2})
    assert hours["due"] == "2026-11-20T11:30:00+08:00"


@pytest.mark.parametrize(
    ("kind", "expression", "text"),
    [
        ("timeDuration", "P5D", "没有加引号"),
        ("timeDuration", '"PT1D"', "不是有效的 ISO 8601"),
        ("timeDuration", "__import__('os').getcwd()", "沙箱"),
        ("timeDuration", "open('/etc/passwd').read()", "不是可用的函数"),
        ("timeDuration", 'f"PT{cooling_hours}H"', "cooling_hours"),
        ("timeDuration", "5", "字符串"),
        ("timeDate", '"P5D"', "日期时间"),
        ("timeDuration", "  ", "请填写"),
        ("timeDuration", "1 +", "编译"),
    ],
)
def test_bad_expressions_get_a_clear_chinese_error(
    session: Session, kind: str, expression: str, text: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        registry.timer_preview(session, kind, expression)
    assert text in caught.value.message and caught.value.fields["expression"]


def test_unknown_kind_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInputError) as caught:
        registry.timer_preview(session, "cron", '"P5D"')
    assert "kind" in caught.value.fields
