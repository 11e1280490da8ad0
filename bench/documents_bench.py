"""`flask bench documents`: render time of each official document kind.

Each sample is one real `render_pdf` call (Jinja + WeasyPrint, CJK fonts, QR code) with a
realistic context; the first render of the process (loading the fonts) is timed separately as
`first_ms` and is not part of the samples. Signing and storage are not measured here.
"""

from __future__ import annotations

import statistics
import time
from datetime import date
from typing import Any

from app.pdf import KINDS, qr_svg, render_pdf

BASE_URL = "https://creditflow.example.gov.cn"


def base_context(kind: str, seq: int = 12, *, subject_name: str | None = None) -> dict[str, Any]:
    """The keys every document carries, as `services.documents` builds them."""
    title, prefix = KINDS[kind]
    serial = f"{prefix}〔2026〕{seq}号"
    verify_url = f"{BASE_URL}/verify/{serial}"
    return {
        "serial": serial,
        "title": title,
        "issued_on": date(2026, 11, 20),
        "department_name": "上海市浦东新区市场监督管理局",
        "subject_name": subject_name or "上海㵘澄新材料科技有限公司",
        "subject_uscc": "91310115MA1K4B2X7Q",
        "legal_basis": None,
        "verify_url": verify_url,
        "qr_svg": qr_svg(verify_url),
    }


def _extra(kind: str) -> dict[str, Any]:
    if kind == "commitment":
        return {
            "commitment_kind": "告知承诺",
            "matter_name": "食品经营许可（仅销售预包装食品）",
            "text": (
                "本单位已知悉行政机关告知的审批条件、证明义务、证明内容以及不实承诺的法律责任。"
                "\n\n本单位承诺：所填写的信息真实、准确、完整，符合上述审批条件；"
                "愿意接受行政机关的核查，如有不实或者未履行承诺，愿意承担相应的法律责任，"
                "并同意将违诺情况记入本单位信用记录。"
                "\n\n本承诺书自签署之日起生效，签署后不得撤回。"
            ),
            "signer_name": "王某某（法定代表人）",
            "signed_at": date(2026, 11, 18),
            "legal_basis": "《上海市行政审批告知承诺管理办法》",
        }
    if kind == "rongque_notice":
        return {
            "matter_name": "食品经营许可（新办）",
            "materials": [
                {"name": "食品安全管理制度文本（加盖公章）", "due_on": date(2026, 12, 4)},
                {"name": "经营场所平面布局图", "due_on": date(2026, 12, 4)},
                {"name": "主要设备设施清单", "due_on": "2026-12-18"},
            ],
            "consequences": (
                "逾期未补正的，视为撤回申请，本机关将终止办理并退回已提交材料；"
                "已作出的容缺受理决定自动失效，相关情况记入你单位信用记录。"
            ),
            "legal_basis": "《上海市优化营商环境条例》第二十七条",
        }
    if kind == "notify_commit_decision":
        return {
            "matter_name": "食品经营许可（仅销售预包装食品）",
            "decision": "approved",
            "commitment_serial": "信承〔2026〕41号",
            "verification_note": (
                "本机关将在作出决定之日起两个月内对你单位经营场所及有关材料进行现场核查。"
            ),
            "legal_basis": (
                "《上海市行政审批告知承诺管理办法》；《上海市优化营商环境条例》第二十七条"
            ),
        }
    if kind == "repair_decision":
        return {
            "outcome": "partly",
            "applied_on": date(2026, 11, 2),
            "records": [
                {
                    "decision_no": "沪市监浦处〔2026〕1520号",
                    "department": "上海市浦东新区市场监督管理局",
                    "result": "予以修复",
                    "reason": "已履行行政处罚义务，最短公示期届满，已提交信用承诺书。",
                },
                {
                    "decision_no": "沪市监浦处〔2026〕1733号",
                    "department": "上海市浦东新区市场监督管理局",
                    "result": "不予修复",
                    "reason": "最短公示期（一年）尚未届满。",
                },
            ],
            "legal_basis": "《信用修复管理办法》（国家发展改革委令2025年第36号）；"
            "《市场监督管理信用修复管理办法》（市场监管总局令第107号）",
        }
    if kind == "objection_result":
        return {
            "record": {
                "title": "行政处罚信息（超范围经营）",
                "decision_no": "沪市监浦处〔2026〕988号",
                "department": "上海市浦东新区市场监督管理局",
            },
            "outcome": "correct",
            "received_on": date(2026, 11, 16),
            "reasons": "经与信息提供单位核实，处罚决定书所载罚款金额录入有误，已按原决定书更正。",
            "legal_basis": "《上海市社会信用条例》第三十六条",
        }
    if kind == "breach_notice":
        return {
            "record": {
                "matter_name": "食品经营许可（仅销售预包装食品）",
                "commitment_serial": "信承〔2026〕41号",
                "signed_on": date(2026, 9, 3),
            },
            "reason": (
                "经现场核查，你单位经营场所与承诺内容不符，未设置食品贮存专区，"
                "且在责令整改期限内未完成整改。"
            ),
            "rights": (
                "你单位可以在收到本告知书之日起五个工作日内提出陈述、申辩；"
                "对认定不服的，可以在收到本告知书之日起六十日内依法申请行政复议，"
                "或者在六个月内依法提起行政诉讼。"
            ),
            "legal_basis": "《上海市行政审批告知承诺管理办法》；《上海市社会信用条例》第三十条",
        }
    raise ValueError(kind)


def sample_context(kind: str, seq: int = 12, **overrides: Any) -> dict[str, Any]:
    """A realistic full context for `kind` (used by the bench and the PDF tests)."""
    context = base_context(kind, seq)
    context.update(_extra(kind))
    context.update(overrides)
    return context


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(samples: int = 20) -> dict[str, dict[str, float]]:
    """{kind: {p50_ms, p95_ms, first_ms, kb}} for every document kind."""
    results: dict[str, dict[str, float]] = {}
    first_started = time.perf_counter()
    render_pdf("commitment", sample_context("commitment", 1))  # fonts loaded here
    first_ms = (time.perf_counter() - first_started) * 1000
    for kind in KINDS:
        timings = []
        size = 0
        for n in range(samples):
            context = sample_context(kind, 100 + n)
            started = time.perf_counter()
            size = len(render_pdf(kind, context))
            timings.append((time.perf_counter() - started) * 1000)
        results[kind] = {
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(_percentile(timings, 0.95), 1),
            "first_ms": round(first_ms, 1),
            "kb": round(size / 1024, 1),
        }
    return results


if __name__ == "__main__":
    for kind, row in run().items():
        print(f"{kind:24} {row}")
