"""Service-layer exceptions, mapped to HTTP statuses once per interface.

ServiceError
├── NotFoundError      404  the object does not exist or the actor may not know it exists
├── NotAllowedError    403  the actor may see it but not do this
├── ConflictError      409  the state changed (task taken, version conflict, duplicate)
└── InvalidInputError  422  the input fails validation; `fields` maps field → messages
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFoundError(ServiceError):
    status = 404
    code = "not_found"


class NotAllowedError(ServiceError):
    status = 403
    code = "forbidden"


class ConflictError(ServiceError):
    status = 409
    code = "conflict"


class InvalidInputError(ServiceError):
    status = 422
    code = "validation_failed"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message, details={"fields": fields or {}})
        self.fields = fields or {}
