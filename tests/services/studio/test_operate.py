"""Studio operating queries: instance filters and counts, the instance detail, batch migration."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, ProcessInstance
from app.services import handlers, host, instances, operations, tasks
from app.services.errors import InvalidInputError, NotAllowedError, NotFoundError
from app.services.studio import operate
from tests.engine_fixtures import deploy_test_bundle, only_task, user

CHENGXI = "91310114MA1GT8QX92"


@pytest.fixture()
def review(seeded: Session) -> Session:
    deploy_test_bundle(seeded, "review_case")
    return seeded


def _start(session: Session, who: str = "ent_chengxi", at: datetime | None = None) -> int:
    instance = instances.start_instance(session, "review_case", {}, user(session, who))
    if at is not None:
        instance.created_at = at
    session.commit()
    return instance.id


def _submit(session: Session, instance_id: int, who: str = "ent_chengxi") -> None:
    task = only_task(session, instance_id, "submit_application")
    tasks.complete(session, task.id, {"claim": "请求修复"}, user(session, who))
    session.commit()


def _ids(page: operate.InstancePage) -> list[int]:
    return [row.instance.id for row in page.rows]


def _filters(**args: str) -> operate.InstanceFilters:
    return operate.InstanceFilters.parse(args)


def test_filters_counts_and_pages(review: Session) -> None:
    owner = user(review, "owner")
    # 2026-11-19 23:30 in Shanghai is 15:30 UTC; 2026-11-20 00:30 is 16:30 UTC the day before.
    late_19th = _start(review, "ent_chengxi", datetime(2026, 11, 19, 15, 30, tzinfo=UTC))
    early_20th = _start(review, "ent_hongqiao", datetime(2026, 11, 19, 16, 30, tzinfo=UTC))
    submitted = _start(review, "ent_chengxi", datetime(2026, 11, 21, 2, 0, tzinfo=UTC))
    _submit(review, submitted)
    operations.suspend(review, early_20th, owner)
    review.commit()
    deploy_test_bundle(
        review, "review_case", **{"review_case.bpmn": 'name="提交申请"=>name="提交修复申请"'}
    )
    on_v2 = _start(review, "ent_hongqiao", datetime(2026, 11, 22, 2, 0, tzinfo=UTC))

    everything = operate.list_instances(review, "review_case", _filters(), owner)
    assert _ids(everything) == [on_v2, submitted, early_20th, late_19th]  # newest first
    assert everything.counts == {
        "running": 3,
        "suspended": 1,
        "error": 0,
        "completed": 0,
        "terminated": 0,
    }
    assert everything.versions == [1, 2] and everything.total == 4
    by_id = {row.instance.id: row for row in everything.rows}
    assert by_id[submitted].current_tasks == ["审核申请"]
    assert by_id[on_v2].current_tasks == ["提交修复申请"] and by_id[on_v2].version == 2
    assert by_id[late_19th].subject.uscc == CHENGXI

    suspended = operate.list_instances(review, "review_case", _filters(status="suspended"), owner)
    assert _ids(suspended) == [early_20th]
    assert suspended.counts["running"] == 3  # counts ignore the status filter, keep the others

    assert _ids(operate.list_instances(review, "review_case", _filters(version="2"), owner)) == [
        on_v2
    ]
    by_uscc = operate.list_instances(review, "review_case", _filters(subject="ma1gt8"), owner)
    assert _ids(by_uscc) == [submitted, late_19th]  # partial USCC, any case
    by_name = operate.list_instances(review, "review_case", _filters(subject="虹桥"), owner)
    assert _ids(by_name) == [on_v2, early_20th]
    assert by_name.counts == {
        **dict.fromkeys(operate.STATUS_ORDER, 0),
        "running": 1,
        "suspended": 1,
    }
    assert (
        _ids(operate.list_instances(review, "review_case", _filters(subject="100%"), owner)) == []
    )

    # Dates are Shanghai dates: the instance started at 00:30 on the 20th belongs to the 20th.
    on_20th = _filters(started_from="2026-11-20", started_to="2026-11-20")
    assert _ids(operate.list_instances(review, "review_case", on_20th, owner)) == [early_20th]
    until_19th = _filters(started_to="2026-11-19")
    assert _ids(operate.list_instances(review, "review_case", until_19th, owner)) == [late_19th]

    first = operate.list_instances(review, "review_case", _filters(), owner, 1, per_page=3)
    second = operate.list_instances(review, "review_case", _filters(), owner, 2, per_page=3)
    beyond = operate.list_instances(review, "review_case", _filters(), owner, 99, per_page=3)
    assert (first.pages, _ids(first), _ids(second)) == (
        2,
        [on_v2, submitted, early_20th],
        [late_19th],
    )
    assert beyond.page == 2 and _ids(beyond) == [late_19th]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"version": "v2"}, "version"),
        ({"version": "0"}, "version"),
        ({"version": str(2**40)}, "version"),
        ({"status": "sleeping"}, "status"),
        ({"started_from": "2026-13-01"}, "started_from"),
        ({"started_to": "yesterday"}, "started_to"),
        ({"started_to": "9999-12-31"}, "started_to"),
        ({"started_from": "0001-01-01"}, "started_from"),
        ({"started_from": "2026-11-20", "started_to": "2026-11-19"}, "started_to"),
        ({"subject": "x" * 201}, "subject"),
    ],
)
def test_bad_filters_name_the_field(args: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        operate.InstanceFilters.parse(args)
    assert list(info.value.fields) == [field]


def test_page_numbers() -> None:
    assert operate.parse_page(None) == 1 and operate.parse_page("3") == 3
    assert operate.parse_page(str(10**20)) == operate.MAX_ID
    for bad in ("0", "-1", "two"):
        with pytest.raises(InvalidInputError):
            operate.parse_page(bad)


def test_only_owners_and_admins_and_only_known_processes(review: Session) -> None:
    with pytest.raises(NotAllowedError):
        operate.list_instances(review, "review_case", _filters(), user(review, "rev_samr"))
    with pytest.raises(NotFoundError):
        operate.list_instances(review, "no_such_process", _filters(), user(review, "admin"))
    with pytest.raises(NotFoundError):
        operate.instance_detail(review, 999_999, user(review, "owner"))
    with pytest.raises(NotAllowedError):
        operate.instance_detail(review, _start(review), user(review, "ent_chengxi"))


def test_detail_shows_the_path_tasks_data_and_audit(review: Session) -> None:
    instance_id = _start(review)
    _submit(review, instance_id)
    detail = operate.instance_detail(review, instance_id, user(review, "owner"))

    path_ids = [step["id"] for step in detail["path"]]
    assert path_ids[:3] == ["start", "submit_application", "prepare_review"]
    assert detail["path"][1]["name"] == "提交申请" and detail["path"][1]["kind"] == "用户任务"
    assert all(step["at"] is not None for step in detail["path"])
    assert {"start", "submit_application", "prepare_review"} <= set(detail["completed_ids"])
    assert "review_application" in detail["active_ids"]
    assert "review_application" not in detail["completed_ids"]
    assert detail["errored_ids"] == []
    assert [(t["bpmn_id"], t["state"]) for t in detail["tasks"]] == [
        ("submit_application", "completed"),
        ("review_application", "ready"),
    ]
    assert detail["tasks"][0]["completed_by"] == "上海澄溪示例食品有限公司"
    assert detail["data"]["claim"] == "请求修复" and detail["data"]["department"] == "samr"
    assert detail["data"]["instance_id"] == instance_id
    actions = [e["action"] for e in detail["audit"]]
    assert actions[:2] == ["instance.started", "task.completed"]
    assert '<bpmn:userTask id="review_application"' in detail["diagram_xml"]
    assert detail["can_suspend"] and detail["can_terminate"] and not detail["can_resume"]
    assert not detail["can_retry"] and not detail["can_migrate"]


def test_detail_of_an_incident_and_retry_after_the_fix(
    review: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing service task is an errored element; once the service works, retry carries on."""
    outage = {"down": True}

    def flaky(ctx: handlers.HandlerContext, params: dict[str, object]) -> object:
        if outage["down"]:
            raise ConnectionError("平台接口暂时不可用")
        return params

    monkeypatch.setitem(handlers.HANDLERS, "test.flaky_notify", flaky)
    deploy_test_bundle(
        review, "review_case", **{"review_case.bpmn": 'id="system.echo"=>id="test.flaky_notify"'}
    )
    owner = user(review, "owner")
    instance_id = _start(review)
    _submit(review, instance_id)
    review_task = only_task(review, instance_id, "review_application")
    with pytest.raises(host.ProcessIncidentError):
        tasks.complete(review, review_task.id, {"decision": "approve"}, user(review, "rev_samr"))
    review.commit()

    detail = operate.instance_detail(review, instance_id, owner)
    assert detail["instance"].status == "error" and detail["can_retry"]
    assert detail["errored_ids"] == ["notify_platform"]
    (incident,) = detail["open_incidents"]
    assert incident["element_name"] == "通知平台" and "平台接口暂时不可用" in incident["message"]
    assert "review_application" in detail["active_ids"]  # the failed step was rolled back

    outage["down"] = False
    operations.retry(review, instance_id, owner)
    review.commit()
    detail = operate.instance_detail(review, instance_id, owner)
    assert detail["instance"].status == "running" and detail["open_incidents"] == []
    assert detail["errored_ids"] == [] and "notify_platform" in detail["completed_ids"]
    assert "wait_confirmation" in detail["active_ids"]
    assert [e["action"] for e in detail["audit"]][-3:] == [
        "instance.incident",
        "task.completed",  # the reviewer's completion, re-run by the retry
        "instance.retried",
    ]
    assert detail["tasks"][-1]["completed_by"] == user(review, "rev_samr").display_name


