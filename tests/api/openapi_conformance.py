"""Checks an API response against the OpenAPI document: the status is documented for that
operation, the media type is the documented one, and the JSON body validates against the
schema of that status (JSON Schema 2020-12, formats asserted)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

from app.api.openapi import openapi_document

DOC_URI = "urn:creditflow:openapi"
PREFIX = "/api/v1"


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


class Conformance:
    """Sends requests through the Flask test client and checks every answer."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.doc = openapi_document()
        self._routes = [(_pattern(p), p) for p in self.doc["paths"]]
        self.seen: set[tuple[str, str, str]] = set()

    def operation(self, method: str, url: str) -> tuple[str, dict[str, Any]]:
        path = urlsplit(url).path
        assert path.startswith(PREFIX), path
        path = path[len(PREFIX) :]
        matches = [t for regex, t in self._routes if regex.match(path)]
        # A literal segment beats a parameter (…/{instance_id}/suspend vs …/{instance_id}).
        matches.sort(key=lambda t: t.count("{"))
        for template in matches:
            op = self.doc["paths"][template].get(method.lower())
            if op is not None:
                return template, op
        raise AssertionError(f"{method} {path} is not in the OpenAPI document")

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        wrapped = {"$id": "urn:creditflow:check", "$ref": f"{DOC_URI}#/__check"}
        doc = {**self.doc, "__check": schema}
        registry = Registry().with_resource(
            DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
        )
        return Draft202012Validator(
            wrapped, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )

    def check(self, method: str, url: str, response: TestResponse) -> None:
        template, op = self.operation(method, url)
        status = str(response.status_code)
        where = f"{method} {template} → {status}"
        assert status in op["responses"], f"{where} is not documented: {response.text[:500]}"
        documented = self._resolve(op["responses"][status])
        content = documented.get("content", {})
        assert response.mimetype in content, f"{where}: {response.mimetype} not in {list(content)}"
        if response.mimetype == "application/json":
            schema = content["application/json"]["schema"]
            errors = sorted(
                self.validator(schema).iter_errors(response.get_json()), key=lambda e: e.path
            )
            assert not errors, f"{where}: " + "; ".join(
                f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]
            )
        self.seen.add((method.upper(), template, status))

    def call(self, method: str, url: str, **kwargs: Any) -> TestResponse:
        response = self.client.open(url, method=method, **kwargs)
        self.check(method, url, response)
        return response

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.call("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> TestResponse:
        return self.call("POST", url, **kwargs)

    def operations(self) -> set[tuple[str, str]]:
        return {(m.upper(), p) for p, item in self.doc["paths"].items() for m in item}
