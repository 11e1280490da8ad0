"""Unified social credit code (统一社会信用代码, GB 32100-2015): normalise and validate.

Use :func:`validate_uscc` to get every problem at once (for form feedback), or
:func:`check_uscc` where a bad code should simply raise. Both normalise the input
first (DOMAIN §8, our rule): trim, full-width to half-width, drop inner spaces,
uppercase. Store the normalised form (``UsccResult.code``).

Errors reject the code. Warnings never do: the GB 11714 organisation-code check
and the department/category table are advisory (DOMAIN §8, our rule).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

USCC_LENGTH = 18
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
FORBIDDEN_LETTERS = "IOSVZ"

ORG_CODE_WEIGHTS: tuple[int, ...] = (3, 7, 9, 10, 5, 8, 4, 2)

# 登记管理部门 (position 1) → known 机构类别 (position 2), per DOMAIN §8.
# An empty set means the table lists no categories for that department.
REGISTRATION_CATEGORIES: dict[str, frozenset[str]] = {
    "1": frozenset("12"),  # 机构编制: 机关, 事业单位
    "2": frozenset(),  # 外交
    "3": frozenset(),  # 司法行政
    "4": frozenset(),  # 文化
    "5": frozenset("123"),  # 民政: 社团, 民非, 基金会
    "6": frozenset(),  # 旅游
    "7": frozenset(),  # 宗教
    "8": frozenset(),  # 工会
    "9": frozenset("123"),  # 工商: 企业, 个体工商户, 农民专业合作社
    "A": frozenset(),  # 中央军委改革和编制办公室
    "N": frozenset(),  # 农业
    "Y": frozenset(),  # 其他
}

_RECHECK_HINT = _l("请对照营业执照或登记证书逐位核对后重新输入。")


@dataclass(frozen=True)
class UsccResult:
    """Outcome of :func:`validate_uscc`: the normalised code plus messages in Chinese."""

    code: str
    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the code has no errors (warnings are allowed)."""
        return not self.errors


class UsccError(ValueError):
    """Raised by :func:`check_uscc`; ``errors`` holds the individual messages."""

    def __init__(self, errors: tuple[str, ...]) -> None:
        super().__init__("；".join(errors))
        self.errors = errors


def normalize_uscc(raw: str) -> str:
    """Trim, convert full-width to half-width (NFKC), remove inner spaces, uppercase."""
    text = unicodedata.normalize("NFKC", raw)
    return "".join(text.split()).upper()


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character (position 18) for 17 valid characters."""
    total = sum(USCC_CHARS.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character for the first 8 characters of an organisation code."""
    total = sum(_org_value(ch) * w for ch, w in zip(first8, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def validate_uscc(raw: str) -> UsccResult:
    """Normalise ``raw`` and report every error and warning, in Chinese."""
    code = normalize_uscc(raw)
    if not code:
        return UsccResult(code, (_("请输入统一社会信用代码（18位）。"),), ())
    structure = _length_errors(code) + _charset_errors(code)
    warnings = () if structure else _warnings(code)
    return UsccResult(code, structure + _check_char_errors(code), warnings)


def check_uscc(raw: str) -> str:
    """Return the normalised code, or raise :class:`UsccError` listing the errors."""
    result = validate_uscc(raw)
    if not result.ok:
        raise UsccError(result.errors)
    return result.code


def _org_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - 55


def _length_errors(code: str) -> tuple[str, ...]:
    if len(code) == USCC_LENGTH:
        return ()
    return (_("统一社会信用代码应为18位，当前输入为%(n)s位。", n=len(code)) + str(_RECHECK_HINT),)


def _charset_errors(code: str) -> tuple[str, ...]:
    bad = [(pos, ch) for pos, ch in enumerate(code, start=1) if ch not in USCC_CHARS]
    if not bad:
        return ()
    listed = _("、").join(_("第%(pos)s位“%(ch)s”", pos=pos, ch=ch) for pos, ch in bad)
    message = _(
        "统一社会信用代码含有不允许的字符：%(listed)s。只能使用数字0–9和大写字母"
        "（字母I、O、S、V、Z从不使用）。",
        listed=listed,
    )
    if any(ch in FORBIDDEN_LETTERS for _pos, ch in bad):
        message += _("请检查是否把数字0、1、2、5误输为字母O、I、Z、S。")
    return (message + str(_RECHECK_HINT),)


def _check_char_errors(code: str) -> tuple[str, ...]:
    # Checked whenever positions 1–17 are usable, so a bad character in position 18
    # (e.g. the standard's own "…Y4Z" example) is also reported as a mismatch.
    # The expected character is deliberately not shown: a mismatch usually means a
    # typo in positions 1–17, and "fixing" position 18 would hide it.
    if len(code) != USCC_LENGTH or any(ch not in USCC_CHARS for ch in code[:17]):
        return ()
    if uscc_check_char(code[:17]) == code[17]:
        return ()
    message = _("第18位校验码“%(ch)s”与前17位不匹配，代码很可能有录入错误。", ch=code[17])
    return (message + str(_RECHECK_HINT),)


def _warnings(code: str) -> tuple[str, ...]:
    return _org_code_warnings(code) + _registration_warnings(code)


def _org_code_warnings(code: str) -> tuple[str, ...]:
    org_code = code[8:17]
    if org_code_check_char(org_code[:8]) == org_code[8]:
        return ()
    message = _(
        "第9–17位组织机构代码“%(code)s”未通过GB 11714校验。"
        "部分历史代码可能如此，如与证照一致可继续办理，否则请核对。",
        code=org_code,
    )
    return (message,)


def _registration_warnings(code: str) -> tuple[str, ...]:
    department, category = code[0], code[1]
    known = REGISTRATION_CATEGORIES.get(department)
    if known is None:
        return (_("第1位登记管理部门代码“%(d)s”不在已知范围内，请核对。", d=department),)
    if known and category not in known:
        message = _(
            "第2位机构类别“%(c)s”与登记管理部门“%(d)s”的已知组合不符，请核对。",
            c=category,
            d=department,
        )
        return (message,)
    return ()
