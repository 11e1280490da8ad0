"""The OpenAPI 3.1 document of /api/v1 (`GET /api/v1/openapi.json`) and its page (`/api/docs`).

The document is written here as data, next to the code it describes. tests/api/test_openapi.py
keeps the two honest: every route of the app is in the document and every path of the document
is a route, the document validates against the OpenAPI 3.1 schema, and the responses of every
endpoint conform to it (schemathesis generates requests from it as well).
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template
from werkzeug.wrappers import Response

from app.api import bp
from app.api.pagination import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from app.models import InstanceStatus
from app.models.credit_record import RecordStatus, RecordType, Severity

docs_bp = Blueprint("api_docs", __name__)

API_VERSION = "1.0.0"
MAX_IMPORT_ROWS = 500
INT32_MAX = 2_147_483_647

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def _str(**extra: Any) -> Schema:
    return {"type": "string", **extra}


def _obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """A closed object: every listed property, `required` ones always present."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
        "additionalProperties": False,
    }


def _page_of(item: str) -> Schema:
    return _obj(
        {
            "items": {"type": "array", "items": _ref(item)},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        }
    )


DATE_TIME = _str(format="date-time")
DATE = _str(format="date")
NULL_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
NULL_DATE = {"type": ["string", "null"], "format": "date"}
NULL_STR = {"type": ["string", "null"]}
NULL_INT = {"type": ["integer", "null"]}
SHA256 = _str(pattern="^[0-9a-f]{64}$")
ANY_OBJECT: Schema = {"type": "object"}

