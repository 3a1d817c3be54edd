# Example apps' own tools (included by the root Makefile, which defines VENV, PY, VENV_STAMP,
# WASM_TOOLS, ZIG_CC, TOOL_CFLAGS, WIT_ADAPTER, PY_GUEST and NO_SITE). They use the host's
# key-value memory (wit-lib/memory, world memory-tool-world), so they are not in components/:
# an app grants them memory; a plain `agent run` would not.

MEMORY_WIT := wit-lib/memory/memory.wit
EXAMPLE_TOOLS := examples/build/notes-tool-component.wasm examples/build/counter-tool-component.wasm

.PHONY: examples

examples: $(EXAMPLE_TOOLS) components ## Build the example apps' tools (examples/build/)

examples/build/notes-tool-component.wasm: $(wildcard examples/tools/notes/*.py) $(PY_GUEST) $(MEMORY_WIT) $(TOOL_WIT) | $(NO_SITE) $(VENV_STAMP)
	@mkdir -p $(@D)
	VIRTUAL_ENV=$(abspath tools/pyguest/build/no-site) $(VENV)/bin/componentize-py -q \
		-d wit-lib/memory -w memory-tool-world componentize \
		-p examples/tools/notes -p tools/pyguest app -o $@.tmp && mv $@.tmp $@

examples/build/counter.core.wasm: examples/tools/counter/counter.c $(C_GLUE) wit-lib/c/llm_agent_memory.h | $(VENV_STAMP)
	@mkdir -p $(@D)
	$(ZIG_CC) $(TOOL_CFLAGS) -o $@ $<

examples/build/counter-tool-component.wasm: examples/build/counter.core.wasm $(MEMORY_WIT) $(TOOL_WIT) $(WIT_ADAPTER) | $(VENV_STAMP)
	$(WASM_TOOLS) component embed wit-lib/memory --world memory-tool-world -o $@.embed $< \
		&& $(WASM_TOOLS) component new $@.embed --adapt $(WIT_ADAPTER) -o $@.tmp \
		&& rm $@.embed && mv $@.tmp $@
