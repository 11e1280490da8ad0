"""Texts of the process models in the page's language, from the bundle's own translations.

A process bundle may carry `<process_key>.i18n.json`: `{"en": {"<Chinese text exactly as in
the model>": "<English>", ...}}`. Deploy stores it with the version (in `ProcessVersion.forms`
under its file name, so it is versioned and part of the version's digest). `model_text` shows
a model's text (process and element names, form labels, instructions, sentences its scripts
wrote into the data) in English when the page is English and the version translates it: the
whole text, else sentence by sentence (split after "。" and at line ends); what the model does
not translate goes through `translate_stored` (texts the application made from its catalogue).

Translations are loaded once per version (versions are immutable: keyed by id and digest).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Hashable
from typing import Any

from flask import Flask, g, has_app_context
from sqlalchemy import select

from app.i18n import is_english, map_strings, translate_catalogue

SUFFIX = ".i18n.json"
LOCALES = ("en",)


class Texts(dict[str, str]):
    """A model's English texts; `key` names them for the catalogue's memory."""

    key: Hashable = None


_EMPTY = Texts()
_CACHE: dict[tuple[int, str], Texts] = {}
_CACHE_MAX = 500
_SENTENCE = re.compile(r"[^。！？\n]+[。！？]*|\n+")
# Human texts of a JSON Schema form (titles, help, placeholders); never values or enum values.
_SCHEMA_TEXT_KEYS = frozenset(
    (
        "title",
        "description",
        "help",
        "placeholder",
        "ui:title",
        "ui:description",
        "ui:help",
        "ui:placeholder",
        "x-help",
        "x-placeholder",
    )
)
_SCHEMA_LABEL_MAPS = frozenset(("x-enum-labels",))


def init_app(app: Flask) -> None:
    app.jinja_env.filters["model_text"] = text_of

    @app.before_request
    def _forget() -> None:
        # an application context that outlives one request (tests) must not keep old lookups
        g.pop("_model_text_all", None)
        g.pop("_model_text_versions", None)


def file_name(process_key: str) -> str:
    return process_key + SUFFIX


def is_translation_file(name: str) -> bool:
    return name.lower().endswith(SUFFIX)


def process_key_of(name: str) -> str:
    return name[: -len(SUFFIX)]


def stored_translations(version: Any) -> Texts:
    """The English texts a version carries (empty when it has none)."""
    if version is None:
        return _EMPTY
    key = (int(version.id or 0), str(version.sha256 or ""))
    found = _CACHE.get(key)
    if found is None:
        doc = (version.forms or {}).get(file_name(version.key)) or {}
        english = doc.get("en") if isinstance(doc, dict) else None
        found = Texts(
            (k, v)
            for k, v in (english or {}).items()
            if isinstance(k, str) and isinstance(v, str) and v
        )
        found.key = key
        if version.id is not None:
            if len(_CACHE) >= _CACHE_MAX:
                _CACHE.clear()
            _CACHE[key] = found
    return found


def lookup(translations: Texts, text: str) -> str:
    """`text` in English: whole, else per sentence; the rest by `translate_catalogue`."""
    if text in translations:
        return translations[text]
    stripped = text.strip()
    if stripped != text and stripped in translations:
        return text.replace(stripped, translations[stripped])
    pieces = _SENTENCE.findall(text)
    if len(pieces) > 1 and any(p.strip() in translations for p in pieces):
        shown: list[str] = []
        for piece in pieces:
            if piece.startswith("\n"):
                shown.append(piece)
                continue
            english = translations.get(piece.strip())
            if english is None:
                english = translate_catalogue(piece.strip(), translations, translations.key)
            if shown and not shown[-1].endswith("\n"):
                shown.append(" ")
            shown.append(english)
        return "".join(shown)
    return translate_catalogue(text, translations, translations.key)


def model_text(version: Any, text: Any) -> Any:
    """A text of `version`'s model in the request's language (unchanged in Chinese)."""
    if not isinstance(text, str) or not text or not is_english():
        return text
    return lookup(stored_translations(version), text)


def model_text_deep(version: Any, value: Any) -> Any:
    """`model_text` applied to every string in nested dicts and lists."""
    if not is_english():
        return value
    translations = stored_translations(version)
    return map_strings(value, lambda text: lookup(translations, text))


def schema_text(version: Any, schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """A deep copy of a form schema with its human texts (titles, descriptions, help,
    placeholders, enum labels) in the request's language; names, values, enum values kept."""
    if not schema or not is_english():
        return schema
    translations = stored_translations(version)
    copied = copy.deepcopy(schema)
    _translate_schema(translations, copied)
    return copied


