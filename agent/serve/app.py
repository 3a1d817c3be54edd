"""The HTTP layer: a Starlette app over a `ChatService`.

    app = create_app(service, api_key="secret")   # api_key None: no key needed

Routes: `POST /v1/chat/completions` (JSON, or server-sent events with `stream: true`, ending
with `data: [DONE]`), `GET /v1/models`, `GET /v1/models/{id}` and `GET /health`. With an API
key, every `/v1/` route wants `Authorization: Bearer KEY` (401 otherwise); `/health` is open.
Every error is OpenAI's JSON error object with a one-line message: 400 for a request that
cannot be used, 401, 404 for an unknown model or route, 413 for a body over the limit, 500 when
the model fails. Runs happen in worker threads; the service serializes them on the model.
"""

from __future__ import annotations

import hmac
import json
import logging
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio.to_thread
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agent.errors import AgentError
from agent.serve.errors import AuthError, RequestError, UnknownModelError, error_body
from agent.serve.schema import ChatCompletionChunk, ChatRequest, ModelCard, ModelList
from agent.serve.service import ChatService
from tool_runner import ToolRunnerError

MAX_BODY_BYTES = 8 * 1024 * 1024
"""The largest request body accepted (413 beyond it)."""

_log = logging.getLogger("agent.serve")
_DONE = b"data: [DONE]\n\n"


def create_app(
    service: ChatService, *, api_key: str | None = None, max_body: int = MAX_BODY_BYTES
) -> Starlette:
    """The server's app (see the module docstring)."""

    def authorize(request: Request) -> None:
        if api_key is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if not given:
            raise AuthError("no API key: send the header Authorization: Bearer KEY")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), api_key.encode()
        ):
            raise AuthError("the API key is not this server's")

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "model": service.model_id})

    def card() -> ModelCard:
        return ModelCard(id=service.model_id, created=service.created)

    async def models(request: Request) -> Response:
        authorize(request)
        return _json(ModelList(data=[card()]).model_dump(mode="json"))

    async def model(request: Request) -> Response:
        authorize(request)
        name = request.path_params["name"]
        if name != service.model_id:
            raise UnknownModelError(name, service.model_id)
        return _json(card().model_dump(mode="json"))

    async def chat_completions(request: Request) -> Response:
        authorize(request)
        chat = parse_request(await _body(request, max_body))
        if not chat.stream:
            completion = await anyio.to_thread.run_sync(service.complete, chat)
            return _json(completion.model_dump(mode="json"))
        cancelled = threading.Event()
        chunks = service.stream(chat, cancelled)  # a bad request raises here, before any byte
        return StreamingResponse(_sse(chunks, cancelled), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/models/{name:path}", model, methods=["GET"]),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        ],
        exception_handlers={
            RequestError: _request_error,
            HTTPException: _http_error,
            AgentError: _run_error,
            ToolRunnerError: _run_error,
        },
    )


def parse_request(body: bytes) -> ChatRequest:
    """The request in `body`; raises RequestError with one line naming the bad field."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise RequestError(f"the request body is not JSON ({exc})") from exc
    try:
        return ChatRequest.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = _location(error["loc"])
        raise RequestError(
            f"{where}: {error['msg']}" if where else error["msg"], param=where
        ) from exc


def _location(loc: tuple[int | str, ...]) -> str:
    """`("messages", 0, "user", "content")` as `messages[0].content` (union tags dropped)."""
    text = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        elif _is_tag(loc, index):
            continue
        else:
            text += f".{part}" if text else str(part)
    return text


def _is_tag(loc: tuple[int | str, ...], index: int) -> bool:
    # a discriminated union's member name follows the message index in pydantic's locations
    return index >= 2 and loc[index - 2] == "messages" and isinstance(loc[index - 1], int)


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the request body is over {limit} bytes")
    body = b""
    async for piece in request.stream():
        body += piece
        if len(body) > limit:
            raise HTTPException(413, f"the request body is over {limit} bytes")
    return body


def _json(data: Any, status: int = 200) -> Response:
    return JSONResponse(data, status_code=status)


async def _request_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestError)  # registered for RequestError only
    return _json(exc.body(), exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # registered for HTTPException only
    kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
    return _json(error_body(str(exc.detail), kind), exc.status_code)


async def _run_error(request: Request, exc: Exception) -> Response:
    return _json(error_body(_one_line(exc), "server_error"), 500)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _event(data: str) -> bytes:
    return f"data: {data}\n\n".encode()


async def _sse(
    chunks: Iterator[ChatCompletionChunk], cancelled: threading.Event
) -> AsyncIterator[bytes]:
    """The chunks as server-sent events, produced in a thread of their own; a client that goes
    away sets `cancelled`, which ends the run at its next event (and frees the model)."""
    events: queue.Queue[bytes | None] = queue.Queue()

    def produce() -> None:
        try:
            for chunk in chunks:
                if cancelled.is_set():
                    break
                events.put(_event(chunk.model_dump_json(exclude_none=True)))
        except (AgentError, ToolRunnerError) as exc:
            events.put(_event(json.dumps(error_body(_one_line(exc), "server_error"))))
        except Exception:  # a bug: the client gets one line, the log the traceback
            _log.exception("a streamed run failed")
            events.put(_event(json.dumps(error_body("internal server error", "server_error"))))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            events.put(_DONE)
            events.put(None)

    threading.Thread(target=produce, name="agent-serve-run", daemon=True).start()
    try:
        while True:
            item = await anyio.to_thread.run_sync(events.get, abandon_on_cancel=True)
            if item is None:
                return
            yield item
    finally:
        cancelled.set()
