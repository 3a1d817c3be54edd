#!/usr/bin/env bash
# Install llama-cpp-python into the given Python, building llama.cpp from source once per set of
# build flags. pip's own wheel cache ignores CMAKE_ARGS/CFLAGS and would silently hand back a
# wheel built with other flags, so we keep our own cache keyed on the version and every flag.
#
# Usage: scripts/install-llama.sh PYTHON
# Environment:
#   LLAMA_CPP_VERSION    version to build (default below)
#   CMAKE_ARGS           extra CMake flags, e.g. "-DGGML_CUDA=on" or "-DGGML_METAL=on"
#   LLAMA_CFLAGS         C/C++ flags (default: native build without AMX, see README)
#   WHEEL_CACHE          cache root (default: ${XDG_CACHE_HOME:-~/.cache}/llm-agent/wheels)
set -euo pipefail
python=${1:?usage: install-llama.sh PYTHON}
version=${LLAMA_CPP_VERSION:-0.3.36}
# These VMs advertise AMX but fault on it; keep every other -march=native optimisation.
cflags=${LLAMA_CFLAGS--mno-amx-tile -mno-amx-int8 -mno-amx-bf16}
cmake_args="-DLLAVA_BUILD=OFF ${CMAKE_ARGS:-}"
root=${WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-agent/wheels}
key=$(printf '%s\n' "$version" "$cmake_args" "$cflags" "$(uname -m)" "$("$python" -c 'import sys; print(sys.implementation.cache_tag)')" | sha256sum | cut -c1-16)
dir="$root/llama-cpp-python-$version-$key"

installed=$("$python" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))' 2>/dev/null || true)
stamp="$("$python" -c 'import sys; print(sys.prefix)')/.llama-build-key"
if [ "$installed" = "$version" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
  exit 0
fi
if ! ls "$dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "Building llama-cpp-python $version (llama.cpp from source, a few minutes)"
  echo "  CMAKE_ARGS=$cmake_args"
  echo "  CFLAGS/CXXFLAGS=$cflags"
  mkdir -p "$dir.tmp"
  CMAKE_ARGS="$cmake_args" CFLAGS="$cflags" CXXFLAGS="$cflags" \
    "$python" -m pip wheel --no-deps --no-cache-dir --no-binary llama-cpp-python \
    -w "$dir.tmp" "llama-cpp-python==$version"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
"$python" -m pip install --quiet --force-reinstall --no-deps "$dir"/llama_cpp_python-*.whl
echo "$key" > "$stamp"
