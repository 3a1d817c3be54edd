"""`tool-runner`: load one tool component, describe it, and run it once in the sandbox.

Parsing is two-phase: the fixed options are read first, the component is loaded to learn its
parameters, then the remaining arguments are parsed with one `--<param>` option per parameter.
A component that exports plain functions is one tool per function: `--list` shows them with
their JSON Schemas, `--tool NAME` picks the one to describe or run (not needed when there is
one). A parameter with a structured type takes JSON text (`--arg points='[{"x": 1}]'`).
Exit codes: 0 success, 1 a tool-side failure (`[Error] ...`), 2 a load or usage error (one line
on stderr). This module only adapts: it builds a Policy (the shared sandbox flags of
`options.py`), resolves the cache directory, calls the library, renders the result.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from tool_runner import (
    ArgumentsError,
    ArgValue,
    Policy,
    PoolSettings,
    ResultKind,
    ToolMetadata,
    ToolParam,
    ToolResult,
    ToolRunner,
    ToolRunnerError,
    WorkerPool,
    default_cache_dir,
)
from tool_runner.arguments import canonical_arguments
from tool_runner.options import policy_from_params, sandbox_options
from tool_runner.terminal import for_terminal

_OPTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
EXIT_TOOL_FAILURE = 1
EXIT_USAGE = 2


def _echo(text: str, *, nl: bool = True, err: bool = False) -> None:
    """Print text that may come from a component (metadata, output, stdio, errors) with its
    terminal control characters made visible (`for_terminal`)."""
    click.echo(for_terminal(text), nl=nl, err=err)


class _OneLineErrors(click.Command):
    """A command whose usage and load errors are one line on stderr with exit code 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            # Not standalone, click returns --help's and the command's exit code.
            code = super().main(*args, **kwargs)
        except click.exceptions.Abort:
            sys.exit(130)
        except click.ClickException as exc:
            _echo(f"tool-runner: error: {exc.format_message()}", err=True)
            sys.exit(EXIT_USAGE)
        except ToolRunnerError as exc:
            _echo(f"tool-runner: error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        sys.exit(code or 0)


@click.command(
    cls=_OneLineErrors,
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": ["-h", "--help"],
    },
    epilog="Tool parameters: one --<param> VALUE option per parameter the component declares "
    "(see --describe), or --arg NAME=VALUE.",
)
@click.option("-c", "--component", "component", required=True, help="Path to the component.")
@click.option("--arg", "raw_args", multiple=True, metavar="NAME=VALUE", help="A tool argument.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--describe", is_flag=True, help="Print metadata and JSON Schema; do not run.")
@click.option("-t", "--tool", "tool_name", metavar="NAME", help="Which of the component's tools.")
@click.option("--list", "list_tools", is_flag=True, help="List the component's tools; do not run.")
@sandbox_options
@click.option("--no-cache", is_flag=True, help="Do not use the on-disk compile cache.")
@click.option("--in-process", is_flag=True, help="Run the tool in this process, not a worker.")
@click.pass_context
def command(
    ctx: click.Context,
    /,
    component: str,
    raw_args: tuple[str, ...],
    as_json: bool,
    describe: bool,
    tool_name: str | None,
    list_tools: bool,
    no_cache: bool,
    in_process: bool,
    **sandbox: Any,
) -> int:
    """Run a WebAssembly tool component once, in a deny-by-default sandbox (in a supervised
    worker process unless --in-process)."""
    policy = policy_from_params(sandbox)
    path = Path(component)
    cache_dir = default_cache_dir(os.environ)
    with _open_tools(path, policy, cache_dir, not no_cache, in_process) as (tools, call):
        if list_tools:
            _list(path, tools, as_json)
            return 0
        metadata = _choose(tools, tool_name)
        if describe:
            _describe(path, metadata, as_json)
            return 0
        arguments = parse_tool_arguments(metadata, list(ctx.args), raw_args)
        try:
            canonical_arguments(metadata, arguments)
        except ArgumentsError as exc:
            raise click.UsageError(f"invalid arguments: {exc}") from None
        if not as_json:
            _print_metadata(path, metadata)
            click.echo()
            _echo("Executing tool...")
        result = call(metadata.name, arguments)
    return _report(result, as_json)


_Call = Callable[[str, Mapping[str, ArgValue]], ToolResult]


@contextmanager
def _open_tools(
    path: Path, policy: Policy, cache_dir: Path, cache: bool, in_process: bool
) -> Iterator[tuple[tuple[ToolMetadata, ...], _Call]]:
    """The component's tools and a way to call one by name: in one worker process, or here."""
    if in_process:
        with ToolRunner(policy=policy, cache_dir=cache_dir, cache=cache) as runner:
            by_name = {tool.name: tool for tool in runner.load_component(path)}
            metadata = tuple(tool.metadata for tool in by_name.values())
            yield metadata, lambda name, arguments: by_name[name].call(arguments)
        return
    settings = PoolSettings(workers=1)
    with WorkerPool([path], policy, cache_dir=cache_dir, cache=cache, settings=settings) as pool:
        yield pool.tools(), pool.call