def test_dry_run_and_run_migration_report_each_instance(review: Session) -> None:
    owner = user(review, "owner")
    early = _start(review)
    submitted = _start(review)
    _submit(review, submitted)  # submit_application completed: renaming it blocks the move
    deploy_test_bundle(
        review, "review_case", **{"review_case.bpmn": 'name="提交申请"=>name="提交修复申请"'}
    )
    deploy_test_bundle(review, "loop_counter")
    other = instances.start_instance(
        review, "loop_counter", {"counter": 0, "limit": 1}, user(review, "rev_samr")
    ).id
    review.commit()

    candidates = [
        row.instance.id for row in operate.migration_candidates(review, "review_case", owner)
    ]
    assert candidates == [submitted, early]
    ids = [early, submitted, other, 999_999]
    reports = {
        r["instance_id"]: r for r in operate.dry_run_many(review, "review_case", ids, 2, owner)
    }
    assert reports[early]["allowed"] and reports[early]["to_version"] == 2
    assert (
        not reports[submitted]["allowed"] and "submit_application" in reports[submitted]["reason"]
    )
    assert "loop_counter" in reports[other]["reason"]
    assert reports[999_999]["reason"] == "流程实例不存在。"
    assert review.get(ProcessInstance, early).version.version == 1  # nothing moved

    results = operate.run_migration(review, "review_case", ids, 2, owner)
    review.commit()
    outcome = {r["instance_id"]: r["outcome"] for r in results}
    assert outcome == {
        early: "migrated",
        submitted: "refused",
        other: "refused",
        999_999: "refused",
    }
    review.expire_all()
    assert review.get(ProcessInstance, early).version.version == 2
    assert review.get(ProcessInstance, submitted).version.version == 1
    assert review.get(ProcessInstance, other).process_key == "loop_counter"
    batch = review.scalar(
        select(AuditEvent).where(AuditEvent.action == "studio.instances_migrated")
    )
    assert batch.object_id == "review_case" and batch.actor_name == "owner"
    assert batch.details == {
        "to_version": 2,
        "migrated": [early],
        "refused": [submitted, 999_999, other],
    }


def test_migration_input_is_checked(review: Session) -> None:
    assert operate.parse_ids(["3", "4,5", " 6 ，7", "3"]) == [3, 4, 5, 6, 7]
    with pytest.raises(InvalidInputError) as info:
        operate.parse_ids(["3", "x"])
    assert list(info.value.fields) == ["ids"]
    for bad in ("", "abc", "7"):
        with pytest.raises(InvalidInputError) as info:
            operate.parse_target(review, "review_case", bad)
        assert list(info.value.fields) == ["target"]
    assert operate.parse_target(review, "review_case", "1") == 1
    with pytest.raises(InvalidInputError):
        operate.run_migration(review, "review_case", [], 1, user(review, "owner"))


def test_unreadable_state_is_reported_not_raised(review: Session) -> None:
    instance_id = _start(review)
    instance = review.get(ProcessInstance, instance_id)
    instance.state = '{"not": "a workflow"}'
    review.commit()
    detail = operate.instance_detail(review, instance_id, user(review, "admin"))
    assert "无法读取" in detail["state_problem"] and detail["path"] == []
    assert [t["bpmn_id"] for t in detail["tasks"]] == ["submit_application"]  # from the tables
