"""Every page in English: a crawl of the whole site as each role shows no Chinese interface text.

The demo data is seeded and each of the five shipped processes is walked into states with open
tasks, decisions, refusals, issued documents and an incident; studio drafts, test runs and a
draft that fails validation are added. Then, signed in as each role, every same-site page
reachable from the navigation and the lists is fetched with `lang=en` (breadth first, a few
URLs per URL pattern) and its visible text is checked: Chinese may only come from data (names of
subjects, departments, matters and people, record contents, what users typed, the texts of the
process models), never from the interface. The shipped process models translate what pages show
of them (process and element names, task forms, instructions: `<process>.i18n.json`), so in
English those texts are not data; the test bundles' texts and the models' other texts are.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import clock, runner
from app.models import (
    Attachment,
    Comment,
    Commitment,
    CreditRecord,
    Department,
    Document,
    DraftTestRun,
    HumanTask,
    Matter,
    MatterMaterial,
    OutboxEvent,
    ProcessDraft,
    ProcessInstance,
    ProcessVersion,
    PublicationRule,
    Subject,
    User,
    WebhookEndpoint,
)
from app.services import (
    attachments,
    comments,
    commitments,
    documents,
    handlers,
    host,
    instances,
    integration_tokens,
    messages,
    notify_commit,
    tasks,
    webhooks,
)
from app.services.studio import drafts, testrun
from tests.conftest import login
from tests.engine_fixtures import deploy_test_bundle, only_task, open_tasks, user
from tests.services.studio.test_testrun import bundle_files
from tests.services.test_documents import FAKES
from tests.services.test_inbox import NOW, record, seed_cases
from tests.test_i18n_catalogue import HAN, _VisibleText
from tests.test_i18n_models import PROCESSES as SHIPPED_PROCESSES
from tests.test_i18n_models import visible_texts

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HONGQIAO = "91310105MAAY4CL126"
FOOD = "SAMR-SPJY-001"
ROLES = [
    "",
    "ent_chengxi",
    "ent_hongqiao",
    "clerk_window",
    "rev_samr",
    "lead_samr",
    "insp_samr",
    "owner",
    "admin",
]
PER_PATTERN = 25  # URLs fetched per URL pattern (ids replaced, query keys kept)
MAX_PAGES = 800
# At least this many HTML pages per role (a broken login or world would crawl next to nothing).
MIN_PAGES = {
    "": 15,
    "ent_chengxi": 30,
    "ent_hongqiao": 30,
    "clerk_window": 25,
    "rev_samr": 25,
    "lead_samr": 25,
    "insp_samr": 20,
    "owner": 60,
    "admin": 60,
}
SKIP = re.compile(
    r"(/logout|/download|/files/|/diagram\.bpmn|\.(csv|xlsx|pdf|zip|bpmn|json)$|^/static/|^/api/)"
)
# What the test itself typed into forms and start data: data, not interface text.
TYPED = [
    "王某某",
    "陈某某",
    "材料齐全",
    "信息有误，请更正。",
    "经核查属实",
    "再核对",
    "主要材料齐全",
    "请补充完整",
    "证明.pdf",
    "核查发现申请人不具备承诺的经营场所条件",
    "处罚金额计算有误，请予更正。",
    "经核实，维持原记录",
    "请补充营业执照副本",
    "信用平台接收端",
    "数据对接令牌",
]


# --- the world: every process walked into states worth looking at ----------------------------


def _complete(session: Session, task: HumanTask, data: dict[str, Any], who: str) -> None:
    tasks.complete(session, task.id, data, user(session, who))
    session.commit()


def _start(session: Session, key: str, data: dict[str, Any], who: str) -> ProcessInstance:
    instance = instances.start_instance(session, key, data, user(session, who))
    session.commit()
    return instance


def _upload(session: Session, app: Flask, instance: ProcessInstance, who: str, kind: str) -> str:
    found = attachments.add_attachment(
        session,
        session.get(ProcessInstance, instance.id),
        user(session, who),
        kind=kind,
        filename="证明.pdf",
        stream=BytesIO(PDF),
        storage_dir=Path(app.config["STORAGE_DIR"]),
        max_bytes=10 * 1024 * 1024,
    )
    session.commit()
    return str(found.id)


def _task(session: Session, instance: ProcessInstance, bpmn_id: str, dept: str = "") -> HumanTask:
    found = [t for t in open_tasks(session, instance.id) if t.bpmn_id == bpmn_id]
    if dept:
        dept_id = session.scalar(select(Department.id).where(Department.code == dept))
        found = [t for t in found if t.department_id == dept_id]
    assert found, (bpmn_id, [t.bpmn_id for t in open_tasks(session, instance.id)])
    return found[0]


def _credit_repair(session: Session, app: Flask) -> None:
    # refused at once: the serious record's minimum publication period has not passed
    _start(
        session,
        "credit_repair",
        {"record_ids": [record(session, "samr-serious").id]},
        "ent_chengxi",
    )
    # decided: tax record approved and the document issued
    instance = _start(
        session, "credit_repair", {"record_ids": [record(session, "tax-general").id]}, "ent_chengxi"
    )
    proof = _upload(session, app, instance, "ent_chengxi", "履行义务证明")
    proofs = [{"record_id": record(session, "tax-general").id, "discharged": True, "proof": proof}]
    _complete(
        session,
        only_task(session, instance.id, "submit_application"),
        {"proofs": proofs, "agree": True, "signer_name": "王某某"},
        "ent_chengxi",
    )
    _complete(
        session,
        only_task(session, instance.id, "accept_application"),
        {"decision": "accept", "opinion": "材料齐全"},
        "clerk_window",
    )
    _complete(
        session,
        _task(session, instance, "review_records", "tax"),
        {"decision": "approve"},
        "rev_tax",
    )


def _objections(session: Session) -> None:
    # refused: another subject's record
    _start(
        session,
        "objection_handling",
        {
            "record_id": record(session, "hq-minor").id,
            "ground": "wrong_info",
            "claim": "信息有误，请更正。",
        },
        "ent_chengxi",
    )
    # forwarded, and the department keeps the record
    instance = _start(
        session,
        "objection_handling",
        {
            "record_id": record(session, "hq-general").id,
            "ground": "wrong_info",
            "claim": "处罚金额计算有误，请予更正。",
        },
        "ent_hongqiao",
    )
    _complete(
        session,
        only_task(session, instance.id, "platform_check"),
        {"decision": "forward"},
        "clerk_window",
    )
    task = open_tasks(session, instance.id)[0]
    _complete(session, task, {"decision": "uphold", "opinion": "经核实，维持原记录"}, "rev_ndrc")


def _notify_commit(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    # waiting for the window's decision
    instance = _start(session, "notify_commit_approval", {"matter_code": FOOD}, "ent_hongqiao")
    _complete(
        session,
        only_task(session, instance.id, "sign_commitment"),
        {"agree": True, "signer_name": "陈某某"},
        "ent_hongqiao",
    )
    # returned once, then approved
    instance = _start(session, "notify_commit_approval", {"matter_code": FOOD}, "ent_hongqiao")
    sign = {"agree": True, "signer_name": "陈某某"}
    _complete(session, only_task(session, instance.id, "sign_commitment"), sign, "ent_hongqiao")
    _complete(
        session,
        only_task(session, instance.id, "decide_application"),
        {"decision": "return", "opinion": "再核对"},
        "clerk_window",
    )
    _complete(session, only_task(session, instance.id, "sign_commitment"), sign, "ent_hongqiao")
    _complete(
        session,
        only_task(session, instance.id, "decide_application"),
        {"decision": "approve"},
        "clerk_window",
    )
    # approved and drawn for verification: a task for the inspector
    monkeypatch.setattr(notify_commit, "sampling_draw", lambda instance_id: 0.0)
    instance = _start(session, "notify_commit_approval", {"matter_code": FOOD}, "ent_hongqiao")
    _complete(session, only_task(session, instance.id, "sign_commitment"), sign, "ent_hongqiao")
    _complete(
        session,
        only_task(session, instance.id, "decide_application"),
        {"decision": "approve"},
        "clerk_window",
    )
    only_task(session, instance.id, "verify_commitment")
    # the ordinary route: an unrepaired serious record rules notify-and-commit out
    _start(session, "notify_commit_approval", {"matter_code": FOOD}, "ent_haian")


def _rongque(session: Session, app: Flask) -> None:
    # a core material cannot be deferred: refused
    _start(
        session,
        "rongque_acceptance",
        {"matter_code": FOOD, "deferred_materials": ["premises_proof"]},
        "ent_hongqiao",
    )
    # accepted, a material to supply, supplied and returned once
    instance = _start(
        session,
        "rongque_acceptance",
        {"matter_code": FOOD, "deferred_materials": ["safety_rules", "health_certificates"]},
        "ent_hongqiao",
    )
    _complete(
        session,
        only_task(session, instance.id, "sign_commitment"),
        {"agree": True, "signer_name": "陈某某"},
        "ent_hongqiao",
    )
    _complete(
        session,
        only_task(session, instance.id, "accept_application"),
        {"decision": "approve", "opinion": "主要材料齐全"},
        "clerk_window",
    )
    supply = sorted(
        (t for t in open_tasks(session, instance.id) if t.bpmn_id == "supplement_material"),
        key=lambda t: t.due_at,
    )[0]
    attachment = _upload(session, app, instance, "ent_hongqiao", "deferred_material")
    _complete(session, supply, {"attachment": attachment}, "ent_hongqiao")
    review = _task(session, instance, "review_supplement")
    _complete(session, review, {"decision": "return", "opinion": "请补充完整"}, "rev_samr")


def _breach(session: Session) -> None:
    """Two breach reports thrown by notify_commit_approval: one confirmed, one waiting."""
    hongqiao = session.scalar(select(Subject).where(Subject.uscc == HONGQIAO))
    matter = session.scalar(select(Matter).where(Matter.code == FOOD))
    for decide in (True, False):
        commitment = commitments.sign(
            session,
            kind="notify_commit",
            subject=hongqiao,
            text=f"本单位承诺：{matter.name}的申请材料真实，并在期限内补齐。",
            signer_name="王某某",
            signed_by=None,
            matter_id=matter.id,
            department_id=matter.department_id,
            due_on=date(2026, 11, 2) + timedelta(days=14),
        )
        session.add(
            OutboxEvent(
                kind="bpmn_message",
                name="commitment_breached",
                payload={
                    "commitment_id": commitment.id,
                    "reason": "核查发现申请人不具备承诺的经营场所条件",
                    "subject_uscc": HONGQIAO,
                    "source_process": "notify_commit_approval",
                    "source_instance_id": 4242,
                },
                correlations={},
            )
        )
        session.commit()
        messages.deliver_outbox_messages(session)
        session.commit()
        if decide:
            instance = session.scalars(
                select(ProcessInstance)
                .where(ProcessInstance.process_key == "commitment_breach")
                .order_by(ProcessInstance.id.desc())
            ).first()
            task = open_tasks(session, instance.id)[0]
            who = "lead_samr" if task.lane == "leader" else "rev_samr"
            _complete(session, task, {"opinion": "经核查属实", "decision": "confirm"}, who)


def _incident(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """review_case stopped by a failing service: an instance in error with an incident."""

    def down(ctx: handlers.HandlerContext, params: dict[str, object]) -> object:
        raise ConnectionError("platform API unavailable")

    monkeypatch.setitem(handlers.HANDLERS, "test.flaky_notify", down)
    deploy_test_bundle(
        session, "review_case", **{"review_case.bpmn": 'id="system.echo"=>id="test.flaky_notify"'}
    )
    instance = _start(session, "review_case", {}, "ent_chengxi")
    _complete(
        session,
        only_task(session, instance.id, "submit_application"),
        {"claim": "请补充营业执照副本"},
        "ent_chengxi",
    )
    review = only_task(session, instance.id, "review_application")
    with pytest.raises(host.ProcessIncidentError):
        tasks.complete(session, review.id, {"decision": "approve"}, user(session, "rev_samr"))
    session.commit()


def _studio(session: Session) -> None:
    owner = user(session, "owner")
    drafts.create_from_version(session, "credit_repair", None, owner)
    session.commit()
    # a draft that does not validate: its deploy and test-run pages list the problems
    files = bundle_files("credit_repair")
    files["credit_repair.bpmn"] = files["credit_repair.bpmn"].replace(
        'eligibility["eligible_count"] &gt; 0', "eligibility[&quot;eligible_count&quot; &gt; 0"
    )
    session.add(
        ProcessDraft(
            key="credit_repair",
            name="credit_repair",
            files=files,
            status="open",
            created_by_id=owner.id,
            updated_by_id=owner.id,
        )
    )
    session.commit()
    # test runs: one stopped by an error (no sample results), one waiting at a task
    failing = drafts.create_from_version(session, "notify_commit_approval", None, owner)
    session.commit()
    testrun.start_run(session, failing.id, {"matter_code": "M001"}, {}, owner)
    waiting = drafts.create_from_version(session, "review_case", None, owner)
    session.commit()
    testrun.start_run(session, waiting.id, {}, {}, owner)
    session.commit()
    # a second version of review_case: its rollback page and a migration target
    deploy_test_bundle(
        session,
        "review_case",
        **{
            "review_case.bpmn": 'id="system.echo"=>id="test.flaky_notify"',
            "review_form.json": "审核意见=>审核意见（第二版）",
        },
    )


def _documents(session: Session, app: Flask) -> None:
    documents.process_document_outbox(
        session,
        storage_dir=app.config["STORAGE_DIR"],
        base_url="https://x.example",
        key=object(),
        **FAKES,
    )
    session.commit()


def _collaboration(session: Session, repair: ProcessInstance) -> None:
    comments.add_comment(
        session, repair, user(session, "rev_samr"), "请补充营业执照副本", visible_to_applicant=True
    )
    admin = user(session, "admin")
    webhooks.create_endpoint(
        session,
        admin,
        name="信用平台接收端",
        url="https://hooks.example.com/creditflow",
        events=["repair_approved", "objection_decided", "document_issued"],
    )
    webhooks.fan_out(session)
    integration_tokens.create(
        session, admin, name="数据对接令牌", scopes=["read"], expires_in_days=30
    )
    session.commit()


def build_world(session: Session, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The five processes in many states (seed_cases: a repair and an objection under review)."""
    repair, _objection = seed_cases(session, app)
    _credit_repair(session, app)
    _objections(session)
    _notify_commit(session, monkeypatch)
    _rongque(session, app)
    _breach(session)
    _incident(session, monkeypatch)
    _studio(session)
    _documents(session, app)
    _collaboration(session, repair)


