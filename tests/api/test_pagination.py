"""Every list answers {items, total, page, per_page}, pages with ?page=&per_page= (per_page at
most 100), filters, and refuses invalid parameters with 422 naming each bad field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.api.pagination import MAX_PAGE, MAX_PER_PAGE
from app.models import HumanTask
from app.services import instances, tasks
from tests.api.token_helpers import Headers, personal
from tests.engine_fixtures import deploy_test_bundle, open_tasks, user

API = "/api/v1"
CHENGXI = "91310114MA1GT8QX92"
LISTS = (
    "/process-definitions",
    "/process-instances",
    "/tasks",
    f"/subjects/{CHENGXI}/records",
)


@pytest.fixture()
def tokens(seeded: Session) -> Callable[[str], Headers]:
    deploy_test_bundle(seeded, "review_case")
    cache: dict[str, Headers] = {}

    def get(username: str) -> Headers:
        if username not in cache:
            cache[username] = personal(seeded, username)
        return cache[username]

    return get


def _started(session: Session, count: int) -> list[int]:
    """`count` review_case instances of ent_chengxi, each with its enterprise task done."""
    enterprise = user(session, "ent_chengxi")
    ids = []
    for _ in range(count):
        instance = instances.start_instance(session, "review_case", {}, enterprise)
        session.commit()
        (submit,) = open_tasks(session, instance.id)
        tasks.complete(session, submit.id, {"claim": "请求修复"}, enterprise)
        session.commit()
        ids.append(instance.id)
    return ids


@pytest.mark.parametrize("path", LISTS)
def test_every_list_has_the_envelope_and_validates_paging(
    client: FlaskClient, tokens: Callable[[str], Headers], path: str
) -> None:
    headers = tokens("ent_chengxi")
    body = client.get(API + path, headers=headers).json
    assert set(body) == {"items", "total", "page", "per_page"}
    assert (body["page"], body["per_page"]) == (1, 50)
    top = client.get(f"{API}{path}?per_page={MAX_PER_PAGE}&page=1", headers=headers)
    assert top.status_code == 200 and top.json["per_page"] == MAX_PER_PAGE
    far = client.get(f"{API}{path}?page={MAX_PAGE}", headers=headers)
    assert far.status_code == 200 and far.json["items"] == []
    for query, fields in (
        ("per_page=0", {"per_page"}),
        (f"per_page={MAX_PER_PAGE + 1}", {"per_page"}),
        ("per_page=abc", {"per_page"}),
        ("page=0", {"page"}),
        ("page=-3&per_page=1.5", {"page", "per_page"}),
        (f"page={MAX_PAGE + 1}", {"page"}),
        (f"page={10**20}", {"page"}),
        ("page=%EF%BC%91", {"page"}),  # a full-width digit is not an integer here
    ):
        response = client.get(f"{API}{path}?{query}", headers=headers)
        assert response.status_code == 422, (path, query, response.text)
        error = response.json["error"]
        assert error["code"] == "validation_failed"
        assert set(error["details"]["fields"]) == fields, (path, query)
    empty = client.get(f"{API}{path}?page=&per_page=", headers=headers)
    assert empty.status_code == 200 and (empty.json["page"], empty.json["per_page"]) == (1, 50)


def test_pages_partition_the_list(
    client: FlaskClient, tokens: Callable[[str], Headers], seeded: Session
) -> None:
    ids = _started(seeded, 5)
    headers = tokens("ent_chengxi")
    seen: list[int] = []
    for page in (1, 2, 3):
        body = client.get(f"{API}/process-instances?per_page=2&page={page}", headers=headers).json
        assert body["total"] == 5 and body["page"] == page and body["per_page"] == 2
        seen += [i["id"] for i in body["items"]]
    assert seen == sorted(ids, reverse=True)  # newest first, nothing twice, nothing lost


def test_instance_filters(
    client: FlaskClient, tokens: Callable[[str], Headers], seeded: Session
) -> None:
    _started(seeded, 2)
    headers = tokens("owner")
    for query, total in (
        ("status=running", 2),
        ("status=completed", 0),
        ("process_key=review_case", 2),
        ("process_key=other", 0),
        (f"subject_uscc={CHENGXI}", 2),
        ("subject_uscc=91370200MADD272H4F", 0),
        (f"status=running&process_key=review_case&subject_uscc={CHENGXI}", 2),
    ):
        response = client.get(f"{API}/process-instances?{query}", headers=headers)
        assert response.status_code == 200 and response.json["total"] == total, query
    bad = client.get(f"{API}/process-instances?status=nope&process_key={'k' * 65}", headers=headers)
    assert bad.status_code == 422
    assert set(bad.json["error"]["details"]["fields"]) == {"status", "process_key"}


def test_task_filters_process_key_and_due_before(
    client: FlaskClient, tokens: Callable[[str], Headers], seeded: Session
) -> None:
    _started(seeded, 3)
    reviewer = tokens("rev_samr")
    listed = client.get(f"{API}/tasks?process_key=review_case", headers=reviewer).json
    assert listed["total"] == 3
    dues = [datetime.fromisoformat(t["due_at"]) for t in listed["items"]]
    assert dues == sorted(dues)  # soonest due first
    assert client.get(f"{API}/tasks?process_key=other", headers=reviewer).json["total"] == 0

    # Give the tasks distinct deadlines, then cut between them.
    base = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    rows = seeded.query(HumanTask).filter(HumanTask.bpmn_id == "review_application").all()
    for offset, task in enumerate(sorted(rows, key=lambda t: t.created_at)):
        task.due_at = base + timedelta(days=offset)
    seeded.commit()
    for value, total in (
        ("2026-12-01T09:00:00+08:00", 0),  # strictly before
        ("2026-12-01T09:00:01+08:00", 1),
        ("2026-12-02T01:00:01Z", 2),
        ("2026-12-03T09:30:00", 3),  # no offset: local time
        ("2026-12-02", 1),  # a date: its local midnight
        ("2026-11-01", 0),
    ):
        query = f"due_before={value.replace('+', '%2B')}&process_key=review_case"
        response = client.get(f"{API}/tasks?{query}", headers=reviewer)
        assert response.status_code == 200 and response.json["total"] == total, value
    for bad in ("tomorrow", "2026-13-01", "0001-01-01T00:00:00+08:00"):
        response = client.get(f"{API}/tasks?due_before={bad.replace('+', '%2B')}", headers=reviewer)
        assert response.status_code == 422, bad
        assert set(response.json["error"]["details"]["fields"]) == {"due_before"}
    both = client.get(f"{API}/tasks?scope=x&state=y&per_page=0", headers=reviewer)
    assert set(both.json["error"]["details"]["fields"]) == {"scope", "state", "per_page"}


def test_definition_list_all_versions_and_key(
    client: FlaskClient, tokens: Callable[[str], Headers], seeded: Session
) -> None:
    deploy_test_bundle(seeded, "review_case", **{"review_form.json": "审核意见=>处理意见"})
    headers = tokens("rev_samr")

    def versions(query: str) -> list[tuple[str, int]]:
        body = client.get(f"{API}/process-definitions?{query}", headers=headers).json
        return [(d["key"], d["version"]) for d in body["items"]]

    assert ("review_case", 2) in versions("") and ("review_case", 1) not in versions("")
    assert versions("all=1&key=review_case") == [("review_case", 1), ("review_case", 2)]
    assert versions("all=true&key=review_case&per_page=1&page=2") == [("review_case", 2)]
    assert versions("all=0&key=review_case") == [("review_case", 2)]
    assert versions("key=nope") == []
    bad = client.get(f"{API}/process-definitions?all=yes", headers=headers)
    assert bad.status_code == 422 and set(bad.json["error"]["details"]["fields"]) == {"all"}


def test_subject_record_filters(client: FlaskClient, tokens: Callable[[str], Headers]) -> None:
    headers = tokens("ent_chengxi")
    url = f"{API}/subjects/{CHENGXI}/records"
    every = client.get(url, headers=headers).json["items"]
    for query, expected in (
        ("status=published", [r for r in every if r["status"] == "published"]),
        ("status=repaired", [r for r in every if r["status"] == "repaired"]),
        (
            "record_type=abnormal_operations",
            [r for r in every if r["type"] == "abnormal_operations"],
        ),
        (
            "record_type=administrative_penalty&status=published",
            [
                r
                for r in every
                if r["type"] == "administrative_penalty" and r["status"] == "published"
            ],
        ),
    ):
        body = client.get(f"{url}?{query}", headers=headers).json
        assert body["items"] == expected and body["total"] == len(expected), query
    assert client.get(f"{url}?record_type=abnormal_operations", headers=headers).json["total"] == 1
    bad = client.get(f"{url}?status=gone&record_type=x", headers=headers)
    assert bad.status_code == 422
    assert set(bad.json["error"]["details"]["fields"]) == {"status", "record_type"}
