"""Each BPMN MIWG reference model opens in the studio's modeler and saves back without losing
semantic elements or diagram information (issue 6, "External conformance").

Per model, in Chromium: sign in as `owner`, import the file on the studio page (the form posts
to /studio/drafts/import), land on the draft's modeler page, wait for `window.cfStudio.ready`,
take `modeler.saveXML({format: true})` and compare it with the original file using
tests/conformance/compare.py (elements by id and type, attributes and extension elements,
shapes/edges/planes by bpmnElement with bounds, waypoints and labels). Then save the draft
through the page (`cfStudio.save()`) and check the server stored what the modeler exported.

KNOWN_LOSSES lists, per model, exactly what bpmn-js/bpmn-moddle lose and why. Such a model is
an expected failure only when its differences are exactly those: anything else lost fails, and
so does a listed loss that no longer happens (then the entry must go).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.conformance.compare import Difference, compare

pytestmark = pytest.mark.e2e

MIWG = Path(__file__).resolve().parents[1] / "conformance" / "miwg"
MODELS = sorted(MIWG.glob("*.bpmn"))
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
IMPORT_TIMEOUT_MS = 30_000


class Known(NamedTuple):
    reason: str
    differences: frozenset[tuple[str, str]]  # (kind, element id) as compare() reports them


# The DI of a called process drawn inside an expanded call activity (B.1.0, B.2.0) and an
# explicit messageVisibleKind="initiating" (B.2.0) are kept by assets/studio/di-keeper.js.
KNOWN_LOSSES: dict[str, Known] = {
    "C.8.1.bpmn": Known(
        "moddle-xml's writer drops the vendor attribute triso:constraintsType of the two "
        '<triso:allowedValues constraintsType="enumeration" triso:constraintsType="enumeration"> '
        "in the definitions' triso relationship extension: it writes an attribute in the "
        "element's own namespace without prefix, so it collides with the unprefixed (no "
        "namespace) constraintsType and is de-duplicated away (ElementSerializer.nsAttributeName "
        "+ addAttribute; upstream bpmn-io/moddle-xml#66, where the maintainers chose to keep "
        "one). Not fixable from the modeler's side short of patching moddle-xml's serializer",
        frozenset({("lost_child", "_d4aecb6e-8641-4d7a-af45-dcfae1d639ea")}),  # definitions
    ),
}


def _import(page: Any, path: Path) -> str:
    """Import one file through the studio's import form; returns the draft page URL."""
    page.goto("/studio/")
    page.set_input_files("#import-files", str(path))
    with page.expect_navigation():
        page.locator("form[action$='/studio/drafts/import'] button[type=submit]").click()
    assert re.search(r"/studio/drafts/\d+$", page.url), page.locator("main").inner_text()[:1500]
    return page.url


def _exported(page: Any) -> str:
    page.wait_for_function(
        "() => window.cfStudio && window.cfStudio.ready", timeout=IMPORT_TIMEOUT_MS
    )
    return page.evaluate(
        "() => window.cfStudio.ready"
        ".then(() => window.cfStudio.modeler.saveXML({format: true}))"
        ".then((result) => result.xml)"
    )


def _stored_main_file(page: Any) -> str:
    return page.evaluate(
        "() => fetch(window.cfStudio.config.urls.files, {headers: {Accept: 'application/json'}})"
        ".then((r) => r.json())"
        ".then((body) => body.files[window.cfStudio.config.mainFile])"
    )


def _report(found: list[Difference]) -> str:
    shown = "\n".join(f"  {d}" for d in found[:40])
    more = f"\n  ... and {len(found) - 40} more" if len(found) > 40 else ""
    return f"{len(found)} difference(s):\n{shown}{more}"


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_model_round_trips_through_the_modeler(page: Any, sign_in: Any, path: Path) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, "owner")
    _import(page, path)
    xml = _exported(page)
    assert errors == [], errors

    page.evaluate("() => window.cfStudio.save()")
    stored = _stored_main_file(page)
    assert compare(xml, stored) == [], (
        f"the server stored something else: {_report(compare(xml, stored))}"
    )

    found = compare(path.read_bytes(), xml)
    if found:  # keep what the modeler wrote, to look at
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"miwg-{path.stem}.saved.bpmn").write_text(xml, encoding="utf-8")
    known = KNOWN_LOSSES.get(path.name)
    if known is None:
        assert found == [], f"{path.name} loses information in the modeler: {_report(found)}"
        return
    unexpected = [d for d in found if (d.kind, d.element_id) not in known.differences]
    assert unexpected == [], f"{path.name} loses more than the known losses: {_report(unexpected)}"
    gone = known.differences - {(d.kind, d.element_id) for d in found}
    assert not gone, f"no longer lost, remove from KNOWN_LOSSES[{path.name!r}]: {sorted(gone)}"
    pytest.xfail(f"known bpmn-js limitation: {known.reason}")