# --- what counts as data --------------------------------------------------------------------


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


_HOLE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{[^{}]*\}", re.S)  # Jinja and f-string values
_F_STRING = re.compile(r"""\bf(["'])(.*?)\1""", re.S)
_QUOTED = re.compile(r"""(["'])(.*?)\1""", re.S)


@dataclass(frozen=True)
class ModelTemplate:
    """A text of a process model with holes for values (instructions, a script's f-string)."""

    pattern: re.Pattern[str]
    words: tuple[str, ...]  # its own words, which a loop in it may repeat inside a value

    def strip(self, text: str) -> str:
        def values(match: re.Match[str]) -> str:
            found = " ".join(g or "" for g in match.groups())
            for word in self.words:
                found = found.replace(word, " ")
            return f" {found} "

        return self.pattern.sub(values, text)


@dataclass
class Data:
    """What a page may show in Chinese: data, and the texts of the process models."""

    values: list[str]  # longest first
    templates: list[ModelTemplate]


def _template(text: str) -> ModelTemplate | None:
    words = [w.strip() for w in _HOLE.split(text)]
    while words and not HAN.search(words[0]):
        words.pop(0)
    while words and not HAN.search(words[-1]):
        words.pop()
    if not words or len(HAN.findall("".join(words))) < 2:
        return None
    pattern = "(.*?)".join(re.escape(w) for w in words)
    return ModelTemplate(re.compile(pattern, re.S), tuple(w for w in words if HAN.search(w)))


