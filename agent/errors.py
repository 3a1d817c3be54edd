"""Errors raised by the agent package.

Host-side failures raise and stop the run with a one-line message; guest-side failures (a bad
tool call, a tool that fails) never raise: they become error results that go back to the model.

    AgentError
    ├── ConfigError            settings that cannot be used (bad flag combination, bad file)
    │   └── AppFileError       an app file (`app.toml`) that cannot be used: names key and line
    ├── ModelError             a model that will not load or generate
    │   └── ModelFileError     missing, truncated or not a GGUF file
    ├── TemplateError          a chat template that cannot be rendered
    ├── GrammarError           a GBNF grammar that does not validate (never sampled with)
    │   └── InvalidGrammarError  the grammar text breaks llama.cpp's GBNF rules (where, why)
    ├── EvalError              a benchmark suite that cannot be read or run (`agent eval`)
    ├── HistoryError           the run and chat history database (`agent logs`, --continue)
    └── ModelStoreError        the model registry and downloads
        ├── UnknownModelError          a name that is neither in the registry nor REPO/FILE.gguf
        ├── ModelNotDownloadedError    a known model that is not in the models dir (offline lookup)
        ├── ModelConflictError         the file name is taken by another repository's download
        ├── HubUnreachableError        no network, or HF_HUB_OFFLINE=1 while a download is needed
        ├── RemoteNotFoundError        the repository, revision or file does not exist on the hub
        ├── GatedModelError            the repository needs a token with access (log in)
        ├── DownloadError              a transfer that failed (HTTP error, cut); partial kept
        │   └── DownloadInterruptedError   Ctrl-C during a download; partial kept for resume
        ├── ChecksumMismatchError      the bytes do not match the hub's SHA-256; file removed
        ├── NotEnoughSpaceError        the disk cannot hold the file (checked first, or disk full)
        └── PackageIndexError          pip could not fetch the model's wheel, or it lacks the file
"""

from __future__ import annotations

from agent.sizes import format_size


class AgentError(Exception):
    """Base of every error the agent package raises on purpose."""


class ConfigError(AgentError):
    """Settings that cannot be used."""


