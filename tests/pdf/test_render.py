"""Real WeasyPrint rendering of every document kind (no fakes): text, QR code, rare glyphs.

Each kind is rendered once per module (fixture `rendered`) and the checks share the bytes.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from app.pdf import KINDS, qr_svg, render_html, render_pdf
from bench.documents_bench import sample_context

RARE = "㵘"  # U+3D58, CJK Extension A: not in GB2312, so not in the subset fonts


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[dict, bytes]]:
    out = {}
    for n, kind in enumerate(KINDS, start=1):
        context = sample_context(kind, seq=n)
        out[kind] = (context, render_pdf(kind, context))
    return out


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() or "" for page in reader.pages)
    return "".join(text.split())  # CJK runs may be split by spaces or line breaks


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_renders_a_pdf_with_subject_uscc_serial(rendered, kind: str) -> None:
    context, pdf = rendered[kind]
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 3
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)  # A4
    text = _text(pdf)
    for value in (
        context["subject_name"],
        context["subject_uscc"],
        context["serial"],
        KINDS[kind][0],
        context["department_name"],
        "2026年11月20日",
        "扫码核验",
    ):
        assert value in text, f"{kind}: {value!r} missing"
    if context["legal_basis"]:
        assert "法律依据" in text


def test_kind_specific_content_is_printed(rendered) -> None:
    assert "经营场所平面布局图" in _text(rendered["rongque_notice"][1])
    assert "2026年12月18日前" in _text(rendered["rongque_notice"][1])
    repair = _text(rendered["repair_decision"][1])
    assert "部分予以信用修复" in repair
    assert "沪市监浦处〔2026〕1733号" in repair and "不予修复" in repair
    assert "予以批准" in _text(rendered["notify_commit_decision"][1])
    assert "予以更正" in _text(rendered["objection_result"][1])
    assert "违反信用承诺" in _text(rendered["breach_notice"][1])
    commitment = _text(rendered["commitment"][1])
    assert "王某某（法定代表人）" in commitment and "2026年11月18日" in commitment


@pytest.mark.parametrize(
    ("outcome", "phrase"),
    [("approved", "本机关决定予以信用修复"), ("refused", "本机关决定不予信用修复")],
)
def test_repair_decision_outcomes(outcome: str, phrase: str) -> None:
    html = render_html("repair_decision", sample_context("repair_decision", outcome=outcome))
    assert phrase in html.replace('<span class="strong">', "").replace("</span>", "")


def test_missing_common_key_and_unknown_kind_are_refused() -> None:
    context = sample_context("breach_notice")
    del context["subject_uscc"]
    with pytest.raises(ValueError, match="subject_uscc"):
        render_pdf("breach_notice", context)
    with pytest.raises(ValueError, match="unknown"):
        render_pdf("nonsense", sample_context("breach_notice"))


def test_user_text_is_escaped() -> None:
    html = render_html("breach_notice", sample_context("breach_notice", reason="<b>x</b>"))
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_qr_svg_is_inline_svg() -> None:
    svg = qr_svg("https://example.org/verify/信修决〔2026〕1号")
    assert svg.startswith("<svg") and "<?xml" not in svg


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_qr_code_decodes_to_verify_url(rendered, tmp_path: Path) -> None:
    from PIL import Image
    from pyzbar.pyzbar import decode

    context, pdf = rendered["repair_decision"]
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    # The QR code sits at the end, with the signature block: render the last page.
    command = ["pdftoppm", "-png", "-r", "150", "-f", str(pages), "-l", str(pages)]
    subprocess.run([*command, source, tmp_path / "p"], check=True)
    (png,) = tmp_path.glob("p*.png")
    codes = decode(Image.open(png))
    assert [unquote(code.data.decode("ascii")) for code in codes] == [context["verify_url"]]


def _fonts_of(reader: PdfReader) -> list[tuple[str, object]]:
    """(BaseFont, descendant font dict) of every Type0 font used on any page."""
    found = []
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        for ref in resources.get("/Font", {}).values():
            font = ref.get_object()
            if font.get("/Subtype") == "/Type0":
                found.append((str(font["/BaseFont"]), font))
    return found


def _cids_for(font, char: str) -> list[int]:
    """The CIDs a font's ToUnicode CMap maps to `char` (bfchar and bfrange entries)."""
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    target = f"{ord(char):04X}"
    cids = []
    section = None
    for line in cmap.splitlines():
        stripped = line.strip()
        if stripped.endswith("beginbfchar"):
            section = "char"
        elif stripped.endswith("beginbfrange"):
            section = "range"
        elif stripped.startswith("end"):
            section = None
        elif section and stripped.startswith("<"):
            parts = [p.strip("<> ") for p in stripped.replace("><", "> <").split()]
            if section == "char" and parts[1].upper() == target:
                cids.append(int(parts[0], 16))
            elif section == "range" and len(parts) == 3:
                low, high, start = (int(p, 16) for p in parts)
                if start <= ord(char) <= start + high - low:
                    cids.append(low + ord(char) - start)
    return cids


def test_rare_character_is_drawn_with_a_real_glyph(rendered) -> None:
    context, pdf = rendered["commitment"]
    assert RARE in context["subject_name"]
    reader = PdfReader(io.BytesIO(pdf))
    assert RARE in _text(pdf)
    checked = 0
    for _name, font in _fonts_of(reader):
        cids = _cids_for(font, RARE)
        if not cids:
            continue
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        stream = next(descriptor[k] for k in ("/FontFile3", "/FontFile2") if k in descriptor)
        program = stream.get_object().get_data()
        for cid in cids:
            assert cid != 0, "mapped to .notdef: a box"
            glyph_bounds = _glyph_bounds(program, cid)
            assert glyph_bounds is not None, "empty glyph"
            checked += 1
    assert checked, f"no embedded font maps a glyph to {RARE}"


def _glyph_bounds(program: bytes, gid: int):
    """Bounds of glyph `gid` in an embedded font program (bare CFF or OpenType)."""
    if program[:4] in (b"OTTO", b"\x00\x01\x00\x00", b"true"):
        font = TTFont(io.BytesIO(program))
        glyph_set = font.getGlyphSet()
        name = font.getGlyphName(gid)
    else:  # bare CFF (FontFile3 /CIDFontType0C)
        from fontTools.cffLib import CFFFontSet

        cff = CFFFontSet()
        cff.decompile(io.BytesIO(program), None)
        top = cff[cff.fontNames[0]]
        glyph_set = top.CharStrings
        name = top.charset[gid] if gid < len(top.charset) else f"cid{gid:05d}"
    from fontTools.pens.boundsPen import BoundsPen

    pen = BoundsPen(glyph_set)
    glyph_set[name].draw(pen)
    return pen.bounds
