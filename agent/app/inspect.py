"""What `agent app check`, `info` and `clean` report, as data (the CLI renders it).

`check_app` loads every component under its own policy (in this process, no workers) and
resolves every model file without loading a model; `app_info` adds the app's sessions and what
is cached; `clean` removes the compiled-component cache and stale partial downloads and says
how many bytes that freed.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from agent.app.plan import App, ResolvedGrants
from agent.app.sessions import SessionStore, summary
from agent.app.team import model_settings, open_tool, refuse_clashes
from agent.models.store import PARTIAL_DIR, PARTIAL_SUFFIX, ModelStore
from agent.session import LlamaLoader, ModelLoader

STALE_PARTIAL_S = 24 * 3600
"""A partial download untouched this long is stale (a newer one would have resumed it)."""


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GrantsReport(_Report):
    """Grants as the user wrote them, resolved (directories absolute)."""

    dirs: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    memory: bool = False

    @classmethod
    def of(cls, grants: ResolvedGrants) -> GrantsReport:
        """The report of resolved grants."""
        dirs = tuple(f"{d.host}:{d.guest}:{'rw' if d.writable else 'ro'}" for d in grants.dirs)
        env = tuple(spec.partition("=")[0] for spec in grants.env)  # never print a value
        return cls(dirs=dirs, env=env, hosts=grants.hosts, memory=grants.memory)

    def text(self) -> str:
        """One line: what is granted, or "nothing"."""
        parts = [
            *(f"dir {d}" for d in self.dirs),
            *(f"env {e}" for e in self.env),
            *(f"host {h}" for h in self.hosts),
            *(["memory"] if self.memory else []),
        ]
        return ", ".join(parts) or "nothing"


class ToolReport(_Report):
    """One tool entry: its components, the tools they export, its grants."""

    name: str
    components: tuple[str, ...]
    sha256: tuple[str, ...]
    tools: tuple[str, ...]
    grants: GrantsReport


class AgentReport(_Report):
    """One agent: its model, the tools and agents it is offered, its grants."""

    name: str
    description: str
    model: str
    tools: tuple[str, ...]
    delegates: tuple[str, ...]
    grants: GrantsReport
    entry: bool = False


class ModelReport(_Report):
    """One model entry and the file it resolves to."""

    name: str
    model: str
    path: str
    size: int


class AppReport(_Report):
    """What `check` found: every agent, tool and model of a valid app."""

    app: str
    path: str
    entry: str
    max_depth: int
    max_total_steps: int
    longest_chain: tuple[str, ...]
    agents: tuple[AgentReport, ...]
    tools: tuple[ToolReport, ...]
    models: tuple[ModelReport, ...]


class InfoReport(AppReport):
    """`check`'s report plus the app's sessions and the caches."""

    sessions: dict[str, str] = {}
    compile_cache: str = ""
    compile_cache_bytes: int = 0


class CleanReport(_Report):
    """What `clean` removed (or would remove with `dry_run`)."""

    removed: tuple[str, ...]
    freed_bytes: int
    dry_run: bool = False


def check_app(
    app: App,
    *,
    loader: ModelLoader | None = None,
    cache_dir: Path | None = None,
    models_dir: Path | None = None,
) -> AppReport:
    """Load every component of `app` and resolve every model (without loading it); raises
    what loading raises (AppFileError, tool_runner.LoadError, ModelStoreError)."""
    loader = loader if loader is not None else LlamaLoader()
    exported: dict[str, tuple[str, ...]] = {}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as scratch:
        memory = Path(scratch) / "memory.sqlite"  # a memory grant needs a file; never written
        for name in app.spec.tools:
            opening = open_tool(app, name, "check", cache_dir, memory, in_process=True)
            exported[name] = tuple(spec.name for spec in stack.enter_context(opening).specs())
    tool_names = {agent: _offered(app, agent, exported) for agent in app.spec.agents}
    tools = tuple(_tool_report(app, name, exported[name]) for name in app.spec.tools)
    models = []
    for name, entry in app.spec.models.items():
        path = loader.resolve(model_settings(app, name, models_dir))
        size = path.stat().st_size if path.is_file() else 0
        models.append(ModelReport(name=name, model=entry.model, path=str(path), size=size))
    agents = tuple(
        AgentReport(
            name=name,
            description=entry.description,
            model=entry.model,
            tools=tool_names.get(name, ()),
            delegates=tuple(app.delegates(name)),
            grants=GrantsReport.of(app.agent_grants[name]),
            entry=name == app.spec.app.entry,
        )
        for name, entry in app.spec.agents.items()
    )
    return AppReport(
        app=app.name,
        path=str(app.path),
        entry=app.spec.app.entry,
        max_depth=app.spec.app.max_depth,
        max_total_steps=app.spec.app.max_total_steps,
        longest_chain=tuple(app.depth_from_entry()),
        agents=agents,
        tools=tools,
        models=tuple(models),
    )


def _offered(app: App, agent: str, exported: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The tool names `agent` is offered; two of the same name are refused as `Team` does."""
    names = [tool for entry in app.tools_of(agent) for tool in exported[entry]]
    names.extend(app.delegates(agent))
    refuse_clashes(app, agent, names)
    return tuple(sorted(names))


def _tool_report(app: App, name: str, exported: tuple[str, ...]) -> ToolReport:
    entry = app.spec.tools[name]
    if entry.component is not None:
        files = [app.resolve_path(entry.component)]
    else:
        assert entry.dir is not None  # the schema requires one of them
        files = sorted(app.resolve_path(entry.dir).glob("*.wasm"))
    return ToolReport(
        name=name,
        components=tuple(str(f) for f in files),
        sha256=tuple(hashlib.sha256(f.read_bytes()).hexdigest() for f in files),
        tools=exported,
        grants=GrantsReport.of(app.tool_grants[name]),
    )


def app_info(
    app: App,
    *,
    data_dir: Path,
    cache_dir: Path,
    loader: ModelLoader | None = None,
    models_dir: Path | None = None,
) -> InfoReport:
    """`check_app`'s report with the app's sessions and the compiled-component cache."""
    report = check_app(app, loader=loader, cache_dir=cache_dir, models_dir=models_dir)
    store = SessionStore.for_app(app, data_dir)
    sessions = {name: summary(store.load(name)) for name in store.sessions()}
    return InfoReport(
        **report.model_dump(),
        sessions=sessions,
        compile_cache=str(cache_dir),
        compile_cache_bytes=_size(cache_dir),
    )


def clean(*, cache_dir: Path, models_dir: Path | None = None, dry_run: bool = False) -> CleanReport:
    """Remove the compiled-component cache and partial downloads untouched for a day."""
    targets: list[Path] = []
    if cache_dir.is_dir():
        targets.append(cache_dir)
    partials = ModelStore(models_dir).models_dir / PARTIAL_DIR
    if partials.is_dir():
        now = time.time()
        targets.extend(
            path
            for path in sorted(partials.glob(f"*{PARTIAL_SUFFIX}"))
            if now - path.stat().st_mtime > STALE_PARTIAL_S
        )
    freed = sum(_size(path) for path in targets)
    if not dry_run:
        for path in targets:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    return CleanReport(removed=tuple(str(p) for p in targets), freed_bytes=freed, dry_run=dry_run)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    if not path.is_dir():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


__all__ = [
    "AgentReport",
    "AppReport",
    "CleanReport",
    "InfoReport",
    "ModelReport",
    "ToolReport",
    "app_info",
    "check_app",
    "clean",
]