def _model_texts(files: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Texts of a process model, written by its owner in one language: (texts, templates).

    Texts are names, documentation, decision-table entries and form titles; templates are the
    instructions for end users and the f-strings of scripts (shown with values filled in).
    """
    texts: set[str] = set()
    templates: set[str] = set()
    for name, body in (files or {}).items():
        if not isinstance(body, str):
            texts.update(_strings(body))
            continue
        if name.endswith(".json"):
            try:
                texts.update(_strings(json.loads(body)))
            except ValueError:
                pass
            continue
        try:
            root = etree.fromstring(body.encode("utf-8"))
        except etree.XMLSyntaxError:
            continue
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            texts.update(v for v in element.attrib.values() if HAN.search(v))
            text = element.text or ""
            if not HAN.search(text):
                continue
            kind = etree.QName(element).localname
            if kind == "instructionsForEndUser":
                templates.add(text)
            elif kind in ("script", "preScript", "postScript", "conditionExpression"):
                templates.update(m.group(2) for m in _F_STRING.finditer(text))
                texts.update(m.group(2) for m in _QUOTED.finditer(_F_STRING.sub("", text)))
            else:  # documentation, decision tables (their entries are quoted strings)
                texts.update(t.strip() for t in text.split("\n"))
                texts.update(m.group(2) for m in _QUOTED.finditer(text))
    return texts, templates


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


def _texts_to_sign(session: Session) -> Iterator[str]:
    """The commitments open tasks show for signing: legal text, kept in Chinese like the
    signed commitments and the documents."""
    for instance in session.scalars(
        select(ProcessInstance).where(ProcessInstance.status == "running")
    ):
        snapshot = runner.snapshot(host.load(session, instance))
        for view in snapshot.ready_tasks:
            for key, value in _walk(view.data):
                if "commitment_text" in key and isinstance(value, str):
                    yield value
                    yield from value.splitlines()


SHIPPED_VISIBLE = frozenset(t for _, p in SHIPPED_PROCESSES for t in visible_texts(p))
SHIPPED_KEYS = frozenset(p.get("id") for _, p in SHIPPED_PROCESSES)


def data_of(session: Session, translated: bool = True) -> Data:
    """Chinese strings that are data: what the page shows may contain them (`translated`:
    less the shipped models' texts that their translation files cover)."""
    values: set[str] = set(TYPED)
    templates: set[str] = set()
    for model in (Subject, Department, Matter, MatterMaterial, CreditRecord, PublicationRule):
        for row in session.scalars(select(model)):
            for column in model.__table__.columns:
                values.update(_strings(getattr(row, column.key)))
    values.update(s.masked_name() for s in session.scalars(select(Subject)))
    values.update(session.scalars(select(User.display_name)))
    values.update(session.scalars(select(Comment.body)))
    for commitment in session.scalars(select(Commitment)):
        values.update((commitment.text, commitment.signer_name))
        values.update(commitment.text.splitlines())
    values.update(_texts_to_sign(session))
    values.update(session.scalars(select(Attachment.original_name)))
    values.update(session.scalars(select(Document.serial)))
    # Texts of the process models. The shipped models translate what pages show of them
    # (process and element names, forms, instructions: `<process>.i18n.json`), so outside the
    # studio (the modellers' workspace, which shows the models as written) those texts of the
    # shipped models are not data in English; the test bundles' texts and the models' other
    # texts (documentation, decision tables, their scripts' sentences) are.
    shipped = SHIPPED_KEYS if translated else frozenset()
    for task in session.scalars(select(HumanTask)):
        if task.process_key not in shipped or task.name not in SHIPPED_VISIBLE:
            values.add(task.name or "")
        values.update(_strings(task.form_data or {}))
    for version in session.scalars(select(ProcessVersion)):
        hidden = SHIPPED_VISIBLE if version.key in shipped else frozenset()
        values.update({version.name} - hidden)
        for files in (version.files, version.forms):
            texts, found = _model_texts(files)
            values.update(texts - hidden)
            templates.update(found - hidden)
    for draft in session.scalars(select(ProcessDraft)):
        hidden = SHIPPED_VISIBLE if draft.key in shipped else frozenset()
        values.update({draft.name} - hidden)
        texts, found = _model_texts(draft.files)
        values.update(texts - hidden)
        templates.update(found - hidden)
    # a script's sentence may be shown with its neighbours translated: each is the model's own
    templates.update(
        sentence for t in list(templates) for sentence in re.findall(r"[^。\n]+。?", t)
    )
    compiled = [t for t in map(_template, sorted(templates, key=len, reverse=True)) if t]
    return Data(sorted((v for v in values if v and HAN.search(v)), key=len, reverse=True), compiled)


def chinese_left(html: str, data: Data) -> list[str]:
    """The visible texts that still have Chinese once data and model texts are taken out."""
    parser = _VisibleText()
    parser.feed(html)
    left = []
    for text in parser.texts + parser.attr_texts:
        if not HAN.search(text):
            continue
        rest = text
        for template in data.templates:
            rest = template.strip(rest)
        for value in data.values:
            if value in rest:
                rest = rest.replace(value, " ")
        if HAN.search(rest):
            left.append(text)
    return left


# --- the crawl --------------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def _pattern(path: str, query: str) -> str:
    """The URL with ids as N and only the query's keys: the unit of PER_PATTERN."""
    keys = sorted({k for k, _ in parse_qsl(query, keep_blank_values=True)})
    path = re.sub(r"/[0-9a-f]{8}-[0-9a-f-]{27}", "/UUID", re.sub(r"/\d+(?=/|$)", "/N", path))
    return path + ("?" + "&".join(keys) if keys else "")


def _normal(href: str, base: str) -> str | None:
    """A same-site page worth fetching, without `lang` (the crawl adds it), or None."""
    parts = urlsplit(urljoin(base, href))
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "localhost"):
        return None
    path = unquote(parts.path)
    if not path or SKIP.search(path):
        return None
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "lang"])
    return path + ("?" + query if query else "")


