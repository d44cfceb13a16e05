"""NGSI-LD refusals: RFC 7807 problem details with an ETSI error type."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from pydantic import BaseModel

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"


class ProblemDetails(BaseModel):
    """An NGSI-LD error (RFC 7807 problem details with an ETSI error type)."""

    type: str
    title: str
    detail: str | None = None


class NgsiError(Exception):
    """A request answered with a ProblemDetails document."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
        *,
        audited: bool = False,
    ) -> None:
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.headers, self.audited = headers, audited

    def response(self) -> JSONResponse:
        """The refusal as ``application/json`` problem details."""
        kind = self.kind if ":" in self.kind else ERRORS + self.kind  # about:blank stays
        return JSONResponse(
            {"type": kind, "title": self.title, "detail": self.detail},
            status_code=self.status,
            headers=self.headers,
        )


def bad(detail: str, title: str = "Bad request data") -> NgsiError:
    """Malformed or contradictory input: 400 BadRequestData."""
    return NgsiError(400, "BadRequestData", title, detail)


def unsupported(detail: str) -> NgsiError:
    """Well-formed, but beyond what the hub implements: 422 OperationNotSupported."""
    return NgsiError(422, "OperationNotSupported", "Operation not supported", detail)
