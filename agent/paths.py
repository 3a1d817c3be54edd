"""Where the agent keeps the user's things, outside any checkout (platformdirs' user dirs).

    paths = user_paths(os.environ)
    paths.config_file   # ~/.config/llm-agent/config.toml           ($LLM_AGENT_CONFIG_DIR)
    paths.models_dir    # ~/.local/share/llm-agent/models            ($LLM_AGENT_DATA_DIR/models)
    paths.tools_dir     # ~/.local/share/llm-agent/tools             (built/installed components)
    paths.library_dir   # ~/.local/share/llm-agent/library           (tools the agent wrote)
    paths.logs_db       # ~/.local/share/llm-agent/logs.db           (run and chat history)
    paths.policy_file   # ~/.config/llm-agent/policy.toml            (grants a person approved)
    paths.tools_lock    # ~/.config/llm-agent/tools.lock             (pinned components)

`$LLM_AGENT_CONFIG_DIR` and `$LLM_AGENT_DATA_DIR` move the two roots (tests point them at a
temporary folder); `$XDG_CONFIG_HOME`/`$XDG_DATA_HOME` are honoured through platformdirs on
Linux. Nothing here creates a folder: the code that writes one creates it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict

APP_NAME = "llm-agent"
CONFIG_DIR_ENV = "LLM_AGENT_CONFIG_DIR"
DATA_DIR_ENV = "LLM_AGENT_DATA_DIR"


class UserPaths(BaseModel):
    """The user's config and data roots and the files and folders under them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    config_dir: Path
    data_dir: Path

    @property
    def config_file(self) -> Path:
        """The user's settings file (TOML, the flags' names as keys)."""
        return self.config_dir / "config.toml"

    @property
    def policy_file(self) -> Path:
        """The user's sandbox policy (grants approved with "always" are written here)."""
        return self.config_dir / "policy.toml"

    @property
    def tools_lock(self) -> Path:
        """The components' pinned sha256s (`agent tools lock`; `tool_runner.lock`)."""
        return self.config_dir / "tools.lock"

    @property
    def models_dir(self) -> Path:
        """Downloaded GGUF models."""
        return self.data_dir / "models"

    @property
    def tools_dir(self) -> Path:
        """Tool components available from any directory."""
        return self.data_dir / "tools"

    @property
    def library_dir(self) -> Path:
        """Tools the agent wrote and a person approved (issue 16)."""
        return self.data_dir / "library"

    @property
    def logs_db(self) -> Path:
        """The SQLite history of runs and chats."""
        return self.data_dir / "logs.db"


def checkout_folder(name: str, cwd: Path) -> Path | None:
    """`name` (`models`, `components`) in this project's own checkout when the agent runs from
    its root (an editable install used from the repository) and the folder exists; else None.
    Any other directory's folders are never picked up by themselves."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file() or cwd.resolve() != root:
        return None
    folder = root / name
    return folder if folder.is_dir() else None


def user_paths(environ: Mapping[str, str]) -> UserPaths:
    """The user's paths, from `environ`'s overrides or platformdirs' defaults for this OS."""
    config = environ.get(CONFIG_DIR_ENV) or platformdirs.user_config_dir(APP_NAME, appauthor=False)
    data = environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir(APP_NAME, appauthor=False)
    return UserPaths(config_dir=Path(config).expanduser(), data_dir=Path(data).expanduser())


__all__ = [
    "APP_NAME",
    "CONFIG_DIR_ENV",
    "DATA_DIR_ENV",
    "UserPaths",
    "checkout_folder",
    "user_paths",
]
