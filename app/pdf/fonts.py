"""CJK fonts for the PDFs: subsets made once at install time, the full font as fallback.

`python -m app.pdf.fonts` (idempotent) writes into `<instance>/fonts/`:

- `cf-serif-regular.otf`, `cf-serif-bold.otf`, `cf-sans-regular.otf`: Noto Serif/Sans CJK SC
  subset with fontTools to GB2312 + CJK/fullwidth punctuation + ASCII/Latin-1 (about 4 MB
  each instead of 20+ MB, so WeasyPrint loads and embeds them quickly);
- `cf-serif-full.otf`: the complete Noto Serif CJK SC face, extracted from the system `.ttc`
  (no subsetting), the fallback for rare characters in names such as 㵘 (U+3D58);
- `fonts.css`: @font-face rules with absolute file URLs (no fontconfig lookup), families
  "CF Serif" / "CF Sans" (subset) and "CF Full" (fallback). Templates list both:
  `font-family: "CF Serif", "CF Full"`.

Without these files `font_css()` returns rules that name the system families instead, so
rendering still works (slower, and shaped by whatever fontconfig finds).
"""

from __future__ import annotations

import hashlib
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

SYSTEM_FONT_DIR = Path(os.environ.get("CJK_FONT_DIR", "/usr/share/fonts/opentype/noto"))
SC_INDEX = 2  # face order in the Noto CJK .ttc files: JP, KR, SC, TC, HK

# (output file, system collection, CSS family, CSS weight, subset?)
FACES: tuple[tuple[str, str, str, int, bool], ...] = (
    ("cf-serif-regular.otf", "NotoSerifCJK-Regular.ttc", "CF Serif", 400, True),
    ("cf-serif-bold.otf", "NotoSerifCJK-Bold.ttc", "CF Serif", 700, True),
    ("cf-sans-regular.otf", "NotoSansCJK-Regular.ttc", "CF Sans", 400, True),
    ("cf-serif-full.otf", "NotoSerifCJK-Regular.ttc", "CF Full", 400, False),
)
CSS_NAME = "fonts.css"
VERSION = "1"  # bump when the character set or the faces change

# Used when the subsets have not been made: fontconfig finds the full system fonts.
SYSTEM_CSS = """
@font-face { font-family: "CF Serif"; src: local("Noto Serif CJK SC"); }
@font-face { font-family: "CF Serif"; font-weight: 700; src: local("Noto Serif CJK SC Bold"); }
@font-face { font-family: "CF Sans"; src: local("Noto Sans CJK SC"); }
@font-face { font-family: "CF Full"; src: local("Noto Serif CJK SC"); }
"""


def default_font_dir() -> Path:
    from config import INSTANCE_DIR

    return Path(os.environ.get("PDF_FONT_DIR", INSTANCE_DIR / "fonts"))


def common_characters() -> set[int]:
    """GB2312 (levels 1 and 2, symbols) + ASCII + Latin-1 + CJK and fullwidth punctuation."""
    chars = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.update(map(ord, bytes((hi, lo)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    ranges = (
        (0x2000, 0x206F),  # general punctuation: — ‘ ’ “ ” … ‰
        (0x2100, 0x214F),  # letterlike: ℃ №
        (0x2150, 0x218F),  # number forms: Ⅰ Ⅱ
        (0x2460, 0x24FF),  # enclosed: ① ⑴ ⒈
        (0x25A0, 0x25FF),  # geometric shapes: □ ■ ○ ●
        (0x3000, 0x303F),  # CJK punctuation: 、 。 〔 〕 《 》 【 】
        (0xFF00, 0xFFEF),  # fullwidth forms: （ ） ： ； ！
    )
    for start, end in ranges:
        chars.update(range(start, end + 1))
    return chars


def _make_face(source: Path, target: Path, subset_it: bool) -> str:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=SC_INDEX, lazy=not subset_it)
    if subset_it:
        options = subset.Options()
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        options.hinting = False
        options.layout_features = ["kern", "vert", "vrt2", "halt", "palt", "locl", "fwid"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=common_characters())
        subsetter.subset(font)
    partial = target.with_suffix(".partial")
    font.save(partial)
    font.close()
    partial.replace(target)  # atomic: a half-written font is never picked up
    return target.name


def _stamp() -> str:
    parts = [VERSION]
    for _, collection, *_rest in FACES:
        path = SYSTEM_FONT_DIR / collection
        parts.append(f"{collection}:{path.stat().st_size}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def css_text(font_dir: Path) -> str:
    rules = []
    for name, _collection, family, weight, _subset in FACES:
        url = (font_dir / name).resolve().as_uri()
        rules.append(
            f'@font-face {{ font-family: "{family}"; font-weight: {weight}; src: url("{url}"); }}'
        )
    return "\n".join(rules) + "\n"


def build(font_dir: Path | None = None, *, log=print) -> Path:
    """Make the faces and fonts.css in `font_dir` unless they are already there and current."""
    font_dir = font_dir or default_font_dir()
    font_dir.mkdir(parents=True, exist_ok=True)
    stamp_file = font_dir / "STAMP"
    stamp = _stamp()
    css_path = font_dir / CSS_NAME
    current = stamp_file.exists() and stamp_file.read_text().strip() == stamp
    missing = [face for face in FACES if not current or not (font_dir / face[0]).exists()]
    if not missing and css_path.exists():
        return css_path
    log(f"Making CJK fonts in {font_dir} (once; about a minute) ...")
    stamp_file.unlink(missing_ok=True)
    with ProcessPoolExecutor(max_workers=max(1, min(len(missing), os.cpu_count() or 1))) as pool:
        jobs = [
            pool.submit(_make_face, SYSTEM_FONT_DIR / collection, font_dir / name, subset_it)
            for name, collection, _family, _weight, subset_it in missing
        ]
        for job in jobs:
            log(f"  {job.result()}")
    css_path.write_text(css_text(font_dir), encoding="utf-8")
    stamp_file.write_text(stamp + "\n", encoding="utf-8")
    return css_path


def font_css(font_dir: Path | None = None) -> str:
    """The @font-face rules: the subsets when made, else the system fonts by name.

    Rebuilt from the files present (not read from fonts.css), so a moved instance directory
    still works.
    """
    font_dir = font_dir or default_font_dir()
    if all((font_dir / name).exists() for name, *_ in FACES):
        return css_text(font_dir)
    return SYSTEM_CSS


def main() -> int:
    missing = [c for _, c, *_ in FACES if not (SYSTEM_FONT_DIR / c).exists()]
    if missing:
        print(f"CJK fonts not found in {SYSTEM_FONT_DIR}: {', '.join(missing)}", file=sys.stderr)
        return 1
    build()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
