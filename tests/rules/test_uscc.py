"""USCC validation against the vectors in DOMAIN §8."""

from __future__ import annotations

import pytest

from app.rules.uscc import UsccError, check_uscc, normalize_uscc, validate_uscc

CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"

EXTERNAL_VECTORS = [
    "91350100M000100Y43",
    "914403001922038216",
    "9144030071526726XG",
    "91110108551385082Q",
    "91330100716105852F",
    "91440300708461136T",
]
SYNTHETIC_VECTORS = [
    "91310114MA1GT8QX92",
    "91310105MAAY4CL126",
    "91370200MADD272H4F",
    "91310115MAC4R7LN0W",
    "91330205MAC96PGY8J",
    "91310105MAW0RB7FXU",
    "91310105MA9LH8C460",
    "92310105MADECDGH5L",
    "51310000MJ3L3RKCXP",
]
VALID = "91310114MA1GT8QX92"


def gb32100_check(first17: str) -> str:
    """Independent copy of the DOMAIN §8 team validator's check computation."""
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(CHARS.index(ch) * w for ch, w in zip(first17, weights, strict=True))
    return CHARS[(31 - total % 31) % 31]


def with_valid_check(first17: str) -> str:
    return first17 + gb32100_check(first17)


@pytest.mark.parametrize("code", EXTERNAL_VECTORS + SYNTHETIC_VECTORS)
def test_domain_vectors_validate_without_errors_or_warnings(code: str) -> None:
    result = validate_uscc(code)
    assert result.ok
    assert result.errors == ()
    assert result.warnings == ()
    assert result.code == code
    assert check_uscc(code) == code


def test_wrong_check_character_from_the_standard_is_rejected() -> None:
    result = validate_uscc("91350100M000100Y4Z")
    assert not result.ok
    assert any("第18位校验码" in e and "不匹配" in e for e in result.errors)


def test_wrong_check_character_with_valid_charset_reports_only_the_mismatch() -> None:
    result = validate_uscc("91350100M000100Y44")
    assert len(result.errors) == 1
    assert "第18位校验码“4”" in result.errors[0]
    assert "录入错误" in result.errors[0]


def test_check_character_zero_edge_case() -> None:
    assert gb32100_check("91310105MA9LH8C46") == "0"
    assert validate_uscc("91310105MA9LH8C460").ok
    assert not validate_uscc("91310105MA9LH8C461").ok


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_forbidden_letters_are_named_in_the_error(letter: str) -> None:
    code = VALID[:9] + letter + VALID[10:]
    result = validate_uscc(code)
    assert not result.ok
    charset_errors = [e for e in result.errors if "不允许的字符" in e]
    assert len(charset_errors) == 1
    assert f"第10位“{letter}”" in charset_errors[0]
    assert "I、O、S、V、Z" in charset_errors[0]


def test_several_bad_characters_are_all_listed() -> None:
    result = validate_uscc("9131011-MA1GT8QXI2")
    assert "第8位“-”" in result.errors[0]
    assert "第17位“I”" in result.errors[0]


@pytest.mark.parametrize("code", [VALID[:17], VALID + "1"])
def test_wrong_length_reports_actual_length(code: str) -> None:
    result = validate_uscc(code)
    assert not result.ok
    assert f"当前输入为{len(code)}位" in result.errors[0]
    assert "应为18位" in result.errors[0]


@pytest.mark.parametrize("raw", ["", "   ", "\u3000"])
def test_empty_input_is_rejected(raw: str) -> None:
    result = validate_uscc(raw)
    assert result.errors == ("请输入统一社会信用代码（18位）。",)


@pytest.mark.parametrize(
    "raw",
    [
        "91310114ma1gt8qx92",
        "  91310114MA1GT8QX92\n",
        "9131 0114 MA1G T8QX 92",
        "９１３１０１１４ＭＡ１ＧＴ８ＱＸ９２",
        "\u3000９１３１０１１４ｍａ１ｇｔ８ｑｘ９２\u3000",
    ],
)
def test_lowercase_full_width_and_spaced_input_is_normalised(raw: str) -> None:
    assert normalize_uscc(raw) == VALID
    result = validate_uscc(raw)
    assert result.ok
    assert result.code == VALID


def test_org_code_check_failure_is_only_a_warning() -> None:
    # Change the organisation code's own check (position 17), then repair position 18.
    first17 = VALID[:16] + ("8" if VALID[16] != "8" else "7")
    code = with_valid_check(first17)
    result = validate_uscc(code)
    assert result.ok
    assert len(result.warnings) == 1
    assert "组织机构代码" in result.warnings[0]
    assert check_uscc(code) == code


def test_unknown_registration_department_is_a_warning() -> None:
    code = with_valid_check("B" + VALID[1:17])
    result = validate_uscc(code)
    assert result.ok
    assert any("登记管理部门代码“B”" in w for w in result.warnings)


def test_unknown_category_for_known_department_is_a_warning() -> None:
    code = with_valid_check("94" + VALID[2:17])
    result = validate_uscc(code)
    assert result.ok
    assert any("机构类别“4”" in w for w in result.warnings)


def test_department_without_category_table_gets_no_category_warning() -> None:
    code = with_valid_check("Y1" + VALID[2:17])
    assert validate_uscc(code).warnings == ()


def test_check_uscc_raises_with_all_errors() -> None:
    with pytest.raises(UsccError) as info:
        check_uscc("9131011IMA1GT8QX9")
    assert isinstance(info.value, ValueError)
    assert len(info.value.errors) == 2
    assert all(e in str(info.value) for e in info.value.errors)
