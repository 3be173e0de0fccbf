"""OpenAPI description of our authentication (drf-spectacular extension)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[misc,no-untyped-call]
    target_class = "resonanz.accounts.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (`rz_…`), scoped to workspaces.",
        }


# -- error answers, documented once for every operation ------------------------------------------------
# Every error of the API has the same shape (api/errors.py: a stable ``code``, a ``detail`` that is a
# message or a list of them, and for validation errors one key per field with its messages). Which
# errors an operation can answer follows from the shared plumbing, not from each view: the
# authentication (401), the role and read-only-token checks (403), the workspace in the path (404), the
# throttle (429), input validation (400), and on writes the state conflicts and Idempotency-Key reuse
# (409, 422). So they are added here once, not copied into every view's ``extend_schema``.

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error: a stable `code`, a `detail` message (or list of messages) and, for"
    " invalid input, the messages per field.",
    "properties": {
        "code": {"type": "string"},
        "detail": {},
    },
    "required": ["code"],
    "additionalProperties": True,
}

_ERRORS = {
    "400": "Invalid input (the messages name the fields).",
    "401": "No or an invalid API token.",
    "403": "The role or the token may not do this.",
    "404": "Not found in this workspace (or not a workspace of the token).",
    "429": "Too many requests (Retry-After says when to try again).",
}
_WRITE_ERRORS = {
    "409": "The object's state does not allow this now (e.g. already published).",
    "422": "Refused as a whole: the content breaks a network's rules, or an Idempotency-Key was reused"
    " with a different request.",
}


def document_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: adds the shared error answers to every operation (an
    operation's own documentation of a code wins)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = dict(_ERRORS)
            if method != "get":
                codes.update(_WRITE_ERRORS)
            for code, description in codes.items():
                operation["responses"].setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": ref}}}
                )
    return result
