"""The HttpGet component's entry point: componentize-py looks up `Tool` here.

The request itself is the host's `http-get` import, which applies the sandbox policy.
"""

import httpget
from componentize_py_types import Err
from guest import export_tool
from toolspec import ToolError
from wit_world.imports import host


def fetch(url: str) -> httpget.Response:
    """GET `url` through the host; its refusal becomes the tool's error, word for word."""
    try:
        response = host.http_get(url)
    except Err as refusal:
        raise ToolError(str(refusal.value)) from None
    return httpget.Response(response.status, tuple(response.headers), bytes(response.body))


Tool = export_tool(httpget.SPEC, lambda args: httpget.run(args, fetch, host.log))
