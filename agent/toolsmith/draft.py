"""A tool the model (or a person) writes: name, description, parameter schema and the source of
one Python function, checked on the host without running any of it.

`check_draft` parses the source (`ast.parse`: parsing, never compiling or executing) and checks
that it defines the function `name` at the top level with exactly the declared parameters
(required ones without defaults, optional ones with). It raises `DraftError` with the first
useful lines, which go back to the model as the tool error of `CreateTool`.
"""

from __future__ import annotations

import ast
import json
import keyword
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from tool_runner import ToolMetadata, ToolParam, schema_params

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_SOURCE_BYTES = 64 * 1024
MAX_DESCRIPTION_CHARS = 1000
SELF_BUILT_VERSION = "self-built"


def _empty_schema() -> dict[str, JsonValue]:
    return {"type": "object", "properties": {}}


class DraftError(ValueError):
    """A draft that does not build: the reason, in a few lines, for the model."""


class ToolDraft(BaseModel):
    """What `CreateTool` receives: the tool's name (also the Python function's), a description,
    a JSON Schema object of its parameters and the function's source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    parameters: dict[str, JsonValue] = Field(default_factory=_empty_schema)
    source: str

    def params(self) -> tuple[ToolParam, ...]:
        """The declared parameters; raises DraftError."""
        try:
            return schema_params(dict(self.parameters))
        except ValueError as exc:
            raise DraftError(f"parameters: {exc}") from None

    def metadata(self) -> ToolMetadata:
        """The tool as the model will see it (world `superagent`); raises DraftError."""
        return ToolMetadata(
            name=self.name,
            description=self.description,
            version=SELF_BUILT_VERSION,
            params=self.params(),
            world="superagent",
        )


def read_draft(arguments: dict[str, Any]) -> ToolDraft:
    """A draft from `CreateTool`'s arguments (`parameters` as a JSON object or its text);
    raises DraftError naming what is missing or malformed."""
    missing = [k for k in ("name", "description", "source") if not arguments.get(k)]
    if missing:
        raise DraftError(f"CreateTool needs {', '.join(missing)}")
    parameters = arguments.get("parameters") or {"type": "object", "properties": {}}
    if isinstance(parameters, str):
        try:
            parameters = json.loads(parameters)
        except (ValueError, RecursionError):
            raise DraftError("parameters: not JSON (give a JSON Schema object)") from None
    if not isinstance(parameters, dict):
        raise DraftError("parameters: give a JSON Schema object")
    values = {k: arguments.get(k) for k in ("name", "description", "source")}
    if not all(isinstance(v, str) for v in values.values()):
        raise DraftError("name, description and source must be strings")
    return ToolDraft(
        name=str(values["name"]).strip(),
        description=str(values["description"]).strip(),
        parameters=parameters,
        source=str(values["source"]),
    )


def check_draft(draft: ToolDraft, taken: set[str]) -> ToolMetadata:
    """The draft's metadata when it builds; raises DraftError (names already in `taken`, compared
    ignoring case, are refused)."""
    if not NAME.fullmatch(draft.name) or keyword.iskeyword(draft.name):
        raise DraftError(
            f"name {draft.name!r}: use a Python identifier that is not a keyword (letters, "
            "digits, _; at most 64)"
        )
    if draft.name.lower() in {name.lower() for name in taken}:
        raise DraftError(f"name {draft.name!r} is already a tool: choose another name")
    if not draft.description or len(draft.description) > MAX_DESCRIPTION_CHARS:
        raise DraftError(f"description: one to {MAX_DESCRIPTION_CHARS} characters")
    if len(draft.source.encode()) > MAX_SOURCE_BYTES:
        raise DraftError(f"source: at most {MAX_SOURCE_BYTES // 1024} KiB")
    metadata = draft.metadata()
    check_source(draft.source, draft.name, metadata.params)
    return metadata


def check_source(source: str, function: str, params: tuple[ToolParam, ...]) -> None:
    """Parse `source` and check `function`'s signature against `params`; raises DraftError."""
    try:
        tree = ast.parse(source, filename=f"{function}.py")
    except SyntaxError as exc:
        line = f"\n    {exc.text.strip()}" if exc.text and exc.text.strip() else ""
        raise DraftError(f"SyntaxError at line {exc.lineno}: {exc.msg}{line}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise DraftError(f"the source does not parse: {type(exc).__name__}") from None
    found = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function
    ]
    if not found:
        defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        raise DraftError(
            f"the source must define the function {function}(...) at the top level "
            f"(it defines: {', '.join(defined) or 'no functions'})"
        )
    node = found[-1]
    if isinstance(node, ast.AsyncFunctionDef):
        raise DraftError(f"{function} must be a plain def, not async")
    _check_signature(node.args, function, params)


def _check_signature(args: ast.arguments, function: str, params: tuple[ToolParam, ...]) -> None:
    if args.vararg or args.kwarg or args.posonlyargs:
        raise DraftError(f"{function}: no *args, **kwargs or positional-only parameters")
    positional = args.args
    defaults = len(args.defaults)
    written: dict[str, bool] = {}  # name -> required
    for index, arg in enumerate(positional):
        written[arg.arg] = index < len(positional) - defaults
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        written[arg.arg] = default is None
    declared = {p.name: p.required for p in params}
    if set(written) != set(declared):
        raise DraftError(
            f"{function}'s parameters ({', '.join(written) or 'none'}) do not match the "
            f"declared ones ({', '.join(declared) or 'none'})"
        )
    for name, required in declared.items():
        if written[name] != required:
            want = "without a default (it is required)" if required else "with a default"
            raise DraftError(f"{function}: write parameter {name!r} {want}")


_ANNOTATION_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}


def draft_from_source(
    source: str, *, name: str | None = None, description: str | None = None
) -> ToolDraft:
    """A draft from a person's Python file: the function `name` (or the file's only top-level
    function), its docstring's first line as the description, and its parameters' annotations
    (str, int, float, bool; none: str) and defaults as the schema; raises DraftError."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise DraftError(f"SyntaxError at line {exc.lineno}: {exc.msg}") from None
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    chosen = [f for f in functions if name is None or f.name == name]
    if len(chosen) != 1:
        found = ", ".join(f.name for f in functions) or "none"
        wanted = f"a function {name}" if name else "exactly one top-level function"
        raise DraftError(f"the file needs {wanted} (it defines: {found})")
    function = chosen[0]
    doc = (ast.get_docstring(function) or "").strip().splitlines()
    text = description or (doc[0] if doc else "")
    if not text:
        raise DraftError(f"{function.name} has no docstring: give --description")
    properties: dict[str, JsonValue] = {}
    required: list[JsonValue] = []
    args = function.args
    first_default = len(args.args) - len(args.defaults)
    for index, arg in enumerate(args.args):
        spelled = ast.unparse(arg.annotation) if arg.annotation is not None else "str"
        kind = _ANNOTATION_TYPES.get(spelled)
        if kind is None:
            raise DraftError(f"parameter {arg.arg!r}: annotate it str, int, float or bool")
        properties[arg.arg] = {"type": kind}
        if index < first_default:
            required.append(arg.arg)
    schema: dict[str, JsonValue] = {"type": "object", "properties": properties}
    schema["required"] = required
    return ToolDraft(name=function.name, description=text, parameters=schema, source=source)
