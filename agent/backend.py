"""The llama.cpp chat backend: the only module that imports `llama_cpp`.

    with load_backend(ModelSettings(path=...), SamplingSettings()) as backend:
        stream = backend.stream_prompt(backend.render(messages))
        for piece in stream: ...           # the generator returns the turn's Completion

Loading checks the file first (a missing, truncated or non-GGUF file raises `ModelFileError` with
one line saying what to do) and keeps llama.cpp quiet unless `verbose`. Prompts are rendered with
the model's own chat template (`agent.template`), tokenized here (the template's structure with
special tokens, message text without: a tool result cannot write a control token) and handed to
llama.cpp as tokens, so the backend knows exactly how much of each prompt was already in the KV
cache (`Completion.cached_tokens`). Grammars are validated before llama.cpp sees them: an invalid
GBNF string would crash the process.
"""

from __future__ import annotations

import ctypes
import struct
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
from llama_cpp import llama_grammar

from agent.config import ModelSettings, SamplingSettings
from agent.errors import GrammarError, ModelError, ModelFileError
from agent.events import Completion, FinishReason
from agent.messages import ChatMessage, Prompt, PromptPart
from agent.template import CHATML_STOP, ChatTemplate
from tool_runner import Closing

GGUF_MAGIC = b"GGUF"
_GGUF_HEADER = struct.Struct("<4sIQQ")  # magic, version, tensor count, metadata count
_DOWNLOAD_HINT = "download it with `agent models download NAME` or pass -m path/to/model.gguf"


@llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
def _discard_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    """llama.cpp's native log, when not verbose: dropped before it reaches stderr."""


def set_native_logging(verbose: bool) -> None:
    """Route llama.cpp's native log to stderr (`verbose`) or nowhere."""
    if verbose:
        from llama_cpp import _logger

        llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
        _logger.set_verbose(True)
    else:
        llama_cpp.llama_log_set(_discard_log, ctypes.c_void_p(0))


def check_gguf(path: Path) -> None:
    """Raise ModelFileError unless `path` looks like a whole GGUF file."""
    if not path.exists():
        raise ModelFileError(str(path), f"no such file; {_DOWNLOAD_HINT}")
    if not path.is_file():
        raise ModelFileError(str(path), f"not a file; {_DOWNLOAD_HINT}")
    try:
        with path.open("rb") as handle:
            header = handle.read(_GGUF_HEADER.size)
    except OSError as exc:
        raise ModelFileError(str(path), f"cannot read it ({exc.strerror or exc})") from exc
    if len(header) < 4 or header[:4] != GGUF_MAGIC:
        raise ModelFileError(
            str(path), f"not a GGUF file (it does not start with 'GGUF'); {_DOWNLOAD_HINT}"
        )
    if len(header) < _GGUF_HEADER.size:
        raise ModelFileError(str(path), f"the file is truncated; {_DOWNLOAD_HINT} again")
    _, version, tensors, _ = _GGUF_HEADER.unpack(header)
    if version not in (2, 3):
        raise ModelFileError(str(path), f"unsupported GGUF version {version}")
    if tensors == 0:
        raise ModelFileError(str(path), "the GGUF file holds no tensors (vocabulary only?)")


def load_backend(settings: ModelSettings, sampling: SamplingSettings | None = None) -> LlamaBackend:
    """Load the model of `settings`; raises ModelFileError / ModelError with one line."""
    check_gguf(settings.path)
    set_native_logging(settings.verbose)
    kwargs: dict[str, Any] = {
        "n_ctx": settings.ctx,
        "n_gpu_layers": settings.gpu_layers,
        "n_batch": min(settings.batch, settings.ctx),
        "verbose": settings.verbose,
    }
    if settings.threads is not None:
        kwargs["n_threads"] = settings.threads
        kwargs["n_threads_batch"] = settings.threads
    if settings.seed is not None:
        kwargs["seed"] = settings.seed
    try:
        llm = llama_cpp.Llama(model_path=str(settings.path), **kwargs)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelFileError(
            str(settings.path),
            "llama.cpp could not load it (truncated, corrupt, or an architecture this llama.cpp "
            f"does not know); {_DOWNLOAD_HINT} again, or run with --verbose for llama.cpp's log",
        ) from exc
    if not settings.verbose:
        set_native_logging(False)  # Llama() reset the Python-side log level
    return LlamaBackend(llm, sampling or SamplingSettings(), model_path=settings.path)


