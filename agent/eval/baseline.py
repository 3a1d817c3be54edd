"""The peer every eval report stands beside: llama-cpp-python's own `chatml-function-calling`
chat handler, used as its documentation says, on the same model and cases.

It is the one module besides `agent.backend` that imports `llama_cpp`: it is not our path but
the library's own, loaded as a user of the library would load it (`Llama(...,
chat_format="chatml-function-calling")`, `create_chat_completion(tools=, tool_choice=)`).
Cases that expect a call force the case's function when it offers one (the handler's only way to
require a call); otherwise the handler chooses ("auto"): a message or calls.
"""

from __future__ import annotations

import json
from typing import Any

import llama_cpp

from agent.backend import check_gguf, set_native_logging
from agent.choices import ToolChoice
from agent.config import ModelSettings, SamplingSettings
from agent.errors import ModelError, ModelFileError
from agent.eval.runner import Reply, expects_call
from agent.eval.specs import openai_tool
from agent.eval.suite import Case
from tool_runner import Closing


class LlamaCppRunner(Closing):
    """Cases through llama-cpp-python's `chatml-function-calling` handler; `close()` frees the
    model."""

    name = "llama-cpp"

    def __init__(
        self,
        settings: ModelSettings,
        sampling: SamplingSettings,
        tool_choice: ToolChoice | None = None,
    ) -> None:
        check_gguf(settings.path)
        set_native_logging(settings.verbose)
        kwargs: dict[str, Any] = {"n_ctx": settings.ctx, "n_gpu_layers": settings.gpu_layers}
        if settings.threads is not None:
            kwargs.update(n_threads=settings.threads, n_threads_batch=settings.threads)
        if settings.seed is not None:
            kwargs["seed"] = settings.seed
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(settings.path),
                chat_format="chatml-function-calling",
                verbose=settings.verbose,
                **kwargs,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelFileError(str(settings.path), "llama.cpp could not load it") from exc
        if not settings.verbose:
            set_native_logging(False)
        self.sampling = sampling
        self.tool_choice = tool_choice

    def _tool_choice(self, case: Case, category: str) -> Any:
        choice = self.tool_choice or ("required" if expects_call(category) else "auto")
        if choice == "required" and len(case.functions) == 1:
            return {"type": "function", "function": {"name": case.functions[0]["name"]}}
        return "auto"

    def reply(self, case: Case, category: str) -> Reply:
        """The handler's answer to `case`: its message, or its calls with JSON arguments (a call
        whose arguments are not a JSON object makes the reply malformed)."""
        s = self.sampling
        messages: list[Any] = [{"role": m.role, "content": m.content} for m in case.messages]
        tools: list[Any] = [openai_tool(f) for f in case.functions]
        try:
            response: Any = self._llm.create_chat_completion(
                messages=messages,
                tools=tools,
                tool_choice=self._tool_choice(case, category),
                temperature=s.temperature,
                top_p=s.top_p,
                top_k=s.top_k,
                min_p=s.min_p,
                repeat_penalty=s.repeat_penalty,
                max_tokens=s.max_tokens,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"llama-cpp-python's handler failed: {exc}") from exc
        self._llm.reset()  # type: ignore[no-untyped-call]
        message = response["choices"][0]["message"]
        calls: list[dict[str, dict[str, Any]]] = []
        well_formed = True
        for tool_call in message.get("tool_calls") or []:
            function = tool_call["function"]
            try:
                arguments = json.loads(function["arguments"])
            except ValueError:
                well_formed = False
                continue
            if not isinstance(arguments, dict):
                well_formed = False
                continue
            calls.append({function["name"]: arguments})
        text = message.get("content") or json.dumps(message.get("tool_calls") or [])
        return Reply(text=text, calls=tuple(calls), well_formed=well_formed)

    def close(self) -> None:
        """Free the model."""
        self._llm.close()
