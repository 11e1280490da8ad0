"""The OpenAPI 3.1 document of /api/v1 (`GET /api/v1/openapi.json`) and its page (`/api/docs`).

The document is written here as data, next to the code it describes. tests/api/test_openapi.py
keeps the two honest: every route of the app is in the document and every path of the document
is a route, the document validates against the OpenAPI 3.1 schema, and the responses of every
endpoint conform to it (schemathesis generates requests from it as well).

Every human-readable text (titles, summaries, descriptions, tag names) is a lazy gettext string
(`_l`, Chinese msgid, English in app/translations). The data below stays lazy; `openapi_document`
resolves it in one locale (the request's, from app.i18n.select_locale: `?lang=`, the session,
the signed-in user; Chinese by default) and caches one resolved document per locale.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, has_app_context, jsonify, render_template, url_for
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from werkzeug.wrappers import Response

from app.api import bp
from app.api.pagination import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
from app.models import InstanceStatus
from app.models.credit_record import RecordStatus, RecordType, Severity

docs_bp = Blueprint("api_docs", __name__)

API_VERSION = "1.0.0"
MAX_IMPORT_ROWS = 500
INT32_MAX = 2_147_483_647
DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")  # the values of `?lang=` (config BABEL_SUPPORTED_LOCALES)

Schema = dict[str, Any]
Text = str | LazyString


def _join(*parts: Text) -> LazyString:
    """Lazy concatenation: each part is translated when the document is resolved."""
    return LazyString(lambda: "".join(str(part) for part in parts))


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
    "department": {**NULL_INT, "description": _l("承办部门 id。")},
    "assignee": {**NULL_INT, "description": _l("认领人用户 id。")},
    "due_at": NULL_DATE_TIME,
    "created_at": DATE_TIME,
    "completed_at": NULL_DATE_TIME,
}

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "description": _l("所有错误的统一格式。`details.fields` 按字段列出校验错误（422）。"),
        **_obj(
            {
                "error": _obj(
                    {
                        "code": _str(
                            description=_l(
                                "机器可读的错误码，如 bad_request、unauthorized、forbidden、"
                                "not_found、conflict、too_large、unsupported_type、"
                                "validation_failed、rate_limited。"
                            ),
                            examples=["validation_failed"],
                        ),
                        "message": _str(
                            minLength=1,
                            description=_l("给人看的说明，使用请求的语言（缺省为中文）。"),
                        ),
                        "details": {
                            "type": "object",
                            "properties": {
                                "fields": {
                                    "type": "object",
                                    "additionalProperties": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                    },
                                    "description": _l("字段名 → 错误说明列表（422）。"),
                                },
                                "errors": {
                                    "type": "array",
                                    "items": _ref("Problem"),
                                    "description": _l("流程文件的问题列表（发布流程时的 422）。"),
                                },
                                "blocking": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                    "description": _l("迁移被拒绝的原因（409）。"),
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
        "description": _l("流程文件中的一个问题。"),
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
            "token": _str(description=_l("Bearer 令牌，仅此一次返回；服务器只保存其哈希。")),
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
                "description": _l(".bpmn、.dmn 与表单 .json 文件（可多个）。"),
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
            "data": {"type": "object", "description": _l("流程启动数据。")},
            "subject_uscc": _str(
                description=_l("审批人代企业发起时指定信用主体（企业用户忽略）。")
            ),
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
        "properties": {"reason": _str(description=_l("终止原因（记入审计）。"))},
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
            "kind": _str(minLength=1, maxLength=64, description=_l("材料类型，如 license。")),
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
                "description": _l("目标版本号；缺省为最新版本。"),
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
                "description": _l("任务表单（JSON Schema），无表单时为 null。"),
            },
            "instructions": NULL_STR,
            "data": {"type": "object", "description": _l("该任务可见的流程数据。")},
            "instance": {"oneOf": [_ref("Instance"), {"type": "null"}]},
        }
    ),
    "CompleteTask": {
        "type": "object",
        "properties": {"data": {"type": "object", "description": _l("表单数据，按任务表单校验。")}},
    },
    "CompleteResult": _obj(
        {"instance": _ref("Instance"), "next_tasks": {"type": "array", "items": _ref("Task")}}
    ),
    "Message": {
        "type": "object",
        "required": ["name", "message_id"],
        "properties": {
            "name": _str(minLength=1, description=_l("BPMN 消息名，如 dept_confirmation。")),
            "message_id": _str(
                minLength=1, maxLength=64, description=_l("幂等键：重复发送返回相同结果。")
            ),
            "correlation": {"type": "object", "description": _l('关联值，如 {"case_id": 1}。')},
            "payload": {"type": "object", "description": _l("写入等待实例的数据。")},
        },
    },
    "MessageResult": _obj({"delivered_to": {"type": "array", "items": {"type": "integer"}}}),
    "CreditRecord": _obj(
        {
            "id": {"type": "integer"},
            "type": _str(enum=[t.value for t in RecordType]),
            "severity": {"type": ["string", "null"], "enum": [s.value for s in Severity] + [None]},
            "decision_no": _str(),
            "department": _str(description=_l("认定部门代码。")),
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
        "description": _l("一条待导入的信用记录；按（uscc, decision_no）幂等。"),
        "required": [
            "uscc",
            "subject_name",
            "record_type",
            "decision_no",
            "department",
            "decided_on",
        ],
        "properties": {
            "uscc": _str(description=_l("统一社会信用代码（18 位，校验位须正确）。")),
            "subject_name": _str(description=_l("主体名称；USCC 未登记时据此新建主体。")),
            "record_type": _str(enum=[t.value for t in RecordType]),
            "severity": _str(enum=[s.value for s in Severity]),
            "decision_no": _str(description=_l("决定书文号。")),
            "department": _str(description=_l("认定部门代码。")),
            "decided_on": DATE,
            "published_on": DATE,
            "violation": _str(),
            "facts": _str(),
            "legal_basis": _str(),
            "penalty_types": {"type": "array", "items": _str()},
            "fine_yuan": {"type": ["string", "number"], "description": _l("罚款金额（元）。")},
            "authority": _str(),
            "platform": _str(description=_l("来源平台。")),
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
                "description": _l("1–%(max)s 条；超过 %(max)s 条返回 413。", max=MAX_IMPORT_ROWS),
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
ERRORS: dict[int, tuple[str, Text]] = {
    400: ("BadRequest", _l("请求格式错误（如请求体不是 JSON 对象）。")),
    401: ("Unauthorized", _l("缺少、无效、过期或已撤销的访问令牌。")),
    403: ("Forbidden", _l("当前账号的角色或集成令牌的权限范围（scope）不允许此操作。")),
    404: ("NotFound", _l("对象不存在，或调用者无权知道它存在。")),
    409: ("Conflict", _l("状态已变化：任务已不可办理、已被他人认领、版本冲突等。")),
    413: ("TooLarge", _l("请求体或上传文件过大。")),
    415: ("UnsupportedType", _l("不支持的文件类型（按文件内容识别）。")),
    422: ("ValidationFailed", _l("校验失败；`details.fields` 按字段列出原因。")),
    429: ("RateLimited", _l("请求过于频繁，请稍后再试。")),
}


def _error_responses() -> dict[str, Any]:
    return {
        name: {
            "description": text,
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for name, text in ERRORS.values()
    }


def _ok(description: Text, schema: Schema) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _json_body(schema: Schema, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _param(
    name: str, where: str, schema: Schema, description: Text | None = None, **extra: Any
) -> Schema:
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
    _l("流程实例 id。"),
)
TASK_ID = _param(
    "task_id",
    "path",
    _str(minLength=1, maxLength=64, pattern="^[A-Za-z0-9-]+$"),
    _l("任务 id（UUID）。"),
)
SERIAL = _param(
    "serial", "path", _str(minLength=1, maxLength=128, pattern="^[^/?#%]+$"), _l("文书编号。")
)
USCC = _param(
    "uscc",
    "path",
    _str(minLength=1, maxLength=64, pattern="^[^/?#%]+$"),
    _l("统一社会信用代码。"),
)
PAGING = [{"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/per_page"}]
LANG = _param(
    "lang",
    "query",
    _str(enum=list(LOCALES)),
    _l(
        "文档的语言：zh_CN 为中文，en 为英文。缺省时依次取浏览器会话中选过的语言、"
        "已登录用户的语言设置，否则为中文。"
    ),
)
FORM_LANG = _param(
    "lang",
    "query",
    _str(enum=list(LOCALES)),
    _l(
        "表单文字（标题、说明、选项名称）的语言，取自流程模型的翻译；字段名与选项值不变。"
        "缺省规则同 openapi.json 的 lang 参数。"
    ),
)

# Integration token scope → the operations it opens.
SCOPES = {
    "records:import": ("POST /records",),
    "messages:send": ("POST /messages",),
    "read": ("GET /process-definitions", "GET /subjects/{uscc}/records"),
}

# Tags: (name, description); operations name theirs with the same lazy string.
TAG_AUTH = _l("认证")
TAG_DEFINITIONS = _l("流程定义")
TAG_INSTANCES = _l("流程实例")
TAG_TASKS = _l("任务办理")
TAG_RECORDS = _l("信用记录")
TAG_DOCUMENTS = _l("文书")
TAG_INTEGRATION = _l("集成")
TAG_META = _l("文档")
TAGS: list[tuple[LazyString, LazyString]] = [
    (TAG_AUTH, _l("以用户名和密码换取个人令牌。")),
    (TAG_DEFINITIONS, _l("发布与查看流程定义（BPMN、DMN 与表单）。")),
    (TAG_INSTANCES, _l("发起、查看、迁移与运维流程实例，上传材料。")),
    (TAG_TASKS, _l("待办与已办任务：查看、认领、退回认领与办理。")),
    (TAG_RECORDS, _l("信用主体的信用记录。")),
    (TAG_DOCUMENTS, _l("下载与核验已出具的文书。")),
    (TAG_INTEGRATION, _l("供公共信用平台等外部系统调用：发送消息、导入信用记录。")),
    (TAG_META, _l("本接口的 OpenAPI 文档。")),
]


def _operation(
    operation_id: str,
    tag: LazyString,
    summary: Text,
    description: Text,
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
        description = _join(
            description, "\n\n", _l("集成令牌：需要权限范围 `%(scope)s`。", scope=scope)
        )
    elif not public:
        description = _join(description, "\n\n", _l("集成令牌：不可调用（403）。"))
    op: dict[str, Any] = {
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        "description": description,
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
    instance_ops: dict[str, tuple[Text, Text]] = {
        "suspend": (
            _l("挂起流程实例"),
            _l("暂停计时器与办理，直至恢复。流程负责人与管理员可调用；状态不允许时 409。"),
        ),
        "resume": (
            _l("恢复流程实例"),
            _l("恢复一个已挂起的实例。流程负责人与管理员可调用；状态不允许时 409。"),
        ),
        "terminate": (
            _l("终止流程实例"),
            _l(
                "终止实例并取消其待办任务；可附 `reason`。"
                "流程负责人与管理员可调用；状态不允许时 409。"
            ),
        ),
        "retry": (
            _l("重试出错的流程实例"),
            _l("重试实例的未决事故（incident）。流程负责人与管理员可调用；状态不允许时 409。"),
        ),
    }
    paths: dict[str, Any] = {
        "/auth/token": {
            "post": _operation(
                "createToken",
                TAG_AUTH,
                _l("以用户名和密码换取访问令牌"),
                _l(
                    "返回个人令牌（有效期由 API_TOKEN_TTL_HOURS 决定）；用户名或密码错误为 401，"
                    "频繁失败为 429。集成令牌在管理后台签发。"
                ),
                {"200": _ok(_l("令牌。"), _ref("Token"))},
                (400, 401, 413, 422, 429),
                public=True,
                body=_json_body(_ref("TokenRequest")),
            )
        },
        "/openapi.json": {
            "get": _operation(
                "getOpenApi",
                TAG_META,
                _l("本接口的 OpenAPI 3.1 文档"),
                _l(
                    "即本文档，语言由 `lang` 参数选择（缺省为中文）。"
                    "携带集成令牌调用时，该令牌须有 `read` 权限范围（否则 403）。"
                ),
                {"200": _ok(_l("OpenAPI 文档。"), ANY_OBJECT)},
                (403,),
                public=True,
                parameters=[LANG],
            )
        },
        "/process-definitions": {
            "get": _operation(
                "listProcessDefinitions",
                TAG_DEFINITIONS,
                _l("已发布的流程定义"),
                _l("每个流程的最新版本；`all=1` 列出全部版本。任何已登录用户可调用。"),
                {"200": _ok(_l("分页列表。"), _ref("ProcessDefinitionPage"))},
                (422,),
                scope="read",
                parameters=[
                    _param(
                        "all",
                        "query",
                        _str(enum=["0", "1", "true", "false"]),
                        _l("列出全部版本。"),
                    ),
                    _param("key", "query", _str(maxLength=64), _l("只看此流程标识。")),
                    *PAGING,
                ],
            ),
            "post": _operation(
                "deployProcessDefinitions",
                TAG_DEFINITIONS,
                _l("发布流程定义"),
                _l(
                    "上传 .bpmn、.dmn 与表单 .json（multipart 字段 `files`）。有新版本时 201，"
                    "内容与已发布版本完全相同时 200；未通过校验时 422，问题列表在 "
                    "`details.errors`（file、line、element_id、message）。"
                    "流程负责人与管理员可调用。"
                ),
                {
                    "201": _ok(_l("已发布新版本。"), _ref("DeployResult")),
                    "200": _ok(_l("内容未变，未产生新版本。"), _ref("DeployResult")),
                },
                (400, 413, 422),
                body={"required": True, "content": {MULTIPART: {"schema": _ref("DeployUpload")}}},
            ),
        },
        "/process-instances": {
            "get": _operation(
                "listProcessInstances",
                TAG_INSTANCES,
                _l("可见的流程实例"),
                _l(
                    "按权限限定：企业只见本企业的，审批人见本部门承办或参与的，"
                    "流程负责人与管理员见全部。"
                ),
                {"200": _ok(_l("分页列表，新建的在前。"), _ref("InstancePage"))},
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
                TAG_INSTANCES,
                _l("发起流程"),
                _l("企业为本企业发起；审批人与管理员可用 `subject_uscc` 指定主体。"),
                {"201": _ok(_l("新实例。"), _ref("Instance"))},
                (400, 404, 409, 413, 422),
                body=_json_body(_ref("StartInstance")),
            ),
        },
        "/process-instances/{instance_id}": {
            "get": _operation(
                "getProcessInstance",
                TAG_INSTANCES,
                _l("流程实例详情"),
                _l(
                    "含任务、未决事故、审计历史、文书与材料。参与者、流程负责人与管理员可见；"
                    "无权查看时与不存在一样返回 404。"
                ),
                {"200": _ok(_l("实例。"), _ref("Instance"))},
                (404,),
                parameters=[INSTANCE_ID],
            )
        },
        "/process-instances/{instance_id}/attachments": {
            "post": _operation(
                "uploadAttachment",
                TAG_INSTANCES,
                _l("上传办件材料"),
                _l("multipart 字段 `file`（PDF、PNG、JPEG，按内容识别）与 `kind`。参与者可调用。"),
                {"201": _ok(_l("已保存的材料。"), _ref("Attachment"))},
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
                TAG_INSTANCES,
                _l("迁移预演"),
                _l(
                    "迁移到 `to` 版本（缺省最新）会改变什么；不保存任何内容。"
                    "流程负责人与管理员可调用。"
                ),
                {"200": _ok(_l("迁移报告。"), _ref("MigrationReport"))},
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
                TAG_INSTANCES,
                _l("迁移流程实例"),
                _l("迁移到 `to` 版本（缺省最新）；不安全时 409，原因在 `details.blocking`。"),
                {"200": _ok(_l("迁移报告（migrated=true）。"), _ref("MigrationReport"))},
                (400, 404, 409, 413, 422),
                parameters=[INSTANCE_ID],
                body=_json_body(_ref("Migrate"), required=False),
            )
        },
        "/tasks": {
            "get": _operation(
                "listTasks",
                TAG_TASKS,
                _l("待办与已办任务"),
                _l(
                    "`scope`：mine（我认领的/我办理的）、candidate（我可认领的，缺省）、"
                    "all（我可见的）；`state`：ready（缺省）或 completed。"
                    "按期限先后排序，无期限的在后。"
                ),
                {"200": _ok(_l("分页列表。"), _ref("TaskPage"))},
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
                        _l("只看期限早于此时刻的任务；日期指当地零点，无时区的时间按当地时间。"),
                    ),
                    *PAGING,
                ],
            )
        },
        "/tasks/{task_id}": {
            "get": _operation(
                "getTask",
                TAG_TASKS,
                _l("任务详情"),
                _l(
                    "任务本身、表单（JSON Schema）、办理说明与该任务可见的数据。"
                    "候选人与认领人可见。"
                ),
                {"200": _ok(_l("任务。"), _ref("TaskDetail"))},
                (404,),
                parameters=[TASK_ID, FORM_LANG],
            )
        },
        "/tasks/{task_id}/claim": {
            "post": _operation(
                "claimTask",
                TAG_TASKS,
                _l("认领待办任务"),
                _l("候选人认领；已被他人认领或已不可办理时 409。"),
                {"200": _ok(_l("任务。"), _ref("Task"))},
                (404, 409),
                parameters=[TASK_ID],
            )
        },
        "/tasks/{task_id}/unclaim": {
            "post": _operation(
                "unclaimTask",
                TAG_TASKS,
                _l("退回认领"),
                _l("认领人退回任务，使其重新可被认领。"),
                {"200": _ok(_l("任务。"), _ref("Task"))},
                (404, 409),
                parameters=[TASK_ID],
            )
        },
        "/tasks/{task_id}/complete": {
            "post": _operation(
                "completeTask",
                TAG_TASKS,
                _l("完成任务"),
                _l('提交 `{"data": {...}}`；任务已不可办理时 409，数据未通过表单校验时 422。'),
                {"200": _ok(_l("实例与新产生的任务。"), _ref("CompleteResult"))},
                (400, 404, 409, 413, 422),
                parameters=[TASK_ID],
                body=_json_body(_ref("CompleteTask")),
            )
        },
        "/messages": {
            "post": _operation(
                "sendMessage",
                TAG_INTEGRATION,
                _l("向等待中的流程发送消息"),
                _l(
                    "按 `name` 与 `correlation` 投递给等待的实例（或由消息启动新实例），202；"
                    "重复的 `message_id` 不再投递，返回相同结果；无实例等待时 404。"
                    "审批人、管理员可调用。"
                ),
                {"202": _ok(_l("已投递。"), _ref("MessageResult"))},
                (400, 404, 409, 413, 422),
                scope="messages:send",
                body=_json_body(_ref("Message")),
            )
        },
        "/records": {
            "post": _operation(
                "importRecords",
                TAG_INTEGRATION,
                _l("批量导入信用记录"),
                _l(
                    "每批 1–%(max)s 条，逐条答复 created、unchanged、updated 或 rejected。"
                    "按（uscc, decision_no）幂等：内容相同为 unchanged，不写入；"
                    "尚未进入流程的记录内容不同为 updated；异议或修复中的记录为 rejected。"
                    "USCC 未登记（校验位正确）时按 subject_name 新建主体。"
                    "无效的 USCC、日期或类型只拒绝该条，其余照常处理。"
                    "超过 %(max)s 条为 413。管理员可调用。",
                    max=MAX_IMPORT_ROWS,
                ),
                {"200": _ok(_l("逐条结果与汇总。"), _ref("RecordImportResult"))},
                (400, 413, 415, 422),
                scope="records:import",
                body=_json_body(_ref("RecordImport")),
            )
        },
        "/subjects/{uscc}/records": {
            "get": _operation(
                "listSubjectRecords",
                TAG_RECORDS,
                _l("信用主体的信用记录"),
                _l(
                    "企业本身、审批人与管理员可见；他人查询与不存在一样返回 404。"
                    "按决定日期新的在前。"
                ),
                {"200": _ok(_l("分页列表。"), _ref("CreditRecordPage"))},
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
                TAG_DOCUMENTS,
                _l("下载已出具的文书（PDF）"),
                _l("该主体的企业用户、办件参与者、流程负责人与管理员可下载；其他人 404。"),
                {
                    "200": {
                        "description": _l("签章 PDF。"),
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
                TAG_DOCUMENTS,
                _l("核验文书编号"),
                _l(
                    "公开，无需令牌。未知编号返回 404 与 `{valid: false, found: false}`。"
                    "携带集成令牌调用时，该令牌须有 `read` 权限范围（否则 403）。"
                ),
                {
                    "200": _ok(_l("文书状态。"), _ref("Verification")),
                    "404": _ok(_l("编号不存在。"), _ref("VerificationNotFound")),
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
                TAG_INSTANCES,
                summary,
                text,
                {"200": _ok(_l("实例。"), _ref("Instance"))},
                (404, 409, 413),
                parameters=[INSTANCE_ID],
                body=_json_body(_ref("Terminate"), required=False) if op == "terminate" else None,
            )
        }
    return dict(sorted(paths.items()))


def _info_description() -> LazyString:
    scope_lines = "\n".join(
        f"- `{scope}` → " + ", ".join(f"`{op}`" for op in ops) for scope, ops in SCOPES.items()
    )
    return _join(
        _l("除获取令牌、核验文书与本文档外，每个请求都须携带 `Authorization: Bearer <令牌>`。"),
        "\n\n",
        _l(
            "令牌分两种：个人令牌（`POST /auth/token` 获取）以其用户的身份与角色调用；"
            "集成令牌（管理后台签发，供公共信用平台等系统使用）只能在其权限范围内调用："
        ),
        "\n",
        scope_lines,
        "\n\n",
        _l(
            '错误统一为 `{"error": {"code", "message", "details"}}`。'
            '列表统一为 `{"items", "total", "page", "per_page"}`，'
            "`per_page` 不超过 %(max_per_page)s。时间为带时区的 ISO 8601。",
            max_per_page=MAX_PER_PAGE,
        ),
        "\n\n",
        _l(
            "本文档默认为中文；`GET /openapi.json?lang=en` 给出英文版（`lang=zh_CN` 为中文），"
            "未指定 `lang` 时随浏览器会话中选过的语言或已登录用户的语言设置。"
        ),
    )


@cache
def _template() -> dict[str, Any]:
    """The document with its texts still lazy (built once; resolved per locale)."""
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": _l("CreditFlow 信用承诺与修复流程服务 API"),
            "version": API_VERSION,
            "description": _info_description(),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": _l("个人令牌或集成令牌。"),
                }
            },
            "parameters": {
                "page": _param(
                    "page",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                    _l("页码，从 1 开始。"),
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
                    _l("每页条数。"),
                ),
            },
            "responses": _error_responses(),
            "schemas": SCHEMAS,
        },
    }


def _resolve(node: Any) -> Any:
    """A copy of `node` with every lazy string translated in the current locale."""
    if isinstance(node, LazyString):
        return str(node)
    if isinstance(node, dict):
        return {key: _resolve(value) for key, value in node.items()}
    if isinstance(node, list | tuple):
        return [_resolve(value) for value in node]
    return node


@cache
def _document(locale: str) -> dict[str, Any]:
    with force_locale(locale):
        return _resolve(_template())


def document_locale(locale: str | None = None) -> str:
    """The locale the document is given in: `locale`, else the current one (Chinese outside
    an application context, where there are no translations)."""
    if not has_app_context():
        if locale not in (None, DEFAULT_LOCALE):
            raise RuntimeError("the OpenAPI document is translated in an application context")
        return DEFAULT_LOCALE
    chosen = locale or str(get_locale() or DEFAULT_LOCALE)
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def openapi_document(locale: str | None = None) -> dict[str, Any]:
    """A fresh copy of the document in `locale` (default: the request's; callers may change
    theirs)."""
    return copy.deepcopy(_document(document_locale(locale)))


def operations(locale: str | None = None) -> list[dict[str, Any]]:
    """(method, path, summary, statuses, …) of every operation, for the page without JavaScript."""
    doc = _document(document_locale(locale))
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
    """The OpenAPI 3.1 document of this API (public), in the request's language."""
    locale = document_locale()
    response = jsonify(_document(locale))
    response.headers["Content-Language"] = locale.replace("_", "-")
    return response


def swagger_bundle_built() -> bool:
    """True when `assets/apidocs.mjs` copied Swagger UI into app/static/dist/apidocs/."""
    folder = Path(current_app.static_folder or "") / "dist" / "apidocs"
    return (folder / "swagger-ui-bundle.js").is_file() and (folder / "swagger-ui.css").is_file()


@docs_bp.get("/api/docs")
def docs_page() -> str:
    """Swagger UI when its bundle is built, and always the server-rendered list of operations,
    both in the page's language (Swagger UI loads the document with `?lang=`)."""
    locale = document_locale()
    return render_template(
        "api/docs.html",
        operations=operations(locale),
        info=_document(locale)["info"],
        spec_url=url_for("api.openapi_json", lang=locale),
        has_bundle=swagger_bundle_built(),
    )
