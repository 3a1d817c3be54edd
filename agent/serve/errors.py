"""Errors of the OpenAI-compatible server, each one HTTP error response.

    AgentError (agent.errors)
    ├── ServeError            the server cannot start (the address is taken or not allowed)
    └── RequestError          a request the server refuses: status, OpenAI error type, param, code
        ├── AuthError         no API key, or a wrong one (401)
        └── UnknownModelError a `model` the server does not serve (404)

A `RequestError` becomes `{"error": {"message", "type", "param", "code"}}`, the shape OpenAI's
clients read; the message is one line. Failures while the model runs are the agent's own errors
(`ModelError`, ...) and become a 500 with their one line.
"""

from __future__ import annotations

from typing import Any

from agent.errors import AgentError


class ServeError(AgentError):
    """The server cannot start."""


class RequestError(AgentError):
    """A request the server refuses (400 unless said otherwise)."""

    status = 400
    type = "invalid_request_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(" ".join(message.split()))
        self.message = " ".join(message.split())
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        """The error as OpenAI's JSON error object."""
        return error_body(self.message, self.type, param=self.param, code=self.code)


class AuthError(RequestError):
    """A request without the server's API key (401)."""

    status = 401

    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_api_key")


class UnknownModelError(RequestError):
    """A request for a model this server does not serve (404)."""

    status = 404

    def __init__(self, name: str, served: str) -> None:
        super().__init__(
            f"the model {name!r} does not exist here (this server serves {served!r})",
            param="model",
            code="model_not_found",
        )


def error_body(
    message: str, kind: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """`{"error": {...}}` as OpenAI writes it."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