class _TokenCounter:
    """A stopping criterion that never stops: it counts the sampled tokens."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, input_ids: Any, logits: Any) -> bool:
        self.count += 1
        return False


class LlamaBackend(Closing):
    """A loaded model that renders, evaluates and samples chat turns; `close()` frees it."""

    def __init__(
        self, llm: llama_cpp.Llama, sampling: SamplingSettings, *, model_path: Path
    ) -> None:
        self._llm = llm
        self.model_path = model_path
        self.sampling = sampling
        metadata: dict[str, str] = dict(llm.metadata)
        self.chat_template: str | None = metadata.get("tokenizer.chat_template") or None
        self._bos_text = self._token_text(llm.token_bos())
        self.template = ChatTemplate(
            self.chat_template,
            bos_token=self._bos_text,
            eos_token=self._token_text(llm.token_eos()),
        )
        self._stop = [CHATML_STOP] if self.template.is_fallback else []
        self._grammars: dict[str, llama_grammar.LlamaGrammar] = {}
        self._history: tuple[str, list[int]] = ("", [])

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", "replace")

    def _evaluated(self) -> Any:
        """The tokens llama.cpp holds in its KV cache, in order (a numpy view)."""
        return self._llm.input_ids[: self._llm.n_tokens]

    @property
    def n_ctx(self) -> int:
        """The context size in tokens."""
        return int(self._llm.n_ctx())

    @property
    def renders_tools(self) -> bool:
        """Whether the model's chat template writes the tool list it is given."""
        return self.template.renders_tools

    def render(
        self, messages: Sequence[ChatMessage], *, tools: Sequence[Mapping[str, Any]] = ()
    ) -> Prompt:
        """The prompt for `messages` (and `tools`, JSON Schema function specs, for the template
        to write), ending with the assistant's generation prompt."""
        return self.template.render(messages, tools=tools)

    def tokenize(self, parts: Sequence[PromptPart], *, add_bos: bool = False) -> list[int]:
        """The tokens of prompt parts: the template's structure with special tokens recognised,
        message data as plain text (no text in a message can become a control token)."""
        tokens: list[int] = []
        for index, part in enumerate(parts):
            encoded = part.text.encode("utf-8")
            bos = add_bos and index == 0
            tokens.extend(self._llm.tokenize(encoded, add_bos=bos, special=not part.data))
        return tokens

    def prompt_tokens(self, prompt: Prompt) -> list[int]:
        """The tokens to evaluate for `prompt` (BOS added once).

        When `prompt` continues the previous prompt and the text generated for it, those keep
        the tokens they had (the sampled ones, which need not be how the text would tokenize
        again) and only the rest is tokenized: the whole earlier turn stays in the KV cache.
        """
        text, tokens = self._history
        whole = prompt.text
        if tokens and whole.startswith(text):
            return tokens + self.tokenize(prompt.after(len(text)))
        add_bos = not (self._bos_text and whole.startswith(self._bos_text))
        return self.tokenize(prompt.parts, add_bos=add_bos)

    def _remember(self, prompt: str, tokens: list[int], text: str) -> None:
        """Keep the prompt and generated text with the tokens llama.cpp evaluated for them."""
        evaluated = self._evaluated()
        generated = [int(t) for t in evaluated[len(tokens) :]]
        self._history = (prompt, tokens)
        if evaluated[: len(tokens)].tolist() != tokens:
            return
        # decoded as llama-cpp-python decodes the streamed text (invalid UTF-8 dropped)
        decoded = self._llm.detokenize(generated, prev_tokens=tokens).decode("utf-8", "ignore")
        # at a token limit the last sampled token was never evaluated: keep what was
        if decoded and text.startswith(decoded):
            self._history = (prompt + decoded, tokens + generated)

    def cached_prefix(self, tokens: Sequence[int]) -> int:
        """How many leading `tokens` llama.cpp will take from the KV cache, not evaluate."""
        evaluated = np.asarray(self._evaluated())
        n = min(len(evaluated), len(tokens))
        if n == 0:
            return 0
        mismatch = np.flatnonzero(evaluated[:n] != np.asarray(tokens[:n], dtype=evaluated.dtype))
        common = int(mismatch[0]) if mismatch.size else n
        # a fully cached prompt still replays its last token to get fresh logits
        return common - 1 if common == len(tokens) else common

    def stream_prompt(
        self, prompt: Prompt, *, grammar: str | None = None, max_tokens: int | None = None
    ) -> Generator[str, None, Completion]:
        """Yield the continuation of a rendered `prompt` (see `render`) piece by piece, constrained
        by `grammar` (GBNF) when given; the generator returns the Completion. Raises ModelError,
        GrammarError."""
        tokens = self.prompt_tokens(prompt)
        self._history = ("", [])  # until this turn completes
        if len(tokens) >= self.n_ctx:
            raise ModelError(
                f"the prompt ({len(tokens)} tokens) does not fit the context of {self.n_ctx} "
                "tokens; raise --ctx or shorten the conversation"
            )
        compiled = self._grammar(grammar) if grammar is not None else None
        cached = self.cached_prefix(tokens)
        counter = _TokenCounter()
        s = self.sampling
        started = time.perf_counter()
        first: float | None = None
        pieces: list[str] = []
        finish: FinishReason = "stop"
        try:
            chunks: Iterator[Any] = self._llm.create_completion(  # type: ignore[assignment]
                tokens,
                max_tokens=max_tokens or s.max_tokens,
                temperature=s.temperature,
                top_p=s.top_p,
                top_k=s.top_k,
                min_p=s.min_p,
                repeat_penalty=s.repeat_penalty,
                stop=self._stop,
                stream=True,
                grammar=compiled,
                stopping_criteria=llama_cpp.StoppingCriteriaList([counter]),
            )
            for chunk in chunks:
                choice = chunk["choices"][0]
                if choice["text"]:
                    if first is None:
                        first = time.perf_counter()
                    pieces.append(choice["text"])
                    yield choice["text"]
                if choice.get("finish_reason") == "length":
                    finish = "length"
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"generation failed: {exc}") from exc
        ended = time.perf_counter()
        self._remember(prompt.text, tokens, "".join(pieces))
        return Completion(
            text="".join(pieces),
            prompt=prompt.text,
            prompt_tokens=len(tokens),
            cached_tokens=cached,
            # the last sample is the end-of-turn token, or one past the limit: not part of the text
            completion_tokens=max(counter.count - 1, 0),
            ttft_s=(first if first is not None else ended) - started,
            total_s=ended - started,
            finish_reason=finish,
        )

    def _grammar(self, gbnf: str) -> llama_grammar.LlamaGrammar:
        compiled = self._grammars.get(gbnf)
        if compiled is None:
            validate_grammar(gbnf)
            compiled = llama_grammar.LlamaGrammar.from_string(gbnf, verbose=False)
            self._grammars[gbnf] = compiled
        return compiled

    def reset(self) -> None:
        """Forget the KV cache: the next prompt is evaluated from scratch."""
        self._history = ("", [])
        self._llm.reset()  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Free the model and its context."""
        self._grammars.clear()
        self._llm.close()


def validate_grammar(gbnf: str) -> None:
    """Raise GrammarError unless `gbnf` parses (llama.cpp would crash on it otherwise)."""
    from agent.syntax import validate_gbnf

    if not gbnf.strip():
        raise GrammarError("empty grammar")
    validate_gbnf(gbnf)
