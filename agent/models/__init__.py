"""Model management: the registry of known GGUF models, the models directory, downloads.

    from agent.models import REGISTRY, ModelEntry, ModelStore, resolve_model, download_model

`resolve_model` (used to load a model) never touches the network. `download_model` is the only
entry point that does, through `agent.models.hub`, which is imported only when a download needs
it, so that listing or resolving models stays light.
"""

from __future__ import annotations

from pathlib import Path

from agent.models.download import (
    DownloadProgress,
    HubClient,
    HubSettings,
    ProgressCallback,
    RemoteFile,
    RemoteStream,
    download,
)
from agent.models.registry import REGISTRY, ModelEntry, ModelRef, find_entry, parse_ref
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
    "DownloadProgress",
    "HubClient",
    "HubSettings",
    "ModelEntry",
    "ModelRef",
    "ModelStatus",
    "ModelStore",
    "ProgressCallback",
    "RemoteFile",
    "RemoteStream",
    "default_models_dir",
    "download_model",
    "find_entry",
    "parse_ref",
    "resolve_model",
]


def download_model(
    name: str,
    *,
    models_dir: Path | None = None,
    settings: HubSettings | None = None,
    on_progress: ProgressCallback | None = None,
    revision: str | None = None,
    client: HubClient | None = None,
) -> Path:
    """Download a registry model or `OWNER/REPO/FILE.gguf` once; return the local file.

    A file already in the models directory is returned without any network call. `settings`
    defaults to `HubSettings.from_env()`; `client` to the Hugging Face Hub client. Raises the
    `ModelStoreError` subclasses listed in `agent.errors` (one-line messages).
    """
    ref = parse_ref(name)
    if revision is not None:
        ref = ref.model_copy(update={"revision": revision})
    store = ModelStore(models_dir)
    found = store.find(ref)
    if found is not None:
        return found
    settings = settings if settings is not None else HubSettings.from_env()
    if client is None:
        from agent.models.hub import HfHubClient  # imports huggingface_hub: only when needed

        client = HfHubClient(settings)
    return download(ref, store, client, settings, on_progress)
