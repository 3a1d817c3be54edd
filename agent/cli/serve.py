"""`agent serve`: the model stays loaded behind an OpenAI-compatible HTTP server.

Only adapts: the agent's own flags (the same as `agent run`'s) become settings, the address is
bound before the model loads (a port in use fails at once), an `agent.Session` opens the tools
and the model, and `agent.serve` serves them until Ctrl-C.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any

import click

from agent import Session
from agent.cli.run import agent_options, one_line_errors, settings_from
from agent.serve import ChatService, bind, create_app, serve_forever, url_of
from agent.session import ModelLoader
from tool_runner import default_cache_dir, for_terminal

API_KEY_ENV = "LLM_AGENT_API_KEY"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@agent_options
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 or :: listens on every interface).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--api-key",
    envvar=API_KEY_ENV,
    metavar="KEY",
    help=f"Require `Authorization: Bearer KEY` on /v1/ (also ${API_KEY_ENV}).",
)
@click.pass_context
def serve(
    ctx: click.Context, /, host: str, port: int, api_key: str | None, **flags: Any
) -> None:  # fmt: skip
    """Serve the model and its sandboxed tools over an OpenAI-compatible HTTP API.

    POST /v1/chat/completions (streaming or not), GET /v1/models, GET /health. A request
    without `tools` runs the server's tools to an answer (its steps in the response's
    `llm_agent` field); a request with `tools` gets `tool_calls` back, unexecuted.
    """
    with one_line_errors():
        settings = settings_from(ctx, flags)
        sock = bind(host, port)
        try:
            loader: ModelLoader | None = ctx.obj
            cache_dir = default_cache_dir(os.environ)
            session = Session.open(settings, loader=loader, cache_dir=cache_dir)
        except BaseException:
            sock.close()
            raise
        with session:
            service = ChatService.for_session(session, aliases=(settings.model,))
            app = create_app(service, api_key=api_key or None)
            names = ", ".join(tool.name for tool in session.tools) or "none"
            click.echo(
                for_terminal(
                    f"Serving {service.model_id} (tools: {names}) at {url_of(sock)}/v1; "
                    "Ctrl-C stops."
                ),
                err=True,
            )
            if not api_key and not _is_loopback(host):
                click.echo(
                    f"Warning: listening on {host} without an API key (--api-key): anyone who "
                    "reaches this address can run the model and its tools.",
                    err=True,
                )
            serve_forever(app, sock, access_log=bool(flags.get("verbose")))


__all__ = ["serve"]
