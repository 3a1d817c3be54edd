"""`ToolSet`: the tools a worker serves, loaded from component files or a tools directory, and
reloaded from that directory when it changes (hot-load).

    tools = ToolSet(runner, files=[], directory=Path("components"), policy=policy)
    tools.tool("Echo").call({"value": "hi"})
    problems = tools.refresh()   # after the directory changed: one line per broken component

The first load raises `LoadError` (also for two components with the same tool name, unless
`unique_names`: then each tool whose name several components share is served as
`<load name>.<name>`, the load name being the file's stem, e.g. `echo-copy.Echo`). A refresh
never raises: a new or replaced component that does not load is reported in one line and the
previous version of that file, if any, keeps serving; a removed file's tool goes away.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tool_runner.errors import LoadError
from tool_runner.grants import load_name
from tool_runner.metadata import ToolMetadata
from tool_runner.policy import Policy
from tool_runner.runner import Tool, ToolRunner


@dataclass(frozen=True)
class _Loaded:
    tools: tuple[Tool, ...]  # a component's tools: one, or one per exported function
    signature: tuple[int, int, int]


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class ToolSet:
    """Tools loaded by `runner` under `policy`: `files`, plus every `*.wasm` in `directory`."""

    def __init__(
        self,
        runner: ToolRunner,
        *,
        files: Sequence[Path] = (),
        directory: Path | None = None,
        policy: Policy | None = None,
        unique_names: bool = False,
    ) -> None:
        self._runner = runner
        self._files = tuple(files)
        self._directory = directory
        self._policy = policy
        self._unique = unique_names
        self._loaded: dict[Path, _Loaded] = {}
        self.generation = 0
        sources = self._sources()
        signatures = [_signature(path) or (0, 0, 0) for path in sources]  # before the bytes
        by_path: dict[Path, list[Tool]] = {}
        for tool in self._load_first(sources):
            by_path.setdefault(tool.path, []).append(tool)
        self._loaded = {
            path: _Loaded(tuple(by_path.get(path, ())), signature)
            for path, signature in zip(sources, signatures, strict=True)
        }

    def _load_first(self, sources: list[Path]) -> list[Tool]:
        if not self._unique:
            return self._runner.load_all(sources, self._policy)
        (self._policy or self._runner.policy).check_scoped([load_name(p) for p in sources])
        alone = len(sources) == 1
        return [
            tool
            for path in sources
            for tool in self._runner.load_component(path, self._policy, alone=alone)
        ]

    def _named(self) -> dict[str, Tool]:
        """Every tool by the name it is served under: its own, or with `unique_names` and a
        name that several components share, `<load name>.<name>`."""
        every = self._every()
        counts = Counter(tool.name for tool in every)
        return {
            (
                f"{tool.key}.{tool.name}" if self._unique and counts[tool.name] > 1 else tool.name
            ): tool
            for tool in every
        }

    def _sources(self) -> list[Path]:
        found = list(self._files)
        if self._directory is not None:
            if not self._directory.is_dir():
                raise LoadError(self._directory, "not a directory")
            found += sorted(self._directory.glob("*.wasm"))
        return found

    def _load(self, path: Path, alone: bool) -> _Loaded:
        signature = _signature(path) or (0, 0, 0)
        tools = self._runner.load_component(path, self._policy, alone=alone)
        return _Loaded(tuple(tools), signature)

    def _drop_name_clashes(self) -> list[str]:
        seen: dict[str, Path] = {}
        problems = []
        for path in sorted(self._loaded):
            names = [tool.name for tool in self._loaded[path].tools]
            name = next((name for name in names if name in seen), None)
            if name is not None:
                error = LoadError(path, f"tool name {name!r} is already used by {seen[name]}")
                problems.append(str(error))
                del self._loaded[path]
            else:
                seen.update(dict.fromkeys(names, path))
        return problems

    def tools(self) -> tuple[ToolMetadata, ...]:
        """Every tool's metadata under the name it is served as, sorted by name."""
        served = [
            tool.metadata if name == tool.name else tool.metadata.model_copy(update={"name": name})
            for name, tool in self._named().items()
        ]
        return tuple(sorted(served, key=_by_name))

    def tool(self, name: str) -> Tool | None:
        """The tool served as exactly `name`, or None."""
        return self._named().get(name)

    def loaded(self) -> tuple[Tool, ...]:
        """Every loaded tool, sorted by name (with its load name, digest and own policy)."""
        return tuple(sorted(self._every(), key=lambda t: t.name))

    def _every(self) -> list[Tool]:
        return [tool for entry in self._loaded.values() for tool in entry.tools]

    def refresh(self) -> list[str]:
        """Reload what changed in the directory; one line per component that did not load."""
        if self._directory is None:
            return []
        try:
            current = set(self._sources())
        except LoadError as exc:
            return [str(exc)]
        problems = []
        for path in sorted(set(self._loaded) - current - set(self._files)):
            for tool in self._loaded.pop(path).tools:
                tool.close()
        for path in sorted(current):
            known = self._loaded.get(path)
            if known is not None and known.signature == _signature(path):
                continue
            try:
                # a tool joining a directory never gets grants that name no tool
                self._loaded[path] = self._load(path, alone=len(current) == 1)
            except LoadError as exc:
                kept = "; the previous version keeps serving" if known else ""
                problems.append(f"{exc}{kept}")
        if not self._unique:
            problems += self._drop_name_clashes()
        self.generation += 1
        return problems


def _by_name(metadata: ToolMetadata) -> str:
    return metadata.name
