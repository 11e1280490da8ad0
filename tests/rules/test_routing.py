"""Credit tiers and routes (DOMAIN §5): flags override the tier; reasons cite what decided."""

from __future__ import annotations

import pytest

from app.rules.routing import SubjectFacts, route_for, tier_of


@pytest.mark.parametrize(
    ("scheme", "grade", "tier"),
    [
        ("public_comprehensive", "A+", "A"),
        ("public_comprehensive", "B", "B"),
        ("public_comprehensive", "C-", "C"),
        ("tax", "M", "B"),
        ("tax", "D", "D"),
        ("samr_risk", "c", "C"),
        (None, None, "B"),
        ("unknown_scheme", "A", "B"),
    ],
)
def test_tier_mapping(scheme: str | None, grade: str | None, tier: str) -> None:
    assert tier_of(scheme, grade) == tier


def test_a_and_b_get_both_simplified_routes() -> None:
    a = route_for(SubjectFacts("public_comprehensive", "A"))
    b = route_for(SubjectFacts("public_comprehensive", "B"))
    assert (a.notify_commit, a.rongque, a.verification) == (True, True, "light")
    assert (b.notify_commit, b.rongque, b.verification) == (True, True, "normal")


def test_c_keeps_notify_commit_with_full_verification_but_no_rongque() -> None:
    route = route_for(SubjectFacts("public_comprehensive", "C"))
    assert (route.notify_commit, route.rongque, route.verification) == (True, False, "full")
    assert "C 级" in route.reason


def test_d_uses_the_ordinary_procedure() -> None:
    route = route_for(SubjectFacts("public_comprehensive", "D"))
    assert not route.notify_commit and not route.rongque
    assert "重点审查" in route.reason


@pytest.mark.parametrize(
    ("facts", "cited"),
    [
        (SubjectFacts("public_comprehensive", "A", open_breach=True), "违诺"),
        (SubjectFacts("public_comprehensive", "A", false_commitment=True), "虚假承诺"),
        (
            SubjectFacts(
                "public_comprehensive",
                "A",
                unrepaired_serious_records=("嘉市监处罚〔2026〕9877号",),
            ),
            "嘉市监处罚〔2026〕9877号",
        ),
        (SubjectFacts("public_comprehensive", "A", serious_list=True), "严重失信主体名单"),
    ],
)
def test_flags_override_a_good_grade_and_are_cited(facts: SubjectFacts, cited: str) -> None:
    route = route_for(facts)
    assert not route.notify_commit and not route.rongque and route.tier == "D"
    assert cited in route.reason


def test_no_grade_is_treated_as_b() -> None:
    route = route_for(SubjectFacts(None, None))
    assert route.tier == "B" and "按 B 级" in route.reason