@dataclass
class Crawl:
    pages: dict[str, list[str]] = field(default_factory=dict)  # url → Chinese left
    statuses: dict[str, int] = field(default_factory=dict)
    not_english: list[str] = field(default_factory=list)  # pages without <html lang="en">


def crawl(
    client: FlaskClient, data: Data, start: Iterable[str], studio: Data | None = None
) -> Crawl:
    """Breadth first from `start` over same-site links, in English, PER_PATTERN per pattern
    (`studio`: what the studio's pages may show of the models)."""
    result = Crawl()
    queue = deque(dict.fromkeys(start))
    seen = set(queue)
    per_pattern: dict[str, int] = {}
    while queue and len(result.statuses) < MAX_PAGES:
        url = queue.popleft()
        parts = urlsplit(url)
        pattern = _pattern(parts.path, parts.query)
        if per_pattern.get(pattern, 0) >= PER_PATTERN:
            continue
        per_pattern[pattern] = per_pattern.get(pattern, 0) + 1
        response = client.get(url + ("&" if "?" in url else "?") + "lang=en")
        if response.status_code in (301, 302, 303):
            target = _normal(response.headers["Location"], url)
            if target and urlsplit(target).path != "/login" and target not in seen:
                seen.add(target)
                queue.append(target)
            continue
        result.statuses[url] = response.status_code
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        if '<html lang="en"' not in html:
            result.not_english.append(url)
        in_studio = studio is not None and parts.path.startswith("/studio")
        result.pages[url] = chinese_left(html, studio if in_studio and studio else data)
        links = _Links()
        links.feed(html)
        for href in links.hrefs:
            target = _normal(href, url)
            if target and target not in seen:
                seen.add(target)
                queue.append(target)
    return result


