"""ARM's error answers as the emulator gives them: the envelope, 403 AuthorizationFailed, Graph 400s."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from starlette.responses import JSONResponse, Response

# The RBAC action each forbidden part would need (for AuthorizationFailed messages).
REQUIRED_ACTIONS = {
    "account": "Microsoft.CognitiveServices/accounts/read",
    "deployments": "Microsoft.CognitiveServices/accounts/deployments/read",
    "models": "Microsoft.CognitiveServices/accounts/models/read",
    "usages": "Microsoft.CognitiveServices/accounts/usages/read",
    "skus": "Microsoft.CognitiveServices/accounts/skus/read",
    "private_endpoint_connections": "Microsoft.CognitiveServices/accounts/privateEndpointConnections/read",
    "diagnostic_settings": "Microsoft.Insights/diagnosticSettings/read",
    "diagnostic_categories": "Microsoft.Insights/diagnosticSettingsCategories/read",
    "rai_policies": "Microsoft.CognitiveServices/accounts/raiPolicies/read",
    "accounts": "Microsoft.CognitiveServices/accounts/read",
    "location_models": "Microsoft.CognitiveServices/locations/models/read",
    "location_usages": "Microsoft.CognitiveServices/locations/usages/read",
    "model_capacities": "Microsoft.CognitiveServices/modelCapacities/read",
}
CLIENT_OBJECT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "aoai-emulator-client"))


class ArmError(Exception):
    """An ARM error answer: status, code, message (and optional extra headers / details)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details

    def response(self) -> Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return JSONResponse({"error": error}, status_code=self.status, headers=self.headers)


def graph_bad_request(message: str, *, invalid_query: bool = False) -> ArmError:
    detail = {"code": "InvalidQuery" if invalid_query else "BadRequest", "message": message}
    return ArmError(
        400,
        "BadRequest",
        "Please provide below info when asking for support: timestamp = "
        f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}, correlationId = {uuid.uuid4()}.",
        details=[detail],
    )


def forbidden(action: str, scope: str) -> ArmError:
    return ArmError(
        403,
        "AuthorizationFailed",
        f"The client '{CLIENT_OBJECT_ID}' with object id '{CLIENT_OBJECT_ID}' does not have authorization to perform "
        f"action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please "
        "refresh your credentials.",
    )
