# Tool components: included by the root Makefile, which defines VENV, PY and VENV_STAMP. Every
# component is a file rule on its sources, so a second `make components` does nothing; the
# toolchains (zig, componentize-py and the Bytecode Alliance `wasm-tools` binary, all PyPI wheels
# in .venv) are order-only prerequisites: a refreshed venv does not rebuild every tool. See
# tools/README.md.
#
# C tools (the seed's flow, with zig in place of cargo):
#   tools/<t>/*.c --zig cc, wasm32-wasi reactor--> tools/<t>/build/<t>_tool.core.wasm
#     --component embed (WIT, world tool-world)--> tools/<t>/build/<t>_tool.wasm  (core module)
#     --component new --adapt <preview1 reactor adapter>--> components/<t>-tool-component.wasm
# Python tools: tools/<t>/app.py --componentize-py--> components/<t>-tool-component.wasm
# wasm-tools writes its output in place: each step writes OUT.tmp and renames it, so that an
# interrupted build never leaves a half file that make would take as up to date.

C_TOOLS := echo print
PY_TOOLS := calculator datetime files http-get
TOOL_COMPONENTS := $(foreach t,$(C_TOOLS) $(PY_TOOLS),components/$(t)-tool-component.wasm)

TOOL_WIT := wit-lib/tool/tool.wit
WIT_ADAPTER := wit-lib/wasi_snapshot_preview1.reactor.wasm
C_GLUE := wit-lib/c/llm_agent_tool.h
WASM_TOOLS := $(VENV)/bin/wasm-tools
ZIG_CC := $(PY) -m ziglang cc -target wasm32-wasi -mexec-model=reactor
TOOL_CFLAGS := -Os -Wall -Wextra -Werror -Iwit-lib/c -Wl,--strip-all

# componentize-py adds $VIRTUAL_ENV's site-packages (or else the running Python's) to what it
# bundles: point it at an empty one so that a component holds only what its tool imports.
PY_GUEST := $(wildcard tools/pyguest/*.py)
NO_SITE := tools/pyguest/build/no-site/lib/site-packages
COMPONENTIZE := VIRTUAL_ENV=$(abspath tools/pyguest/build/no-site) \
	$(VENV)/bin/componentize-py -q
TZDATA_VERSION := 2026.6
TZDATA_DIR := tools/datetime/build/deps

# Per tool: the WIT package, the world, extra prerequisites and extra -p paths (default:
# llm-agent:tool@0.1.0, tool-world, none). 0.2.0 types the enums and bounds (wit-lib/README).
WIT_calculator := wit-lib/tool-0.2
WIT_datetime := wit-lib/tool-0.2
WIT_http-get := wit-lib/tool-0.2
WORLD_http-get := host-tool-world
DEPS_datetime := $(TZDATA_DIR)/.tzdata-$(TZDATA_VERSION)
PATH_datetime := -p $(TZDATA_DIR)

.PHONY: components echo-tool echo-component run-echo-tool inspect-echo-tool

components: $(TOOL_COMPONENTS) ## Build every tool into components/ (incremental)

echo-tool: tools/echo/build/echo_tool.wasm ## Compile the C echo tool to a core wasm module (wasm32-wasi)

echo-component: components/echo-tool-component.wasm ## Turn the echo module into a component

run-echo-tool: components/echo-tool-component.wasm | $(VENV_STAMP) ## Run the echo component with --value "Hello"
	$(VENV)/bin/tool-runner -c components/echo-tool-component.wasm --value "Hello"

inspect-echo-tool: components/echo-tool-component.wasm | $(VENV_STAMP) ## Print the echo component's WIT (imports and exports)
	$(WASM_TOOLS) component wit components/echo-tool-component.wasm

# $(1): the tool's folder name under tools/.
define C_TOOL_RULES
tools/$(1)/build/$(1)_tool.core.wasm: $(wildcard tools/$(1)/*.c tools/$(1)/*.h) $(C_GLUE) | $(VENV_STAMP)
	@mkdir -p $$(@D)
	$(ZIG_CC) $(TOOL_CFLAGS) -o $$@ $(wildcard tools/$(1)/*.c)

tools/$(1)/build/$(1)_tool.wasm: tools/$(1)/build/$(1)_tool.core.wasm $(TOOL_WIT) | $(VENV_STAMP)
	$(WASM_TOOLS) component embed $(TOOL_WIT) --world tool-world -o $$@.tmp $$< && mv $$@.tmp $$@

components/$(1)-tool-component.wasm: tools/$(1)/build/$(1)_tool.wasm $(WIT_ADAPTER) | $(VENV_STAMP)
	@mkdir -p $$(@D)
	$(WASM_TOOLS) component new $$< --adapt $(WIT_ADAPTER) -o $$@.tmp && mv $$@.tmp $$@
endef

define PY_TOOL_RULES
components/$(1)-tool-component.wasm: $(wildcard tools/$(1)/*.py) $(PY_GUEST) $(or $(WIT_$(1)),wit-lib/tool)/tool.wit $(DEPS_$(1)) | $(NO_SITE) $(VENV_STAMP)
	@mkdir -p $$(@D) tools/$(1)/build
	$(COMPONENTIZE) -d $(or $(WIT_$(1)),wit-lib/tool) -w $(or $(WORLD_$(1)),tool-world) componentize \
		-p tools/$(1) -p tools/pyguest $(PATH_$(1)) app -o tools/$(1)/build/$(1)-tool-component.wasm
	cp tools/$(1)/build/$(1)-tool-component.wasm $$@
endef

$(foreach t,$(C_TOOLS),$(eval $(call C_TOOL_RULES,$(t))))
$(foreach t,$(PY_TOOLS),$(eval $(call PY_TOOL_RULES,$(t))))

$(NO_SITE):
	@mkdir -p $@

# IANA zone data for the datetime tool (the guest has no system zoneinfo), pinned.
$(TZDATA_DIR)/.tzdata-$(TZDATA_VERSION): | $(VENV_STAMP)
	rm -rf $(TZDATA_DIR)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps \
		--target $(TZDATA_DIR) tzdata==$(TZDATA_VERSION)
	@touch $@
