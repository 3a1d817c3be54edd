"""The Python runner: one prebuilt component of the `superagent:functions` world that runs a
model-written Python function it receives as source (agent/toolsmith builds it once, with
componentize-py, and keeps it; each self-built tool is this component plus its source).

`invoke` takes `{"source": ..., "function": ..., "arguments": ...}` (`arguments`: a JSON
object, as text), compiles the source, runs its top level and calls the function with the
arguments (the host checked the source's signature against the declared parameters before a
person approved it). A syntax error or an exception becomes the `execution-error` with the
source's own line numbers, never a trap. Everything runs inside the sandbox: no files, no
network, no environment unless the person granted them.
"""

from __future__ import annotations

import inspect
import json
import linecache
import traceback
from typing import Any

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.function import ExecutionError, Metadata

ARGUMENTS = {
    "type": "object",
    "properties": {
        "source": {"type": "string", "description": "The Python source of the tool"},
        "function": {"type": "string", "description": "The function to call"},
        "arguments": {"type": "string", "description": "The call's arguments (a JSON object)"},
    },
    "required": ["source", "function"],
}
# What goes back to the model of a failure: the exception and the last lines of its traceback.
MAX_TRACEBACK_LINES = 8
MAX_RESULT_CHARS = 256 * 1024


class _Failure(Exception):
    """A failure whose message goes back as the execution-error."""


def _fail(reason: str) -> Err[ExecutionError]:
    return Err(ExecutionError(reason))


def _filename(function: str) -> str:
    return f"{function or 'tool'}.py"


def _load(source: str, function: str) -> Any:
    """Compile and run `source`, return its `function`; raises _Failure."""
    filename = _filename(function)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        where = f"line {exc.lineno}" if exc.lineno else "the source"
        text = f"\n    {exc.text.strip()}" if exc.text and exc.text.strip() else ""
        raise _Failure(f"SyntaxError at {where}: {exc.msg}{text}") from None
    namespace: dict[str, Any] = {"__name__": "tool"}
    try:
        exec(code, namespace)
    except BaseException as exc:  # SystemExit too: the model's code must not end the runner
        raise _Failure(_describe(exc, filename)) from None
    found = namespace.get(function)
    if not inspect.isfunction(found):
        defined = sorted(n for n, v in namespace.items() if inspect.isfunction(v))
        raise _Failure(
            f"the source defines no function {function!r} "
            f"(it defines: {', '.join(defined) or 'no functions'})"
        )
    return found


def _describe(exc: BaseException, filename: str) -> str:
    """The exception and the traceback lines inside the tool's own source."""
    lines = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            lines.append(f"  line {frame.lineno}, in {frame.name}")
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
    head = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    shown = lines[-(MAX_TRACEBACK_LINES - 1) :]
    return "\n".join([head, *shown]) if shown else head


def _output(value: Any) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise _Failure(
                f"the function returned a {type(value).__name__}, which is not JSON ({exc})"
            ) from None
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + "\n[output truncated]"
    return text


def _run(request: dict[str, Any]) -> str:
    source, name = request.get("source"), request.get("function")
    if not isinstance(source, str) or not isinstance(name, str):
        raise _Failure("the request needs 'source' and 'function' as strings")
    function = _load(source, name)
    try:
        arguments = json.loads(request.get("arguments") or "{}")
    except ValueError:
        raise _Failure("'arguments' is not JSON") from None
    if not isinstance(arguments, dict):
        raise _Failure("'arguments' is not a JSON object")
    try:
        value = function(**arguments)
    except RecursionError:
        raise _Failure("RecursionError: the function recursed too deeply") from None
    except MemoryError:
        raise _Failure("MemoryError: the function ran out of memory") from None
    except BaseException as exc:  # SystemExit too: the model's code must not end the runner
        raise _Failure(_describe(exc, _filename(name))) from None
    return _output(value)


class Function(exports.Function):
    """The `superagent:functions/function` export."""

    def meta(self) -> Metadata:
        return Metadata(
            "PythonRunner",
            "Runs a Python function given as source (the self-built tools' runner)",
            json.dumps(ARGUMENTS),
        )

    def invoke(self, input: str) -> str:
        try:
            request = json.loads(input)
        except ValueError:
            raise _fail("the input is not JSON") from None
        if not isinstance(request, dict):
            raise _fail("the input is not a JSON object")
        try:
            return _run(request)
        except _Failure as exc:
            raise _fail(str(exc)) from None
        except RecursionError:
            raise _fail("RecursionError: nested too deeply") from None
        except MemoryError:
            raise _fail("MemoryError: the runner ran out of memory") from None
