"""The shipped process models carry English for every text people see (<process>.i18n.json).

Names of processes, user tasks, events and sub-processes (inbox rows, task pages, histories),
the instructions for end users, and the human texts of the task forms (titles, descriptions,
enum labels) must each have an English entry in the translation file of their process.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from app.engine.validation_bpmn import NS
from app.services import model_texts

BPMN_DIR = Path(__file__).resolve().parents[1] / "bpmn"
HAN = re.compile(r"[\u3400-\u9fff]")
NAMED = (
    "userTask",
    "manualTask",
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "subProcess",
    "callActivity",
)
FORM_TEXT_KEYS = ("title", "description")


def _processes() -> list[tuple[Path, etree._Element]]:
    found = []
    for path in sorted(BPMN_DIR.glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        for process in root.xpath("bpmn:process", namespaces=NS):
            if process.get("isExecutable") == "true":
                found.append((path, process))
    return found


def _schema_texts(node: Any) -> set[str]:
    texts: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in FORM_TEXT_KEYS and isinstance(value, str):
                texts.add(value)
            elif key == "x-enum-labels" and isinstance(value, dict):
                texts.update(v for v in value.values() if isinstance(v, str))
            elif key not in ("const", "enum", "default", "examples", "pattern"):
                texts |= _schema_texts(value)
    elif isinstance(node, list):
        for item in node:
            texts |= _schema_texts(item)
    return texts


def visible_texts(process: etree._Element) -> dict[str, str]:
    """Chinese texts of a process that pages show → where they come from."""
    texts = {process.get("name") or "": "process name"}
    for kind in NAMED:
        for element in process.xpath(f".//bpmn:{kind}", namespaces=NS):
            texts.setdefault(element.get("name") or "", f"{kind} {element.get('id')}")
    for element in process.xpath(".//spiffworkflow:instructionsForEndUser", namespaces=NS):
        owner = element.getparent().getparent().get("id")
        texts.setdefault(element.text or "", f"instructions of {owner}")
    forms = process.xpath(
        './/spiffworkflow:property[@name="formJsonSchemaFilename"]/@value', namespaces=NS
    )
    for form in sorted(set(forms)):
        schema = json.loads((BPMN_DIR / form).read_text(encoding="utf-8"))
        for text in _schema_texts(schema):
            texts.setdefault(text, f"form {form}")
    return {t: where for t, where in texts.items() if HAN.search(t)}


def _covered(english: dict[str, str], text: str) -> bool:
    if text in english or text.strip() in english:
        return True
    pieces = [p.strip() for p in re.findall(r"[^。！？\n]+[。！？]*", text) if p.strip()]
    return len(pieces) > 1 and all(p in english or not HAN.search(p) for p in pieces)


PROCESSES = _processes()


def test_the_shipped_bundle_has_processes() -> None:
    assert len(PROCESSES) >= 5


@pytest.mark.parametrize(
    "process", [p for _, p in PROCESSES], ids=[p.get("id") for _, p in PROCESSES]
)
def test_every_visible_text_of_a_shipped_model_has_english(process: etree._Element) -> None:
    key = process.get("id")
    path = BPMN_DIR / model_texts.file_name(key)
    assert path.is_file(), f"{path.name} is missing"
    english = json.loads(path.read_text(encoding="utf-8")).get("en") or {}
    missing = {t: w for t, w in visible_texts(process).items() if not _covered(english, t)}
    report = "".join(f"\n  {where}: {text!r}" for text, where in sorted(missing.items()))
    assert not missing, f"{path.name} lacks English for {len(missing)} texts:{report}"


def test_the_shipped_bundle_validates_with_its_translations() -> None:
    from app.engine.validation import validate_bundle
    from app.services.definitions import LANE_ROLES, read_bundle_dir
    from app.services.handlers import HANDLERS
    from app.services.process_handlers import load_all

    load_all()
    files = read_bundle_dir(BPMN_DIR)
    assert any(n.endswith(".i18n.json") for n in files)
    check = validate_bundle(files, lane_roles=LANE_ROLES, service_handlers=set(HANDLERS))
    assert check.ok, [p.message_en for p in check.problems if p.severity == "error"]
    assert not [p for p in check.problems if p.file.endswith(".i18n.json")]
