"""Shared pieces of the data plane: ids, request ids, error bodies, authentication.

Two error shapes exist on Azure OpenAI's v1 data plane, and clients must handle both:

- the gateway's (authentication, unknown deployment): ``{"error": {"code": "...", "message": "..."}}``;
- the Responses service's own (validation, unknown response id): OpenAI's shape
  ``{"error": {"message", "type": "invalid_request_error", "param", "code"}}``.
"""

from __future__ import annotations

import hmac
import json
import secrets
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

JSON_SEPARATORS = (",", ":")


def new_id(prefix: str) -> str:
    """An id shaped like the service's: a prefix, an underscore and 48 hex digits."""
    return f"{prefix}_{secrets.token_hex(24)}"


def request_id_headers() -> dict[str, str]:
    request_id = str(uuid.uuid4())
    return {"x-request-id": request_id, "apim-request-id": request_id}


def dumps(value: Any) -> str:
    return json.dumps(value, separators=JSON_SEPARATORS, ensure_ascii=False)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    all_headers = request_id_headers()
    if headers:
        all_headers.update(headers)
    return Response(dumps(body), status_code=status, media_type="application/json", headers=all_headers)


class ApiError(Exception):
    """An error answer: raised anywhere below a handler, turned into a response by the handler."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> Response:
        return json_response(self.body, self.status, self.headers)


def invalid_request(message: str, *, param: str | None = None, code: str | None = None, status: int = 400) -> ApiError:
    """OpenAI's validation error shape, as the Responses service returns it."""
    return ApiError(
        status, {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
    )


def response_not_found(response_id: str) -> ApiError:
    return invalid_request(f"Response with id '{response_id}' not found.", status=404)


def deployment_not_found() -> ApiError:
    return ApiError(
        404,
        {
            "error": {
                "code": "DeploymentNotFound",
                "message": "The API deployment for this resource does not exist. If you created the deployment "
                "within the last 5 minutes, please wait a moment and try again.",
            }
        },
    )


_KEY_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource."
)
_TOKEN_DENIED = (
    "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), "
    "or have expired."
)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def check_auth(request: Request, api_key: str, access_token: str) -> None:
    """Accept the ``api-key`` header, or ``Authorization: Bearer`` with the Entra token or the key
    (the v1 endpoint accepts a key as a bearer value, which is how the OpenAI SDKs send it)."""
    key = request.headers.get("api-key")
    if key is not None:
        if _same(key, api_key):
            return
        raise ApiError(401, {"error": {"code": "401", "message": _KEY_DENIED}})
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        token = value.strip()
        if _same(token, access_token) or _same(token, api_key):
            return
    raise ApiError(
        401,
        {"error": {"code": "401", "message": _TOKEN_DENIED}},
        headers={
            "www-authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
            'error="invalid_token"'
        },
    )
