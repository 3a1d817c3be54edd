"""`http-get`'s deadline covers the whole exchange: a server that drips one byte a second
anywhere (status line, headers, body, chunk-size lines) or says nothing is cut off at the
deadline with a one-line error."""

from __future__ import annotations

import time

import pytest
from drip_server import drip_server

from tool_runner import Policy
from tool_runner.host import HttpDenied, http_get

TIMEOUT_S = 1.5
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
# where the server stalls: (sent at once, then dripped one byte a second)
STALLS = {
    "silent": (b"", b""),
    "status line": (b"", HEAD),
    "headers": (HEAD, b"X-Slow: " + b"z" * 60 + b"\r\n\r\nbody"),
    "body": (HEAD + b"Content-Length: 100\r\n\r\n", b"b" * 100),
    "chunk-size line": (
        HEAD + b"Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n",
        b"000000000001\r\nb\r\n0\r\n\r\n",
    ),
}


@pytest.mark.parametrize("where", sorted(STALLS))
def test_a_dripping_server_is_cut_off_at_the_deadline(where: str) -> None:
    with drip_server(*STALLS[where], interval_s=1.0) as host:
        policy = Policy(http_hosts=(host,), http_timeout_s=TIMEOUT_S)
        started = time.monotonic()
        with pytest.raises(HttpDenied) as caught:
            http_get(policy, f"http://{host}/slow")
        elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT_S + 1.0
    assert str(caught.value) == f"GET http://{host}/slow timed out after {TIMEOUT_S:g} s"


def test_a_prompt_server_is_answered_in_full() -> None:
    whole = HEAD + b"Content-Length: 5\r\n\r\nhello"
    with drip_server(whole, b"") as host:
        status, headers, received = http_get(Policy(http_hosts=(host,)), f"http://{host}/")
    assert (status, received) == (200, b"hello")
    assert ("content-type", "text/plain") in headers
