#!/usr/bin/env bash
# Build llama.cpp's own `llama-bench` and `llama-server` from the llama.cpp sources vendored in the
# llama-cpp-python sdist of the installed version, with the same flags as our wheel
# (scripts/install-llama.sh), so that the native baseline runs the very code the agent runs.
# Cached like the wheel, keyed on the version and every flag; a second run only prints the paths.
#
# Usage: scripts/build-llama-tools.sh [PYTHON]      (default .venv/bin/python)
# Prints two lines: `llama-bench PATH` and `llama-server PATH`.
# Environment:
#   LLAMA_CPP_VERSION    version whose sources to build (default: the one installed in PYTHON)
#   CMAKE_ARGS           extra CMake flags, as for install-llama.sh
#   LLAMA_CFLAGS         C/C++ flags (default: native build without AMX, as install-llama.sh)
#   LLAMA_TOOLS_CACHE    cache root (default: ${XDG_CACHE_HOME:-~/.cache}/llm-agent/llama-tools)
#   BUILD_JOBS           parallel compile jobs (default: the number of cores)
set -euo pipefail
python=${1:-.venv/bin/python}
version=${LLAMA_CPP_VERSION:-$("$python" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))' 2>/dev/null || true)}
if [ -z "$version" ]; then
  echo "build-llama-tools: llama-cpp-python is not installed in $python (run scripts/install-llama.sh $python)" >&2
  exit 2
fi
# The same defaults and the same key inputs as install-llama.sh: one set of flags for both.
cflags=${LLAMA_CFLAGS--mno-amx-tile -mno-amx-int8 -mno-amx-bf16}
cmake_args="-DLLAVA_BUILD=OFF ${CMAKE_ARGS:-}"
root=${LLAMA_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-agent/llama-tools}
key=$(printf '%s\n' "$version" "$cmake_args" "$cflags" "$(uname -m)" | sha256sum | cut -c1-16)
dir="$root/llama-cpp-$version-$key"
tools=(llama-bench llama-server)

built() {
  for tool in "${tools[@]}"; do [ -x "$dir/bin/$tool" ] || return 1; done
}

if ! built; then
  echo "Building ${tools[*]} from llama-cpp-python $version's llama.cpp (a few minutes)" >&2
  echo "  CMAKE_ARGS=$cmake_args" >&2
  echo "  CFLAGS/CXXFLAGS=$cflags" >&2
  work=$(mktemp -d "${TMPDIR:-/tmp}/llama-tools.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  "$python" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
    -d "$work" "llama-cpp-python==$version" >&2
  tar -xzf "$work"/llama_cpp_python-"$version".tar.gz -C "$work"
  src="$work/llama_cpp_python-$version/vendor/llama.cpp"
  [ -f "$src/CMakeLists.txt" ] || { echo "build-llama-tools: no vendored llama.cpp in the sdist" >&2; exit 1; }
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  # Static executables (the wheel's libraries are shared; the code compiled is the same), no
  # libcurl (models are files here). -DLLAVA_BUILD is llama-cpp-python's own and unused here.
  # shellcheck disable=SC2086 # CMAKE_ARGS is a list of flags
  CFLAGS="$cflags" CXXFLAGS="$cflags" cmake -S "$src" -B "$work/build" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -Wno-dev $cmake_args >&2
  cmake --build "$work/build" --target "${tools[@]}" -j "${BUILD_JOBS:-$(nproc)}" >&2
  mkdir -p "$dir.tmp/bin"
  for tool in "${tools[@]}"; do cp "$work/build/bin/$tool" "$dir.tmp/bin/"; done
  printf 'llama-cpp-python %s\nCMAKE_ARGS=%s\nCFLAGS=%s\n' "$version" "$cmake_args" "$cflags" \
    > "$dir.tmp/flags.txt"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
for tool in "${tools[@]}"; do echo "$tool $dir/bin/$tool"; done