TASK_PROPS: dict[str, Schema] = {
    "id": _str(),
    "instance_id": {"type": "integer"},
    "process_key": _str(),
    "bpmn_id": _str(),
    "name": _str(),
    "lane": NULL_STR,
    "state": _str(enum=["ready", "completed", "cancelled"]),
    "department": {**NULL_INT, "description": "承办部门 id。"},
    "assignee": {**NULL_INT, "description": "认领人用户 id。"},
    "due_at": NULL_DATE_TIME,
    "created_at": DATE_TIME,
    "completed_at": NULL_DATE_TIME,
}

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "description": "所有错误的统一格式。`details.fields` 按字段列出校验错误（422）。",
        **_obj(
            {
                "error": _obj(
                    {
                        "code": _str(
                            description="机器可读的错误码，如 bad_request、unauthorized、"
                            "forbidden、not_found、conflict、too_large、unsupported_type、"
                            "validation_failed、rate_limited。",
                            examples=["validation_failed"],
                        ),
                        "message": _str(minLength=1, description="给人看的中文说明。"),
                        "details": {
                            "type": "object",
                            "properties": {
                                "fields": {
                                    "type": "object",
                                    "additionalProperties": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                    },
                                    "description": "字段名 → 错误说明列表（422）。",
                                },
                                "errors": {
                                    "type": "array",
                                    "items": _ref("Problem"),
                                    "description": "流程文件的问题列表（发布流程时的 422）。",
                                },
                                "blocking": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                    "description": "迁移被拒绝的原因（409）。",
                                },
                            },
                        },
                    }
                )
            }
        ),
    },
    "Problem": {
        "type": "object",
        "description": "流程文件中的一个问题。",
        "required": ["message"],
        "properties": {
            "file": NULL_STR,
            "line": NULL_INT,
            "element_id": NULL_STR,
            "message": _str(),
        },
    },
    "TokenRequest": _obj({"username": _str(minLength=1), "password": _str(minLength=1)}),
    "Token": _obj(
        {
            "token": _str(description="Bearer 令牌，仅此一次返回；服务器只保存其哈希。"),
            "expires_at": DATE_TIME,
        }
    ),
    "ProcessDefinition": _obj(
        {
            "key": _str(),
            "version": {"type": "integer", "minimum": 1},
            "name": _str(),
            "deployed_at": DATE_TIME,
            "sha256": SHA256,
        }
    ),
    "ProcessDefinitionPage": _page_of("ProcessDefinition"),
    "DeployUpload": {
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {
                "type": "array",
                "items": _str(contentMediaType="application/octet-stream"),
                "description": ".bpmn、.dmn 与表单 .json 文件（可多个）。",
            }
        },
    },
    "DeployResult": _obj(
        {
            "key": _str(),
            "version": {"type": "integer", "minimum": 1},
            "deployed": {
                "type": "array",
                "items": _obj(
                    {
                        "key": _str(),
                        "version": {"type": "integer", "minimum": 1},
                        "created": {"type": "boolean"},
                    }
                ),
            },
        }
    ),
    "StartInstance": {
        "type": "object",
        "required": ["process_key"],
        "properties": {
            "process_key": _str(minLength=1),
            "data": {"type": "object", "description": "流程启动数据。"},
            "subject_uscc": _str(description="审批人代企业发起时指定信用主体（企业用户忽略）。"),
        },
    },
    "InstanceSummary": _obj(
        {
            "id": {"type": "integer"},
            "process_key": _str(),
            "version": {"type": "integer"},
            "status": _str(enum=[s.value for s in InstanceStatus]),
            "created_at": DATE_TIME,
        }
    ),
    "InstancePage": _page_of("InstanceSummary"),
    "Incident": _obj(
        {
            "id": {"type": "integer"},
            "element_id": NULL_STR,
            "line": NULL_INT,
            "message": _str(),
            "created_at": DATE_TIME,
        }
    ),
    "HistoryEntry": _obj(
        {"at": DATE_TIME, "actor": _str(), "action": _str(), "details": ANY_OBJECT}
    ),
    "Instance": _obj(
        {
            "id": {"type": "integer"},
            "process_key": _str(),
            "version": {"type": "integer"},
            "status": _str(enum=[s.value for s in InstanceStatus]),
            "subject_uscc": NULL_STR,
            "created_at": DATE_TIME,
            "updated_at": DATE_TIME,
            "next_timer_due": NULL_DATE_TIME,
            "tasks": {"type": "array", "items": _ref("Task")},
            "incidents": {"type": "array", "items": _ref("Incident")},
            "history": {"type": "array", "items": _ref("HistoryEntry")},
            "documents": {"type": "array", "items": ANY_OBJECT},
        },
        {"attachments": {"type": "array", "items": _ref("Attachment")}},
    ),
    "Terminate": {
        "type": "object",
        "properties": {"reason": _str(description="终止原因（记入审计）。")},
    },
    "Attachment": _obj(
        {
            "id": {"type": "integer"},
            "sha256": SHA256,
            "size": {"type": "integer", "minimum": 1},
            "kind": _str(),
            "content_type": _str(enum=["application/pdf", "image/png", "image/jpeg"]),
            "name": _str(),
            "created_at": DATE_TIME,
        }
    ),
    "AttachmentUpload": {
        "type": "object",
        "required": ["file", "kind"],
        "properties": {
            "file": _str(contentMediaType="application/octet-stream"),
            "kind": _str(minLength=1, maxLength=64, description="材料类型，如 license。"),
        },
    },
    "MigrationReport": _obj(
        {
            "instance_id": {"type": "integer"},
            "process_key": _str(),
            "from_version": {"type": "integer"},
            "to_version": {"type": "integer"},
            "allowed": {"type": "boolean"},
            "added": {"type": "array", "items": _str()},
            "removed": {"type": "array", "items": _str()},
            "changed": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": _str()},
            },
            "blocking": {"type": "array", "items": _str()},
        },
        {"migrated": {"type": "boolean"}},
    ),
    "Migrate": {
        "type": "object",
        "properties": {
            "to": {
                "oneOf": [{"type": "integer", "minimum": 1}, _str(pattern="^[0-9]*$")],
                "description": "目标版本号；缺省为最新版本。",
            }
        },
    },
    "Task": _obj(TASK_PROPS),
    "TaskPage": _page_of("Task"),
    "TaskDetail": _obj(
        {
            **TASK_PROPS,
            "form": {
                "type": ["object", "null"],
                "description": "任务表单（JSON Schema），无表单时为 null。",
            },
            "instructions": NULL_STR,
            "data": {"type": "object", "description": "该任务可见的流程数据。"},
            "instance": {"oneOf": [_ref("Instance"), {"type": "null"}]},
        }
    ),
    "CompleteTask": {
        "type": "object",
        "properties": {"data": {"type": "object", "description": "表单数据，按任务表单校验。"}},
    },
    "CompleteResult": _obj(
        {"instance": _ref("Instance"), "next_tasks": {"type": "array", "items": _ref("Task")}}
    ),
    "Message": {
        "type": "object",
        "required": ["name", "message_id"],
        "properties": {
            "name": _str(minLength=1, description="BPMN 消息名，如 dept_confirmation。"),
            "message_id": _str(
                minLength=1, maxLength=64, description="幂等键：重复发送返回相同结果。"
            ),
            "correlation": {"type": "object", "description": '关联值，如 {"case_id": 1}。'},
            "payload": {"type": "object", "description": "写入等待实例的数据。"},
        },
    },
    "MessageResult": _obj({"delivered_to": {"type": "array", "items": {"type": "integer"}}}),
    "CreditRecord": _obj(
        {
            "id": {"type": "integer"},
            "type": _str(enum=[t.value for t in RecordType]),
            "severity": {"type": ["string", "null"], "enum": [s.value for s in Severity] + [None]},
            "decision_no": _str(),
            "department": _str(description="认定部门代码。"),
            "authority": NULL_STR,
            "violation": NULL_STR,
            "decided_on": DATE,
            "published_on": NULL_DATE,
            "public_until": NULL_DATE,
            "repairable": {"type": "boolean"},
            "repairable_from": NULL_DATE,
            "rule_set": NULL_STR,
            "status": _str(enum=[s.value for s in RecordStatus]),
        }
    ),
    "CreditRecordPage": _page_of("CreditRecord"),
    "RecordRow": {
        "type": "object",
        "description": "一条待导入的信用记录；按（uscc, decision_no）幂等。",
        "required": [
            "uscc",
            "subject_name",
            "record_type",
            "decision_no",
            "department",
            "decided_on",
        ],
        "properties": {
            "uscc": _str(description="统一社会信用代码（18 位，校验位须正确）。"),
            "subject_name": _str(description="主体名称；USCC 未登记时据此新建主体。"),
            "record_type": _str(enum=[t.value for t in RecordType]),
            "severity": _str(enum=[s.value for s in Severity]),
            "decision_no": _str(description="决定书文号。"),
            "department": _str(description="认定部门代码。"),
            "decided_on": DATE,
            "published_on": DATE,
            "violation": _str(),
            "facts": _str(),
            "legal_basis": _str(),
            "penalty_types": {"type": "array", "items": _str()},
            "fine_yuan": {"type": ["string", "number"], "description": "罚款金额（元）。"},
            "authority": _str(),
            "platform": _str(description="来源平台。"),
        },
    },
    "RecordImport": {
        "type": "object",
        "required": ["records"],
        "properties": {
            "records": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_IMPORT_ROWS,
                "items": _ref("RecordRow"),
                "description": f"1–{MAX_IMPORT_ROWS} 条；超过 {MAX_IMPORT_ROWS} 条返回 413。",
            }
        },
    },
    "RecordImportResult": _obj(
        {
            "results": {
                "type": "array",
                "items": _obj(
                    {
                        "index": {"type": "integer", "minimum": 0},
                        "decision_no": NULL_STR,
                        "uscc": NULL_STR,
                        "result": _str(enum=["created", "unchanged", "updated", "rejected"]),
                        "record_id": NULL_INT,
                        "errors": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": _str()},
                        },
                    }
                ),
            },
            "summary": _obj(
                {
                    k: {"type": "integer", "minimum": 0}
                    for k in ("created", "unchanged", "updated", "rejected")
                }
            ),
        }
    ),
    "Verification": _obj(
        {
            "valid": {"type": "boolean"},
            "serial": _str(),
            "kind": _str(),
            "title": _str(),
            "status": _str(),
            "issued_at": DATE_TIME,
            "sha256": SHA256,
            "revoked": {"type": "boolean"},
            "superseded": {"type": "boolean"},
            "superseded_by": NULL_STR,
            "subject_name_masked": _str(),
        }
    ),
    "VerificationNotFound": _obj(
        {"valid": {"const": False}, "serial": _str(), "found": {"const": False}}
    ),
}