def start_urls(session: Session) -> list[str]:
    """Where the crawl starts: the home page, and pages reached through forms and buttons
    (or the address bar) rather than links; a role that may not open one gets its 403 page."""
    urls = ["/", "/login", "/register", "/studio/", "/no-such-page"]
    urls += [f"/verify/{serial}" for serial in session.scalars(select(Document.serial))]
    for draft_id in session.scalars(select(ProcessDraft.id)):
        urls += [f"/studio/drafts/{draft_id}/testruns", f"/studio/drafts/{draft_id}/diff"]
    urls += [f"/studio/testruns/{i}" for i in session.scalars(select(DraftTestRun.id))]
    urls += [f"/admin/webhooks/{i}" for i in session.scalars(select(WebhookEndpoint.id))]
    urls += [f"/studio/instances/{i}" for i in session.scalars(select(ProcessInstance.id))]
    for instance in session.scalars(select(ProcessInstance)):  # migration dry runs (GET forms)
        target = 2 if instance.process_key == "review_case" else 1
        urls.append(
            f"/studio/processes/{instance.process_key}/migrate?ids={instance.id}&target={target}"
        )
    return urls


@dataclass
class World:
    data: Data
    start: list[str]
    studio: Data  # the studio shows the models as written


@pytest.fixture()
def world(app: Flask, seeded: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with clock.frozen_at(NOW):
        build_world(seeded, app, monkeypatch)
        yield World(data_of(seeded), start_urls(seeded), data_of(seeded, translated=False))


def _signed_in(app: Flask, username: str) -> FlaskClient:
    g.pop("_login_user", None)  # the test app context is shared: forget the previous client
    g.pop("csrf_token", None)
    client = app.test_client()
    if username:
        login(client, username)
    return client


@pytest.mark.parametrize("username", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_every_page_in_english_shows_no_chinese_interface_text(
    app: Flask, world: World, username: str
) -> None:
    done = crawl(_signed_in(app, username), world.data, world.start, world.studio)
    assert len(done.pages) >= MIN_PAGES[username], sorted(done.statuses)
    errors = {url: status for url, status in done.statuses.items() if status >= 500}
    assert not errors, f"server errors as {username or 'anonymous'}: {errors}"
    assert not done.not_english, f"pages not in English: {done.not_english}"
    left = {url: texts for url, texts in done.pages.items() if texts}
    report = "\n".join(
        f"  {url}\n" + "".join(f"      {t!r}\n" for t in texts) for url, texts in left.items()
    )
    assert not left, (
        f"{len(left)} of {len(done.pages)} pages as {username or 'anonymous'} show Chinese "
        f"interface text in English:\n{report}"
    )


# --- the checker itself ---------------------------------------------------------------------


def test_the_checker_finds_interface_text_and_lets_data_and_raw_dumps_pass() -> None:
    data = Data(["上海澄溪示例食品有限公司"], [t for t in [_template("请审查：{{ r.no }}号")] if t])
    page = (
        '<html lang="en"><body><h1>上海澄溪示例食品有限公司</h1><p>请审查：嘉市监 9356号</p>'
        "<p>待办理</p><p title=\"审核\">ok</p><pre translate=\"no\">{'reason': '不予受理'}</pre>"
        '<span lang="zh-CN">中文</span></body></html>'
    )
    # the model's words around a value pass; the value inside them is checked like any text
    assert chinese_left(page, data) == ["请审查：嘉市监 9356号", "待办理", "审核"]


# --- what forms answer --------------------------------------------------------------------------


def _post(client: FlaskClient, url: str, data: dict[str, Any], page: str | None = None) -> str:
    from tests.conftest import csrf_token

    token = csrf_token(client, page or url)
    response = client.post(url + "?lang=en", data={"csrf_token": token, **data})
    assert response.status_code < 500, response.text[:500]
    return response.get_data(as_text=True)


def test_form_answers_in_english_show_no_chinese_interface_text(
    app: Flask, seeded: Session, world: World
) -> None:
    """Validation errors, refusals and operator results, which only a POST shows."""
    serious, general = record(seeded, "samr-serious"), record(seeded, "samr-general")
    broken = max(seeded.scalars(select(ProcessDraft.id).where(ProcessDraft.key == "credit_repair")))
    failed = seeded.scalar(select(ProcessInstance).where(ProcessInstance.status == "error"))
    assert failed is not None
    page = f"/studio/instances/{failed.id}"
    answers: dict[str, str] = {}
    ent = _signed_in(app, "ent_chengxi")
    answers["repair: not yet"] = _post(
        ent, "/enterprise/apply/repair", {"record_ids": [str(serious.id)]}
    )
    answers["repair: nothing chosen"] = _post(ent, "/enterprise/apply/repair", {})
    answers["matter: no mode"] = _post(ent, f"/enterprise/apply/matters/{FOOD}", {"mode": ""})
    answers["objection: no ground"] = _post(
        ent, f"/enterprise/records/{general.id}/object", {"ground": "", "claim": "x"}
    )
    hongqiao = _signed_in(app, "ent_hongqiao")
    answers["rongque: core material"] = _post(
        hongqiao,
        f"/enterprise/apply/matters/{FOOD}",
        {"mode": "rongque", "deferred_materials": ["premises_proof"]},
    )
    owner = _signed_in(app, "owner")
    answers["retry fails again"] = _post(owner, f"{page}/retry", {}, page)
    answers["terminate: no reason"] = _post(owner, f"{page}/terminate", {}, page)
    answers["deploy refused"] = _post(
        owner, f"/studio/drafts/{broken}/deploy", {}, f"/studio/drafts/{broken}/deploy"
    )
    answers["migration refused"] = _post(
        owner,
        "/studio/processes/review_case/migrate/run",
        {"ids": str(failed.id), "target": "2"},
        "/studio/processes/review_case/migrate",
    )
    studio = ("retry fails again", "terminate: no reason", "deploy refused", "migration refused")
    left = {
        name: chinese_left(html, world.studio if name in studio else world.data)
        for name, html in answers.items()
    }
    left = {name: texts for name, texts in left.items() if texts}
    assert not left, left
