"""The Notes component's entry point: componentize-py looks up `Tool` here."""

import notes
from componentize_py_types import Err
from guest import export_tool
from toolspec import ToolError
from wit_world.imports import store


class HostStore:
    """`llm-agent:memory/store` as `notes.Store` (a refused `set` is the tool's error)."""

    def get(self, key: str) -> str | None:
        return store.get(key)

    def set(self, key: str, value: str) -> None:
        try:
            store.set(key, value)
        except Err as err:
            raise ToolError(str(err.value)) from None

    def remove(self, key: str) -> bool:
        return store.remove(key)

    def keys(self) -> list[str]:
        return store.keys()


Tool = export_tool(notes.SPEC, lambda args: notes.run(args, HostStore()))