# Error responses, by status.
ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "请求格式错误（如请求体不是 JSON 对象）。"),
    401: ("Unauthorized", "缺少、无效、过期或已撤销的访问令牌。"),
    403: ("Forbidden", "当前账号的角色或集成令牌的权限范围（scope）不允许此操作。"),
    404: ("NotFound", "对象不存在，或调用者无权知道它存在。"),
    409: ("Conflict", "状态已变化：任务已不可办理、已被他人认领、版本冲突等。"),
    413: ("TooLarge", "请求体或上传文件过大。"),
    415: ("UnsupportedType", "不支持的文件类型（按文件内容识别）。"),
    422: ("ValidationFailed", "校验失败；`details.fields` 按字段列出原因。"),
    429: ("RateLimited", "请求过于频繁，请稍后再试。"),
}


def _error_responses() -> dict[str, Any]:
    return {
        name: {
            "description": text,
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for name, text in ERRORS.values()
    }


def _ok(description: str, schema: Schema) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _json_body(schema: Schema, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _param(name: str, where: str, schema: Schema, description: str = "", **extra: Any) -> Schema:
    param = {"name": name, "in": where, "schema": schema, **extra}
    if where == "path":
        param["required"] = True
    if description:
        param["description"] = description
    return param


INSTANCE_ID = _param(
    "instance_id",
    "path",
    {"type": "integer", "minimum": 0, "maximum": INT32_MAX, "examples": [1]},
    "流程实例 id。",
)
TASK_ID = _param(
    "task_id",
    "path",
    _str(minLength=1, maxLength=64, pattern="^[A-Za-z0-9-]+$"),
    "任务 id（UUID）。",
)
SERIAL = _param(
    "serial", "path", _str(minLength=1, maxLength=128, pattern="^[^/?#%]+$"), "文书编号。"
)
USCC = _param(
    "uscc", "path", _str(minLength=1, maxLength=64, pattern="^[^/?#%]+$"), "统一社会信用代码。"
)
PAGING = [{"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/per_page"}]

SCOPES = {
    "records:import": "POST /records",
    "messages:send": "POST /messages",
    "read": "GET /process-definitions、GET /subjects/{uscc}/records",
}


def _operation(
    operation_id: str,
    tag: str,
    summary: str,
    description: str,
    ok: dict[str, dict[str, Any]],
    errors: tuple[int, ...],
    *,
    public: bool = False,
    scope: str | None = None,
    parameters: list[Schema] | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    statuses = set(errors) if public else {401, 403, *errors}
    if scope:
        description += f"\n\n集成令牌：需要权限范围 `{scope}`。"
    elif not public:
        description += "\n\n集成令牌：不可调用（403）。"
    op: dict[str, Any] = {
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        "description": description.strip(),
        "responses": {
            **ok,
            **{
                str(code): {"$ref": f"#/components/responses/{ERRORS[code][0]}"}
                for code in sorted(statuses)
            },
        },
    }
    if public:
        op["security"] = []
    if scope:
        op["x-scopes"] = [scope]
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = body
    return op


MULTIPART = "multipart/form-data"


def _paths() -> dict[str, Any]:
    instance_ops = {
        "suspend": ("挂起流程实例", "暂停计时器与办理，直至恢复。"),
        "resume": ("恢复流程实例", "恢复一个已挂起的实例。"),
        "terminate": ("终止流程实例", "终止实例并取消其待办任务；可附 `reason`。"),
        "retry": ("重试出错的流程实例", "重试实例的未决事故（incident）。"),
    }
    paths: dict[str, Any] = {
        "/auth/token": {
            "post": _operation(
                "createToken",
                "认证",
                "以用户名和密码换取访问令牌",
                "返回个人令牌（有效期由 API_TOKEN_TTL_HOURS 决定）；用户名或密码错误为 401，"
                "频繁失败为 429。集成令牌在管理后台签发。",
                {"200": _ok("令牌。", _ref("Token"))},
                (400, 401, 413, 422, 429),
                public=True,
                body=_json_body(_ref("TokenRequest")),
            )
        },
        "/openapi.json": {
            "get": _operation(
                "getOpenApi",
                "文档",
                "本接口的 OpenAPI 3.1 文档",
                "即本文档。携带集成令牌调用时，该令牌须有 `read` 权限范围（否则 403）。",
                {"200": _ok("OpenAPI 文档。", ANY_OBJECT)},
                (403,),
                public=True,
            )
        },
        "/process-definitions": {
            "get": _operation(
                "listProcessDefinitions",
                "流程定义",
                "已发布的流程定义",
                "每个流程的最新版本；`all=1` 列出全部版本。任何已登录用户可调用。",
                {"200": _ok("分页列表。", _ref("ProcessDefinitionPage"))},
                (422,),
                scope="read",
                parameters=[
                    _param(
                        "all", "query", _str(enum=["0", "1", "true", "false"]), "列出全部版本。"
                    ),
                    _param("key", "query", _str(maxLength=64), "只看此流程标识。"),
                    *PAGING,
                ],
            ),
            "post": _operation(
                "deployProcessDefinitions",
                "流程定义",
                "发布流程定义",
                "上传 .bpmn、.dmn 与表单 .json（multipart 字段 `files`）。有新版本时 201，"
                "内容与已发布版本完全相同时 200；未通过校验时 422，问题列表在 "
                "`details.errors`（file、line、element_id、message）。流程负责人与管理员可调用。",
                {
                    "201": _ok("已发布新版本。", _ref("DeployResult")),
                    "200": _ok("内容未变，未产生新版本。", _ref("DeployResult")),
                },
                (400, 413, 422),
                body={"required": True, "content": {MULTIPART: {"schema": _ref("DeployUpload")}}},
            ),
        },
        "/process-instances": {
            "get": _operation(
                "listProcessInstances",
                "流程实例",
                "可见的流程实例",
                "按权限限定：企业只见本企业的，审批人见本部门承办或参与的，流程负责人与管理员见全部。",
                {"200": _ok("分页列表，新建的在前。", _ref("InstancePage"))},
                (422,),
                parameters=[
                    _param("status", "query", _str(enum=[s.value for s in InstanceStatus])),
                    _param("process_key", "query", _str(maxLength=64)),
                    _param("subject_uscc", "query", _str(maxLength=18)),
                    *PAGING,
                ],
            ),
            "post": _operation(
                "startProcessInstance",
                "流程实例",
                "发起流程",
                "企业为本企业发起；审批人与管理员可用 `subject_uscc` 指定主体。",
                {"201": _ok("新实例。", _ref("Instance"))},
                (400, 404, 409, 413, 422),
                body=_json_body(_ref("StartInstance")),
            ),
        },
        "/process-instances/{instance_id}": {
            "get": _operation(
                "getProcessInstance",
                "流程实例",
                "流程实例详情",
                "含任务、未决事故、审计历史、文书与材料。参与者、流程负责人与管理员可见；"
                "无权查看时与不存在一样返回 404。",
                {"200": _ok("实例。", _ref("Instance"))},
                (404,),
                parameters=[INSTANCE_ID],
            )
        },
        "/process-instances/{instance_id}/attachments": {
            "post": _operation(
                "uploadAttachment",
                "流程实例",
                "上传材料",
                "multipart 字段 `file`（PDF、PNG、JPEG，按内容识别）与 `kind`。参与者可调用。",
                {"201": _ok("已保存的材料。", _ref("Attachment"))},
                (403, 404, 413, 415, 422),
                parameters=[INSTANCE_ID],
                body={
                    "required": True,
                    "content": {MULTIPART: {"schema": _ref("AttachmentUpload")}},
                },
            )
        },
        "/process-instances/{instance_id}/migration": {
            "get": _operation(
                "dryRunMigration",
                "流程实例",
                "迁移预演",
                "迁移到 `to` 版本（缺省最新）会改变什么；不保存任何内容。"
                "流程负责人与管理员可调用。",
                {"200": _ok("迁移报告。", _ref("MigrationReport"))},
                (404, 422),
                parameters=[
                    INSTANCE_ID,
                    _param("to", "query", {"type": "integer", "minimum": 1, "maximum": INT32_MAX}),
                ],
            )
        },
        "/process-instances/{instance_id}/migrate": {
            "post": _operation(
                "migrateInstance",
                "流程实例",
                "迁移流程实例",
                "迁移到 `to` 版本（缺省最新）；不安全时 409，原因在 `details.blocking`。",
                {"200": _ok("迁移报告（migrated=true）。", _ref("MigrationReport"))},
                (400, 404, 409, 413, 422),
                parameters=[INSTANCE_ID],
                body=_json_body(_ref("Migrate"), required=False),
            )
        },
        "/tasks": {
            "get": _operation(
                "listTasks",
                "任务",
                "待办与已办任务",
                "`scope`：mine（我认领的/我办理的）、candidate（我可认领的，缺省）、all（我可见的）；"
                "`state`：ready（缺省）或 completed。按期限先后排序，无期限的在后。",
                {"200": _ok("分页列表。", _ref("TaskPage"))},
                (422,),
                parameters=[
                    _param("scope", "query", _str(enum=["mine", "candidate", "all"])),
                    _param("state", "query", _str(enum=["ready", "completed"])),
                    _param("process_key", "query", _str(maxLength=64)),
                    _param(
                        "due_before",
                        "query",
                        {
                            "anyOf": [DATE, DATE_TIME],
                            "examples": ["2026-11-20", "2026-11-20T09:00:00+08:00"],
                        },
                        "只看期限早于此时刻的任务；日期指当地零点，无时区的时间按当地时间。",
                    ),
                    *PAGING,
                ],
            )
        },
        "/tasks/{task_id}": {
            "get": _operation(
                "getTask",
                "任务",
                "任务详情",
                "任务本身、表单（JSON Schema）、办理说明与该任务可见的数据。候选人与认领人可见。",
                {"200": _ok("任务。", _ref("TaskDetail"))},
                (404,),
                parameters=[TASK_ID],
            )
        },
        "/tasks/{task_id}/claim": {
            "post": _operation(
                "claimTask",
                "任务",
                "认领任务",
                "候选人认领；已被他人认领或已不可办理时 409。",
                {"200": _ok("任务。", _ref("Task"))},
                (404, 409),
                parameters=[TASK_ID],
            )
        },
        "/tasks/{task_id}/unclaim": {
            "post": _operation(
                "unclaimTask",
                "任务",
                "退回认领",
                "认领人退回任务，使其重新可被认领。",
                {"200": _ok("任务。", _ref("Task"))},
                (404, 409),
                parameters=[TASK_ID],
            )
        },
        "/tasks/{task_id}/complete": {
            "post": _operation(
                "completeTask",
                "任务",
                "办理任务",
                '提交 `{"data": {...}}`；任务已不可办理时 409，数据未通过表单校验时 422。',
                {"200": _ok("实例与新产生的任务。", _ref("CompleteResult"))},
                (400, 404, 409, 413, 422),
                parameters=[TASK_ID],
                body=_json_body(_ref("CompleteTask")),
            )
        },
        "/messages": {
            "post": _operation(
                "sendMessage",
                "集成",
                "向等待中的流程发送消息",
                "按 `name` 与 `correlation` 投递给等待的实例（或由消息启动新实例），202；"
                "重复的 `message_id` 不再投递，返回相同结果；无实例等待时 404。"
                "审批人、管理员可调用。",
                {"202": _ok("已投递。", _ref("MessageResult"))},
                (400, 404, 409, 413, 422),
                scope="messages:send",
                body=_json_body(_ref("Message")),
            )
        },
        "/records": {
            "post": _operation(
                "importRecords",
                "集成",
                "批量导入信用记录",
                f"每批 1–{MAX_IMPORT_ROWS} 条，逐条答复 created、unchanged、updated 或 rejected。"
                "按（uscc, decision_no）幂等：内容相同为 unchanged，不写入；尚未进入流程的记录内容"
                "不同为 updated；异议或修复中的记录为 rejected。USCC 未登记（校验位正确）时按 "
                "subject_name 新建主体。无效的 USCC、日期或类型只拒绝该条，其余照常处理。"
                f"超过 {MAX_IMPORT_ROWS} 条为 413。管理员可调用。",
                {"200": _ok("逐条结果与汇总。", _ref("RecordImportResult"))},
                (400, 413, 415, 422),
                scope="records:import",
                body=_json_body(_ref("RecordImport")),
            )
        },
        "/subjects/{uscc}/records": {
            "get": _operation(
                "listSubjectRecords",
                "信用记录",
                "信用主体的信用记录",
                "企业本身、审批人与管理员可见；他人查询与不存在一样返回 404。按决定日期新的在前。",
                {"200": _ok("分页列表。", _ref("CreditRecordPage"))},
                (404, 422),
                scope="read",
                parameters=[
                    USCC,
                    _param("status", "query", _str(enum=[s.value for s in RecordStatus])),
                    _param("record_type", "query", _str(enum=[t.value for t in RecordType])),
                    *PAGING,
                ],
            )
        },
        "/documents/{serial}": {
            "get": _operation(
                "downloadDocument",
                "文书",
                "下载已出具的文书（PDF）",
                "该主体的企业用户、办件参与者、流程负责人与管理员可下载；其他人 404。",
                {
                    "200": {
                        "description": "签章 PDF。",
                        "content": {
                            "application/pdf": {"schema": _str(contentMediaType="application/pdf")}
                        },
                    }
                },
                (404,),
                parameters=[SERIAL],
            )
        },
        "/verify/{serial}": {
            "get": _operation(
                "verifyDocument",
                "文书",
                "核验文书编号",
                "公开，无需令牌。未知编号返回 404 与 `{valid: false, found: false}`。"
                "携带集成令牌调用时，该令牌须有 `read` 权限范围（否则 403）。",
                {
                    "200": _ok("文书状态。", _ref("Verification")),
                    "404": _ok("编号不存在。", _ref("VerificationNotFound")),
                },
                (403,),
                public=True,
                parameters=[SERIAL],
            )
        },
    }
    for op, (summary, text) in instance_ops.items():
        paths[f"/process-instances/{{instance_id}}/{op}"] = {
            "post": _operation(
                f"{op}ProcessInstance",
                "流程实例",
                summary,
                text + "流程负责人与管理员可调用；状态不允许时 409。",
                {"200": _ok("实例。", _ref("Instance"))},
                (404, 409, 413),
                parameters=[INSTANCE_ID],
                body=_json_body(_ref("Terminate"), required=False) if op == "terminate" else None,
            )
        }
    return dict(sorted(paths.items()))


@cache
def _document() -> dict[str, Any]:
    scope_lines = "\n".join(f"- `{s}`：{what}" for s, what in SCOPES.items())
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "CreditFlow 信用承诺与修复流程服务 API",
            "version": API_VERSION,
            "description": (
                "除获取令牌、核验文书与本文档外，每个请求都须携带 "
                "`Authorization: Bearer <令牌>`。\n\n"
                "令牌分两种：个人令牌（`POST /auth/token` 获取）以其用户的身份与角色调用；"
                "集成令牌（管理后台签发，供公共信用平台等系统使用）只能在其权限范围内调用：\n"
                f"{scope_lines}\n\n"
                '错误统一为 `{"error": {"code", "message", "details"}}`。'
                '列表统一为 `{"items", "total", "page", "per_page"}`，'
                f"`per_page` 不超过 {MAX_PER_PAGE}。时间为带时区的 ISO 8601。"
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": n}
            for n in ("认证", "流程定义", "流程实例", "任务", "信用记录", "文书", "集成", "文档")
        ],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "个人令牌或集成令牌。",
                }
            },
            "parameters": {
                "page": _param(
                    "page",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                    "页码，从 1 开始。",
                ),
                "per_page": _param(
                    "per_page",
                    "query",
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_PER_PAGE,
                        "default": DEFAULT_PER_PAGE,
                    },
                    "每页条数。",
                ),
            },
            "responses": _error_responses(),
            "schemas": SCHEMAS,
        },
    }


