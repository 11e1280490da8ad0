"""Texts stored in Chinese are shown in the reader's language; problems show `message_en`.

Processes keep their reasons, labels and notices in Chinese (process data, history rows,
notifications, documents): `app.i18n.translate_stored` recognises the catalogue message a text
was made from, with its values, and shows it in the request's language.
"""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine.validation import Problem
from app.i18n import problem_message, translate_stored, translate_stored_deep
from app.models import Subject
from app.rules.routing import SubjectFacts, route_for
from app.services import notifications, repair, rongque

PERIOD = (
    "记录 嘉市监处罚〔2026〕9877号：依据规则集 SAMR-107（市场监督管理信用修复管理办法（市场监管"
    "总局令第107号）），该严重失信记录最短公示期为 12 个月，自处罚决定日 2026-08-12 起算，"
    "2027-08-12 起方可申请信用修复；申请日 2026-11-20 尚未届满。"
)


def english(app: Flask, value: object) -> object:
    with app.test_request_context("/?lang=en"):
        return translate_stored(value)


def test_a_text_made_from_a_message_is_shown_with_its_values_in_english(app: Flask) -> None:
    assert english(app, PERIOD) == (
        "Record 嘉市监处罚〔2026〕9877号: Under rule set SAMR-107（市场监督管理信用修复管理办法"
        "（市场监管总局令第107号））, for this Serious default record the minimum publication "
        "period is 12 months, counted from the penalty decision date 2026-08-12; credit repair "
        "can be applied for from 2027-08-12, and the application date 2026-11-20 is too early."
    )
    assert english(app, repair.OUTCOME_LABELS["partly_approved"]) == "Repair partly approved"


def test_chinese_requests_and_other_texts_are_unchanged(app: Flask) -> None:
    with app.test_request_context("/?lang=zh_CN"):
        assert translate_stored(PERIOD) == PERIOD
    for text in ("材料齐全，同意", "上海澄溪示例食品有限公司", "", None, 3, "plain English"):
        assert english(app, text) == text  # what people typed, names, older wordings, non-text
    with app.app_context():  # no request (worker, CLI): the source language
        assert translate_stored(PERIOD) == PERIOD


def test_values_that_are_messages_are_translated_too(app: Flask) -> None:
    reason = route_for(SubjectFacts("public_comprehensive", "A")).reason
    summary = (
        f"上海虹桥示例商贸有限公司 申请「食品经营许可（新办）」容缺受理，容缺材料：食品安全管理"
        f"制度文本（5 个工作日）、从业人员健康证明（7 个工作日）。信用情况：{reason}"
    )
    assert english(app, summary) == (
        "上海虹桥示例商贸有限公司 applies for “食品经营许可（新办）” with deferred materials: "
        "食品安全管理制度文本 (5 working days), 从业人员健康证明 (7 working days). Credit: Credit "
        "grade A（public_comprehensive） is tier A: notify-and-commit and deferred materials are "
        "available."
    )


def test_a_stored_sentence_inside_a_model_sentence_is_translated(app: Flask) -> None:
    """A BPMN script wrote its own words around a stored reason: those words stay as written."""
    reason = route_for(
        SubjectFacts(None, None, unrepaired_serious_records=("青税稽罚〔2026〕1106号",))
    )
    text = f"事项「食品经营许可（新办）」不能以告知承诺方式办理：{reason.reason}"
    assert english(app, text) == (
        "事项「食品经营许可（新办）」不能以告知承诺方式办理：Unrepaired serious dishonesty "
        "information is on record (青税稽罚〔2026〕1106号): notify-and-commit and other simplified "
        "procedures are not available."
    )
    # a commitment's wording is never touched, even where it contains a label
    wording = "承诺人：上海虹桥示例商贸有限公司（统一社会信用代码 91310105MAAY4CL126）"
    assert english(app, wording) == wording


def test_joined_reasons_and_nested_data(app: Flask) -> None:
    joined = "；".join(
        [repair.POLICY_SWITCHES["last_repair_1y"], "认定单位未作出决定。", "自行填写的意见"]
    )
    assert english(app, joined) == (
        "No repair within one year of the last credit repair; The finding unit made no "
        "decision.; 自行填写的意见"
    )
    with app.test_request_context("/?lang=en"):
        deep = translate_stored_deep({"a": ["公示中", {"b": "已修复"}], "n": 1})
    assert deep == {"a": ["Published", {"b": "Repaired"}], "n": 1}


def test_what_is_stored_stays_chinese(app: Flask, seeded: Session) -> None:
    """Documents and scripts read the stored texts: only their display changes."""
    check = rongque.check_request(seeded, "SAMR-SPJY-001", ["premises_proof"])
    assert check.reason.startswith("「经营场所合法使用证明」是事项「食品经营许可（新办）」")
    assert english(app, check.reason).startswith(
        "「经营场所合法使用证明」 is a core material of the matter “食品经营许可（新办）”"
    )
    assert notifications.LANE_LABELS["window"] == "受理窗口"
    assert english(app, "流程实例 #8 有一项待办（受理窗口）。") == (
        "Process instance #8 has a task waiting (service window)."
    )
    subject = seeded.scalars(select(Subject)).first()
    assert subject is not None
    context = repair.decision_context(subject, [], "approved", date(2026, 11, 20))
    assert context["outcome_label"] == "准予信用修复"  # the 信用修复决定书 stays Chinese


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh_CN", "条件表达式无法编译。"), ("en", "The condition does not compile.")],
)
def test_problems_show_their_english_message_in_english(
    app: Flask, lang: str, expected: str
) -> None:
    problem = Problem("a.bpmn", 3, "f1", "条件表达式无法编译。", "The condition does not compile.")
    with app.test_request_context(f"/?lang={lang}"):
        assert problem_message(problem) == expected
        assert problem_message(problem.as_dict()) == expected
        assert render_template_string("{{ p|problem_message }}", p=problem.as_dict()) == expected
        assert problem_message({"message": "只有中文"}) == "只有中文"  # no English: the Chinese


def test_a_forced_locale_outside_a_request_is_used_by_mails(app: Flask) -> None:
    from app.services.mail import render

    with app.app_context():
        mail = render("decided", "en", {"instance_id": 7, "outcome_label": "准予信用修复"}, "x")
        with force_locale("en"):
            assert translate_stored("公示中") == "Published"
    assert "Result: Repair approved." in mail.text
