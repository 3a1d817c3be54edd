"""The seed's `superagent:functions` world: a real component built here with componentize-py
loads as a tool (name, description and parameters from `meta()`), is called through `invoke`
with typed JSON, and its `execution-error` is the tool's error."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tool_runner import MetadataError, Policy, ResultKind, Tool, ToolRunner, default_cache_dir
from tool_runner.superagent import parse_arguments, typed_arguments

REPO = Path(__file__).resolve().parents[2]
WIT = REPO / "wit-lib" / "superagent"

# The seed's `web_pinger`, in Python: the loose `{ "endpoint": String }` form, plus a second
# function exporting a JSON Schema; `invoke` echoes what it received so that types show.
GUEST = """
import json
from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.function import ExecutionError, Metadata


class Function(exports.Function):
    def meta(self) -> Metadata:
        return Metadata(NAME, "Checks if a website is up by pinging it", ARGUMENTS_TEXT)

    def invoke(self, input: str) -> str:
        args = json.loads(input)
        if args.get("endpoint") == "down.example":
            raise Err(ExecutionError("endpoint down.example is not responding"))
        return json.dumps({"received": args})
"""
VARIANTS = {
    "loose": ("web_pinger", '{ "endpoint": String }'),
    "schema": (
        "Pinger",
        json.dumps(
            {
                "type": "object",
                "properties": {
                    "endpoint": {"type": "string", "description": "Host to ping"},
                    "count": {"type": "integer", "minimum": 1, "maximum": 5},
                    "verbose": {"type": "boolean"},
                    "ratio": {"type": "number"},
                },
                "required": ["endpoint"],
            }
        ),
    ),
    "bad": ("Broken", '{ "endpoint": Vec<u8> }'),
}


def _build(tmp: Path, variant: str) -> Path:
    """The variant's component, built once and kept beside the test compile cache (so that the
    same bytes hit the cache on the next run)."""
    name, arguments = VARIANTS[variant]
    source = GUEST.replace("NAME", repr(name)).replace("ARGUMENTS_TEXT", repr(arguments))
    key = hashlib.sha256((source + (WIT / "function.wit").read_text()).encode()).hexdigest()[:16]
    kept = default_cache_dir(os.environ).parent / "superagent-tests" / f"{variant}-{key}.wasm"
    if kept.is_file():
        return kept
    app = tmp / variant
    app.mkdir()
    (app / "app.py").write_text(source)
    (tmp / "no-site" / "lib" / "site-packages").mkdir(parents=True, exist_ok=True)
    componentize = Path(sys.executable).parent / "componentize-py"
    command = [str(componentize), "-q", "-d", str(WIT), "-w", "host", "componentize"]
    command += ["-p", str(app), "app", "-o", str(app / "out.wasm")]
    env = {**os.environ, "VIRTUAL_ENV": str(tmp / "no-site")}
    subprocess.run(command, check=True, env=env, capture_output=True, timeout=600)
    kept.parent.mkdir(parents=True, exist_ok=True)
    (app / "out.wasm").replace(kept)
    return kept


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("superagent")
    return {variant: _build(tmp, variant) for variant in VARIANTS}


@pytest.fixture(scope="module")
def runner() -> ToolRunner:
    with ToolRunner(policy=Policy(), cache_dir=default_cache_dir(os.environ)) as shared:
        yield shared  # type: ignore[misc]


@pytest.mark.slow
def test_the_seed_loose_form_loads_and_calls(built: dict[str, Path], runner: ToolRunner) -> None:
    tool: Tool = runner.load(built["loose"])
    assert (tool.name, tool.world) == ("web_pinger", "superagent")
    assert tool.metadata.description == "Checks if a website is up by pinging it"
    assert tool.json_schema()["properties"] == {"endpoint": {"type": "string", "description": ""}}
    assert tool.json_schema()["required"] == ["endpoint"]
    result = tool.call({"endpoint": "google.com"})
    assert result.ok, result.error
    assert json.loads(result.text) == {"received": {"endpoint": "google.com"}}


@pytest.mark.slow
def test_execution_error_is_the_tool_error(built: dict[str, Path], runner: ToolRunner) -> None:
    result = runner.load(built["loose"]).call({"endpoint": "down.example"})
    assert result.kind is ResultKind.TOOL_ERROR
    assert result.error == "endpoint down.example is not responding"


@pytest.mark.slow
def test_json_schema_arguments_arrive_typed(built: dict[str, Path], runner: ToolRunner) -> None:
    tool = runner.load(built["schema"])
    count = tool.metadata.param("count")
    assert count is not None and (count.type, count.minimum, count.maximum) == ("integer", 1, 5)
    result = tool.call({"endpoint": "a.example", "count": "3", "verbose": "yes", "ratio": 0.5})
    assert json.loads(result.text)["received"] == {
        "endpoint": "a.example",
        "count": 3,
        "verbose": True,
        "ratio": 0.5,
    }
    refused = tool.call({"endpoint": "a.example", "count": 9})
    assert refused.kind is ResultKind.INVALID_ARGUMENTS  # checked before any wasm runs


@pytest.mark.slow
def test_unreadable_arguments_refuse_the_component(
    built: dict[str, Path], runner: ToolRunner
) -> None:
    with pytest.raises(MetadataError, match="unsupported type 'Vec<u8>'"):
        runner.load(built["bad"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{ "endpoint": String }', [("endpoint", "string", True)]),
        (
            "{endpoint: String, retries: Option<u32>, fast: bool}",
            [
                ("endpoint", "string", True),
                ("retries", "integer", False),
                ("fast", "boolean", True),
            ],
        ),
        (
            '{"endpoint": "String", "timeout": "f64?"}',
            [("endpoint", "string", True), ("timeout", "number", False)],
        ),
        ("", []),
        ('{"type": "object", "properties": {}}', []),
    ],
)
def test_argument_descriptions(text: str, expected: list[tuple[str, str, bool]]) -> None:
    assert [(p.name, p.type, p.required) for p in parse_arguments(text)] == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("endpoint", "neither JSON nor"),
        ("[1, 2]", "expected a JSON object"),
        ("{ endpoint String }", "cannot read 'endpoint String'"),
        ("{a: String, a: i32}", "repeated"),
        (
            '{"properties": {"x": {"type": "array", "items": {"type": "string", "format": "a"}}}}',
            "parameter 'x': unsupported schema keyword 'format'",
        ),
        ('{"properties": {"x": {"items": {"type": "string"}}}}', 'give its "type"'),
        ('{"type": "object", "properties": {}, "required": ["y"]}', "'y' is not among"),
        ('{"type": "object", "properties": {"x": {"type": "string", "pattern": "a"}}}', "pattern"),
        ('{"type": "object", "properties": {}, "oneOf": []}', "unsupported schema keyword"),
    ],
)
def test_bad_argument_descriptions_say_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_arguments(text)


def test_array_and_object_properties_take_json_values() -> None:
    schema = {
        "type": "object",
        "properties": {
            "numbers": {"type": "array", "items": {"type": "number"}, "description": "Values"},
            "options": {"type": "object", "properties": {"round": {"type": "boolean"}}},
            "code": {"type": "string", "maxLength": 3},
        },
        "required": ["numbers"],
    }
    numbers, options, code = parse_arguments(json.dumps(schema))
    assert (numbers.type, numbers.required, numbers.description) == ("array", True, "Values")
    assert numbers.type_schema == {"type": "array", "items": {"type": "number"}}
    assert options.type == "object" and code.type_schema == {"type": "string", "maxLength": 3}
    canonical = {"numbers": "[1,2.5]", "options": '{"round":true}', "code": "abc"}
    typed = typed_arguments((numbers, options, code), canonical)
    assert typed == {"numbers": [1, 2.5], "options": {"round": True}, "code": "abc"}


def test_typed_arguments_follow_the_parameters() -> None:
    params = parse_arguments("{n: i64, x: f64, y: f64, b: bool, s: String}")
    canonical = {"n": "-7", "x": "2", "y": "0.25", "b": "false", "s": "12"}
    assert typed_arguments(params, canonical) == {"n": -7, "x": 2, "y": 0.25, "b": False, "s": "12"}