def openapi_document() -> dict[str, Any]:
    """A fresh copy of the document (callers may change theirs)."""
    return copy.deepcopy(_document())


def operations() -> list[dict[str, Any]]:
    """(method, path, summary, statuses, …) of every operation, for the page without JavaScript."""
    doc = _document()
    rows = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            rows.append(
                {
                    "method": method.upper(),
                    "path": doc["servers"][0]["url"] + path,
                    "summary": op["summary"],
                    "description": op["description"],
                    "tag": op["tags"][0],
                    "public": op.get("security") == [],
                    "scopes": op.get("x-scopes", []),
                    "statuses": sorted(op["responses"]),
                }
            )
    return rows


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 document of this API (public)."""
    return jsonify(_document())


def swagger_bundle_built() -> bool:
    """True when `assets/apidocs.mjs` copied Swagger UI into app/static/dist/apidocs/."""
    folder = Path(current_app.static_folder or "") / "dist" / "apidocs"
    return (folder / "swagger-ui-bundle.js").is_file() and (folder / "swagger-ui.css").is_file()


@docs_bp.get("/api/docs")
def docs_page() -> str:
    """Swagger UI when its bundle is built, and always the server-rendered list of operations."""
    return render_template(
        "api/docs.html",
        operations=operations(),
        info=_document()["info"],
        has_bundle=swagger_bundle_built(),
    )
