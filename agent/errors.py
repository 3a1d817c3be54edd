"""Errors raised by the agent package.

Host-side failures raise and stop the run with a one-line message; guest-side failures (a bad
tool call, a tool that fails) never raise: they become error results that go back to the model.

    AgentError
    ├── ConfigError            settings that cannot be used (bad flag combination, bad file)
    ├── ModelError             a model that will not load or generate
    │   └── ModelFileError     missing, truncated or not a GGUF file
    ├── TemplateError          a chat template that cannot be rendered
    ├── GrammarError           a GBNF grammar that does not validate (never sampled with)
    └── ModelStoreError        the model registry and downloads
"""

from __future__ import annotations


class AgentError(Exception):
    """Base of every error the agent package raises on purpose."""


class ConfigError(AgentError):
    """Settings that cannot be used."""


class ModelError(AgentError):
    """A model that will not load or generate."""


class ModelFileError(ModelError):
    """A model file that is missing, truncated or not GGUF."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot load model {path}: {reason}")
        self.path = path
        self.reason = reason


class TemplateError(AgentError):
    """A chat template that cannot be rendered."""


class GrammarError(AgentError):
    """A GBNF grammar that does not validate."""


class ModelStoreError(AgentError):
    """The model registry or a download failed."""
