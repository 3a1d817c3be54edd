"""Apps and agent teams from one config file (`app.toml`).

    app = load_app(Path("examples/team/app.toml"))        # checked, or one-line AppFileError
    with Team.open(app, session_store.memory_file("work")) as team:
        reply = team.ask("What is 17 * 23?", observe=print)

`agent.app.schema` is the file's shape, `agent.app.plan` reads and checks it, `agent.app.team`
runs the agents (delegation, limits, shared models), `agent.app.sessions` keeps a session's
conversation and memory between runs, and `agent.app.inspect` reports what `check`/`info`/`clean`
print.
"""

from agent.app.plan import App, load_app
from agent.app.schema import AgentEntry, AppFile, Grants, ModelEntry, ToolEntry
from agent.app.team import Team, TeamEvent, TeamReply

__all__ = [
    "AgentEntry",
    "App",
    "AppFile",
    "Grants",
    "ModelEntry",
    "Team",
    "TeamEvent",
    "TeamReply",
    "ToolEntry",
    "load_app",
]