def _translate_schema(translations: Texts, node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _translate_schema(translations, item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in _SCHEMA_TEXT_KEYS and isinstance(value, str) and value:
            node[key] = lookup(translations, value)
        elif key in _SCHEMA_LABEL_MAPS and isinstance(value, dict):
            node[key] = {
                k: lookup(translations, v) if isinstance(v, str) and v else v
                for k, v in value.items()
            }
        elif key in ("properties", "$defs", "definitions", "dependentSchemas", "patternProperties"):
            if isinstance(value, dict):  # its keys are property names, its values schemas
                for sub in value.values():
                    _translate_schema(translations, sub)
        elif key in ("const", "enum", "default", "examples", "required", "pattern", "format"):
            continue  # data, never shown as a label
        else:
            _translate_schema(translations, value)


# --- versions of tasks and instances, and all deployed models at once ----------------------


def version_of(owner: Any) -> Any:
    """The ProcessVersion of a version, an instance or a task (looked up once per request)."""
    from app.models import HumanTask, ProcessInstance, ProcessVersion

    if owner is None or isinstance(owner, ProcessVersion):
        return owner
    if isinstance(owner, ProcessInstance):
        return owner.version
    instance_id = owner.instance_id if isinstance(owner, HumanTask) else None
    instance_id = instance_id if instance_id is not None else getattr(owner, "instance_id", None)
    if instance_id is None or not has_app_context():
        return None
    from app.extensions import db

    memory: dict[int, Any] = g.setdefault("_model_text_versions", {})
    if instance_id not in memory:
        memory[instance_id] = db.session.scalar(
            select(ProcessVersion)
            .join(ProcessInstance, ProcessInstance.version_id == ProcessVersion.id)
            .where(ProcessInstance.id == instance_id)
        )
    return memory[instance_id]


def text_of(text: Any, owner: Any = None) -> Any:
    """Jinja filter `model_text`: `{{ task.name|model_text(task) }}`; without an owner, the
    translations of every deployed model (newest versions win)."""
    if not isinstance(text, str) or not text or not is_english():
        return text
    if owner is None:
        return lookup(all_translations(), text)
    return lookup(stored_translations(version_of(owner)), text)


def all_translations() -> Texts:
    """The English texts of every deployed version, newer versions first (once per request)."""
    if not has_app_context():
        return _EMPTY
    if "_model_text_all" in g:
        return g._model_text_all  # type: ignore[no-any-return]
    from app.extensions import db
    from app.models import ProcessVersion

    merged = Texts()
    try:
        rows = db.session.execute(
            select(ProcessVersion.id, ProcessVersion.sha256).order_by(ProcessVersion.id)
        ).all()
        for version_id, sha256 in rows:
            found = _CACHE.get((version_id, sha256))
            if found is None:
                found = stored_translations(db.session.get(ProcessVersion, version_id))
            merged.update(found)
        merged.key = ("all", tuple(tuple(row) for row in rows))
    except Exception:  # noqa: BLE001 - no database (CLI, broken session): nothing to add
        merged = _EMPTY
    g._model_text_all = merged
    return merged


def stored_first(text: str) -> str:
    """For `translate_stored`: a stored text is looked up in the models' translations first."""
    return lookup(all_translations(), text)