def _choose(tools: Sequence[ToolMetadata], name: str | None) -> ToolMetadata:
    """The tool called `name`, or the only one; raises UsageError naming the choices."""
    names = ", ".join(tool.name for tool in tools)
    if name is None:
        if len(tools) != 1:
            raise click.UsageError(
                f"the component has {len(tools)} tools, choose one with --tool: {names}"
            )
        return tools[0]
    found = next((tool for tool in tools if tool.name == name), None)
    if found is None:
        raise click.UsageError(f"no tool {name!r} in the component (its tools: {names})")
    return found


def _list(path: Path, tools: Sequence[ToolMetadata], as_json: bool) -> None:
    if as_json:
        payload = {"path": str(path), "tools": [tool.model_dump(mode="json") for tool in tools]}
        click.echo(json.dumps(payload, indent=2))
        return
    for tool in tools:
        _echo(f"{tool.name}: {tool.description}")
        click.echo(json.dumps(tool.input_schema, indent=2))


def parse_tool_arguments(
    metadata: ToolMetadata, extra: list[str], raw_args: Sequence[str]
) -> dict[str, str]:
    """Phase two: parse `--<param> VALUE` options and `--arg NAME=VALUE` pairs."""
    options: list[click.Parameter] = []
    names: dict[str, str] = {}
    for index, param in enumerate(metadata.params):
        if not _OPTION_NAME.match(param.name):
            continue
        flags = {f"--{param.name}", f"--{param.name.replace('_', '-')}"}
        dest = f"p{index}"
        names[dest] = param.name
        options.append(click.Option(sorted(flags) + [dest], type=str, help=param.description))
    parser = click.Command("tool-runner", params=options, add_help_option=False)
    try:
        parsed = parser.make_context("tool-runner", extra)
    except click.NoSuchOption as exc:
        known = ", ".join(f"--{p.name}" for p in metadata.params) or "none"
        raise click.UsageError(f"{exc.format_message()} (this tool's options: {known})") from None
    arguments = {names[k]: v for k, v in parsed.params.items() if v is not None}
    for pair in raw_args:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.UsageError(f"invalid --arg {pair!r}: expected NAME=VALUE")
        if name in arguments:
            raise click.UsageError(f"parameter {name!r} is given twice")
        arguments[name] = value
    return arguments


def _print_metadata(path: Path, metadata: ToolMetadata) -> None:
    click.echo(f"Component path: {json.dumps(str(path))}")
    _echo("Tool metadata:")
    _echo(f"  Name: {metadata.name}")
    _echo(f"  Description: {metadata.description}")
    _echo(f"  Version: {metadata.version}")
    _echo("  Parameters:")
    for param in metadata.params:
        optional = "" if param.required else ", optional"
        _echo(f"    - {param.name}: {param.description} ({param.type}{_limits(param)}{optional})")


def _limits(param: ToolParam) -> str:
    """`, one of: a, b` or `, from 1 to 10` when the parameter declares them, else ''."""
    if param.enum:
        return ", one of: " + ", ".join(param.enum)
    if param.minimum is not None and param.maximum is not None:
        return f", from {param.minimum} to {param.maximum}"
    if param.minimum is not None:
        return f", at least {param.minimum}"
    return f", at most {param.maximum}" if param.maximum is not None else ""


def _describe(path: Path, metadata: ToolMetadata, as_json: bool) -> None:
    if as_json:
        payload = {
            "path": str(path),
            "metadata": metadata.model_dump(mode="json"),
            "schema": metadata.json_schema(),
        }
        click.echo(json.dumps(payload, indent=2))
        return
    _print_metadata(path, metadata)
    _echo(f"  World: {metadata.world}")
    if metadata.usage:
        _echo("  Usage examples:")
        for usage in metadata.usage:
            _echo(f"    - user: {usage.user}")
            _echo(f"      assistant: {usage.assistant}")
    _echo("JSON Schema:")
    click.echo(json.dumps(metadata.json_schema(), indent=2))


def _report(result: ToolResult, as_json: bool) -> int:
    if result.kind is ResultKind.INVALID_ARGUMENTS:
        _echo(f"tool-runner: error: invalid arguments: {result.error}", err=True)
        if as_json:
            click.echo(json.dumps(result.model_dump(mode="json")))
        return EXIT_USAGE
    if as_json:
        click.echo(json.dumps(result.model_dump(mode="json")))
        return 0 if result.ok else EXIT_TOOL_FAILURE
    if result.ok:
        _echo(f"[Success] Tool output: {result.output}")
    elif result.kind is ResultKind.TOOL_ERROR:
        _echo(f"[Error] {result.error}")
    else:
        _echo(f"[Error] {result.kind.value}: {result.error}")
    for line in result.log:
        _echo(f"[log] {line}")
    if result.stdout:
        _echo("[stdout]")
        _echo(result.stdout, nl=not result.stdout.endswith("\n"))
    if result.stderr:
        _echo("[stderr]", err=True)
        _echo(result.stderr, nl=not result.stderr.endswith("\n"), err=True)
    return 0 if result.ok else EXIT_TOOL_FAILURE


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `tool-runner` script (`tool-runner worker ...`: the NATS service)."""
    args = list(argv) if argv is not None else sys.argv[1:]
    if args[:1] == ["worker"]:
        from tool_runner import serve_cli

        serve_cli.main(args[1:])
        return
    command.main(args=args, prog_name="tool-runner")