class AppFileError(ConfigError):
    """An app file that cannot be used; carries the file, the key (dotted) and its line."""

    def __init__(self, path: str, key: str, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")
        self.path = path
        self.key = key
        self.line = line
        self.reason = message


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


class InvalidGrammarError(GrammarError):
    """GBNF text llama.cpp would reject; carries the reason, the rule and the line/column."""

    def __init__(self, reason: str, *, rule: str | None, line: int, column: int) -> None:
        where = f"line {line}, column {column}" + (f" (rule '{rule}')" if rule else "")
        super().__init__(f"invalid GBNF grammar at {where}: {reason}")
        self.reason = reason
        self.rule = rule
        self.line = line
        self.column = column


class EvalError(AgentError):
    """A benchmark suite that cannot be read or run."""


class HistoryError(AgentError):
    """The history database cannot be opened, read or written, or names no such conversation."""


class ModelStoreError(AgentError):
    """The model registry or a download failed."""


class UnknownModelError(ModelStoreError):
    """A model name that is not in the registry and not of the form REPO/FILE.gguf."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(
            f"unknown model {name!r}: use one of {', '.join(known)}, "
            "a Hugging Face OWNER/REPO/FILE.gguf, or a path to a .gguf file"
        )
        self.name = name
        self.known = known


class ModelNotDownloadedError(ModelStoreError):
    """A model that is not in the models directory; looking it up never downloads it."""

    def __init__(
        self, name: str, models_dir: str, *, is_path: bool = False, removing: bool = False
    ) -> None:
        if removing:
            message = (
                f"model {name!r} is not downloaded: nothing to remove in {models_dir} "
                "(`agent models list` shows what is)"
            )
        elif is_path:
            message = (
                f"no model file {name} (nor in {models_dir}): pass the path of an existing "
                "GGUF file, or download one with `agent models download NAME`"
            )
        else:
            message = (
                f"model {name!r} is not downloaded (looked in {models_dir}): run "
                f"`agent models download {name}`, or pass a GGUF file with -m PATH"
            )
        super().__init__(message)
        self.name = name
        self.models_dir = models_dir


class ModelConflictError(ModelStoreError):
    """The models directory holds a file of the same name downloaded from another repository."""

    def __init__(self, filename: str, repo: str, other: str, models_dir: str) -> None:
        super().__init__(
            f"{models_dir}/{filename} was downloaded from {other}, not {repo}: remove it with "
            f"`agent models remove {filename}` or use another --models-dir"
        )
        self.filename = filename
        self.repo = repo
        self.other = other


class HubUnreachableError(ModelStoreError):
    """The hub cannot be reached: no network, or offline mode (HF_HUB_OFFLINE=1)."""

    def __init__(self, endpoint: str, reason: str) -> None:
        super().__init__(
            f"cannot reach the Hugging Face Hub ({endpoint}: {reason}): download the file "
            "elsewhere and pass it with -m path/to/file.gguf; for the demo, run with "
            "MODEL=path/to/file.gguf make run-agent"
        )
        self.endpoint = endpoint
        self.reason = reason


class RemoteNotFoundError(ModelStoreError):
    """The repository, revision or file does not exist on the hub (or is private)."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"{what} not found on the Hugging Face Hub: {detail}")
        self.what = what
        self.detail = detail


class GatedModelError(ModelStoreError):
    """A gated or private repository that needs a token with access."""

    def __init__(self, repo: str) -> None:
        super().__init__(
            f"{repo} is gated: accept its licence on https://huggingface.co/{repo}, then run "
            "`hf auth login` (`huggingface-cli login` in older versions) or set HF_TOKEN"
        )
        self.repo = repo


class DownloadError(ModelStoreError):
    """A transfer that failed part-way; the partial file is kept so that a rerun resumes."""

    def __init__(
        self, filename: str, reason: str, partial: str | None = None, *, transient: bool = False
    ) -> None:
        kept = f" (partial file kept at {partial}; rerun to resume)" if partial else ""
        super().__init__(f"download of {filename} failed: {reason}{kept}")
        self.filename = filename
        self.reason = reason
        self.partial = partial
        # a cut connection or a timeout, worth resuming at once; an HTTP 403 is not
        self.transient = transient


class DownloadInterruptedError(DownloadError):
    """Ctrl-C during a download; the partial file is kept for resume."""

    def __init__(self, filename: str, partial: str, done: int) -> None:
        super().__init__(filename, f"interrupted after {format_size(done)}", partial)
        self.done = done


class ChecksumMismatchError(ModelStoreError):
    """Downloaded bytes whose SHA-256 differs from the hub's; the bad file has been removed."""

    def __init__(self, filename: str, expected: str, actual: str) -> None:
        super().__init__(
            f"checksum mismatch for {filename}: expected sha256 {expected}, got {actual}; "
            "the bad file was removed, run the download again"
        )
        self.filename = filename
        self.expected = expected
        self.actual = actual


class NotEnoughSpaceError(ModelStoreError):
    """The models directory's disk cannot hold the file."""

    def __init__(
        self, filename: str, needed: int, free: int, directory: str, partial: str | None = None
    ) -> None:
        kept = (
            f" (partial file kept at {partial}: free some space and rerun to resume, "
            "or remove it with `agent models remove`)"
            if partial
            else ""
        )
        super().__init__(
            f"not enough disk space for {filename}: needs {format_size(needed)} more, "
            f"{format_size(free)} free in {directory}{kept}"
        )
        self.partial = partial
        self.filename = filename
        self.needed = needed
        self.free = free
        self.directory = directory


class PackageIndexError(ModelStoreError):
    """A model's copy on the package index could not be had: pip failed, the wheel lacks the
    file, or the model has no package-index source."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"cannot fetch {what} from the package index: {reason}")
        self.what = what
        self.reason = reason
