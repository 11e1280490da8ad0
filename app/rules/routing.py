"""Credit tiers and routes (DOMAIN §5): who may use notify-and-commit and 容缺受理.

Pure rules: callers pass the facts (grade, flags, unrepaired serious records) and get a
decision with the reason to show, citing what decided it.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import N_

# Internal A–D tier per source scheme (DOMAIN §5). Unknown grades map to None (treated as B).
_TIERS = {
    "public_comprehensive": {
        "A+": "A",
        "A": "A",
        "B": "B",
        "C": "C",
        "C-": "C",
        "D": "D",
        "D-": "D",
    },
    "tax": {"A": "A", "B": "B", "M": "B", "C": "C", "D": "D"},
    "samr_risk": {"A": "A", "B": "B", "C": "C", "D": "D"},
}


@dataclass(frozen=True)
class SubjectFacts:
    grade_scheme: str | None
    grade: str | None
    open_breach: bool = False
    false_commitment: bool = False
    serious_list: bool = False
    unrepaired_serious_records: tuple[str, ...] = ()  # decision numbers
    open_breach_records: tuple[str, ...] = ()  # decision numbers of unrepaired 违诺 records


@dataclass(frozen=True)
class Route:
    tier: str
    notify_commit: bool
    rongque: bool
    verification: str  # "light" | "normal" | "full" | "n/a"
    reason: str  # Chinese, cites the grade or record that decided the route


def tier_of(scheme: str | None, grade: str | None) -> str:
    """The internal tier A–D; a subject without a grade is treated as B (our default)."""
    if not grade:
        return "B"
    return _TIERS.get(scheme or "", {}).get(grade.strip().upper(), "B")


def route_for(facts: SubjectFacts) -> Route:
    """Flags override the tier (DOMAIN §5 table)."""
    if facts.false_commitment:
        return Route(
            "D",
            False,
            False,
            "n/a",
            N_(
                "存在虚假承诺记录，在信用修复前不适用告知承诺和容缺受理，请按一般程序提交全部材料。"
            ),
        )
    if facts.open_breach or facts.open_breach_records:
        cited = "、".join(facts.open_breach_records[:3])
        reason = (
            N_(
                "存在未修复的违诺记录（%(cited)s），在信用修复前不适用告知承诺和容缺受理，"
                "请按一般程序办理。"
            )
            % {"cited": cited}
            if cited
            else N_(
                "存在未修复的违诺记录，在信用修复前不适用告知承诺和容缺受理，请按一般程序办理。"
            )
        )
        return Route("D", False, False, "n/a", reason)
    if facts.serious_list or facts.unrepaired_serious_records:
        cited = "、".join(facts.unrepaired_serious_records[:3]) or N_("严重失信主体名单")
        return Route(
            "D",
            False,
            False,
            "n/a",
            N_("存在未修复的严重失信信息（%(cited)s），不适用告知承诺等简化程序。")
            % {"cited": cited},
        )
    tier = tier_of(facts.grade_scheme, facts.grade)
    grade = f"{facts.grade}（{facts.grade_scheme}）" if facts.grade else N_("未评级（按 B 级）")
    if tier == "D":
        return Route(
            "D",
            False,
            False,
            "n/a",
            N_("信用等级 %(grade)s 为 D 级，按一般程序办理，列为重点审查对象。") % {"grade": grade},
        )
    if tier == "C":
        return Route(
            "C",
            True,
            False,
            "full",
            N_("信用等级 %(grade)s 为 C 级：可适用告知承诺（全部核查），不适用容缺受理。")
            % {"grade": grade},
        )
    verification = "light" if tier == "A" else "normal"
    return Route(
        tier,
        True,
        True,
        verification,
        N_("信用等级 %(grade)s 为 %(tier)s 级：可适用告知承诺和容缺受理。")
        % {"grade": grade, "tier": tier},
    )
