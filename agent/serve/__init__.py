"""`agent serve`: an OpenAI-compatible HTTP server over one loaded model and its sandboxed tools.

    from agent.serve import ChatService, Server, create_app

    with Session.open(settings) as session:
        service = ChatService.for_session(session, aliases=(settings.model,))
        with Server.start(create_app(service, api_key=None), port=0) as server:
            ...   # OpenAI(base_url=server.url + "/v1") talks to it

`service` (`ChatService`) runs chat completions one at a time on the model, each from the
request's own messages: without `tools`, the agent loop runs the server's tools to an answer
(the steps, calls and results in the response's `llm_agent` field); with `tools`, the client's
functions are offered and the calls come back unexecuted. `create_app` is the Starlette app
(routes, auth, errors, streaming); `Server` serves it with uvicorn in a thread, `serve_forever`
in the foreground. Errors: `agent.serve.errors`.
"""

from agent.serve.app import MAX_BODY_BYTES, create_app, parse_request
from agent.serve.errors import AuthError, RequestError, ServeError, UnknownModelError
from agent.serve.functions import ClientTools
from agent.serve.schema import AgentReport, ChatCompletion, ChatCompletionChunk, ChatRequest
from agent.serve.server import Server, bind, serve_forever, url_of
from agent.serve.service import ChatService, TunableBackend

__all__ = [
    "MAX_BODY_BYTES",
    "AgentReport",
    "AuthError",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatRequest",
    "ChatService",
    "ClientTools",
    "RequestError",
    "ServeError",
    "Server",
    "TunableBackend",
    "UnknownModelError",
    "bind",
    "create_app",
    "parse_request",
    "serve_forever",
    "url_of",
]
