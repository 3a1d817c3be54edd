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
import os
import struct
import time
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from agent.threadpool import configure_openmp

configure_openmp(os.environ)  # read by libgomp once, when llama_cpp loads it below

import llama_cpp  # noqa: E402

from agent.config import ModelSettings, SamplingSettings  # noqa: E402
from agent.decode import Decoder, Grammar, Sampler  # noqa: E402
from agent.errors import GrammarError, ModelError, ModelFileError  # noqa: E402
from agent.events import Completion, FinishReason  # noqa: E402
from agent.kvcache import CacheKey, PromptCache, common_prefix, default_cache_dir  # noqa: E402
from agent.messages import ChatMessage, Prompt, PromptPart  # noqa: E402
from agent.template import CHATML_STOP, ChatTemplate  # noqa: E402
from agent.tokentext import TokenText  # noqa: E402
from tool_runner import Closing  # noqa: E402

GGUF_MAGIC = b"GGUF"
_GGUF_HEADER = struct.Struct("<4sIQQ")  # magic, version, tensor count, metadata count
PromptSource = Literal["none", "memory", "disk"]
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


def load_backend(
    settings: ModelSettings,
    sampling: SamplingSettings | None = None,
    *,
    prompt_cache: PromptCache | None = None,
) -> LlamaBackend:
    """Load the model of `settings`; raises ModelFileError / ModelError with one line.

    `prompt_cache` keeps prompts' KV states on disk for the next process (see `agent.kvcache`);
    None: when `settings.prompt_cache`, the user's cache dir."""
    check_gguf(settings.path)
    set_native_logging(settings.verbose)
    decode_threads, batch_threads = thread_counts(settings.threads)
    kwargs: dict[str, Any] = {
        "n_ctx": settings.ctx,
        "n_gpu_layers": settings.gpu_layers,
        "n_batch": min(settings.batch, settings.ctx),
        "n_ubatch": min(settings.batch, settings.ctx),
        "n_threads": decode_threads,
        "n_threads_batch": batch_threads,
        # llama.cpp's own default ("auto") turns it on where the backend has it, and every CPU
        # build does: 8-10% faster generation on SmolLM2 here (llama-cpp-python's default is off)
        "flash_attn": True,
        "verbose": settings.verbose,
    }
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
    if prompt_cache is None and settings.prompt_cache:
        prompt_cache = PromptCache(default_cache_dir(os.environ))
    key = None
    if prompt_cache is not None:
        key = CacheKey.for_model(
            settings.path,
            f"llama-cpp-python {llama_cpp.__version__}",
            ctx=settings.ctx,
            gpu_layers=settings.gpu_layers,
            flash_attn=kwargs["flash_attn"],  # another KV layout
        )
    return LlamaBackend(
        llm,
        sampling or SamplingSettings(),
        model_path=settings.path,
        seed=settings.seed,
        prompt_cache=prompt_cache,
        cache_key=key,
    )


def thread_counts(threads: int | None) -> tuple[int, int]:
    """Threads for generation and for reading prompts: `threads` for both when given, else
    one per physical core for generation (a second thread on a core only waits for the first:
    generation is bound by memory bandwidth) and every usable logical CPU for prompts."""
    if threads is not None:
        return threads, threads
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    logical = max(usable or 1, 1)
    return max(min(physical_cores() or logical, logical), 1), logical


def physical_cores() -> int | None:
    """The number of physical cores (Linux sysfs; None when it cannot tell)."""
    cores: set[tuple[str, str]] = set()
    for cpu in Path("/sys/devices/system/cpu").glob("cpu[0-9]*/topology"):
        try:
            package = (cpu / "physical_package_id").read_text().strip()
            core = (cpu / "core_id").read_text().strip()
        except OSError:
            continue
        cores.add((package, core))
    return len(cores) or None


@dataclass(frozen=True)
class ContextState:
    """What `LlamaBackend.save_state` took: the KV cells of sequence 0 (llama.cpp's bytes),
    the tokens they hold, and the text those tokens spell."""

    data: bytes
    tokens: tuple[int, ...]
    history: tuple[str, tuple[int, ...]]


class LlamaBackend(Closing):
    """A loaded model that renders, evaluates and samples chat turns; `close()` frees it."""

    def __init__(
        self,
        llm: llama_cpp.Llama,
        sampling: SamplingSettings,
        *,
        model_path: Path,
        seed: int | None = None,
        prompt_cache: PromptCache | None = None,
        cache_key: CacheKey | None = None,
    ) -> None:
        self._llm = llm
        self.model_path = model_path
        self.sampling = sampling
        self.seed = seed
        metadata: dict[str, str] = dict(llm.metadata)
        self.chat_template: str | None = metadata.get("tokenizer.chat_template") or None
        self._bos_text = self._token_text(llm.token_bos())
        self.template = ChatTemplate(
            self.chat_template,
            bos_token=self._bos_text,
            eos_token=self._token_text(llm.token_eos()),
        )
        self._stop = [CHATML_STOP] if self.template.is_fallback else []
        self._decoder = Decoder(llm.ctx, llm.model)
        self._grammars: dict[str, Grammar] = {}
        self._history: tuple[str, list[int]] = ("", [])
        self._prompt_cache = prompt_cache if cache_key is not None else None
        self._cache_key = cache_key
        self.last_prompt_source: PromptSource = "none"
        """Where the last prompt's cached prefix came from: memory, disk or none."""

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", "replace")

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

    def cached_prefix(self, tokens: Sequence[int]) -> int:
        """How many leading `tokens` the KV cache in memory holds and will not evaluate again
        (the last token is always evaluated again: its logits start the reply)."""
        return min(self._decoder.common_prefix(tokens), max(len(tokens) - 1, 0))

    def stream_prompt(
        self,
        prompt: Prompt,
        *,
        grammar: str | None = None,
        max_tokens: int | None = None,
        stop: Sequence[str] = (),
        grammar_first: bool = False,
    ) -> Generator[str, None, Completion]:
        """Yield the continuation of a rendered `prompt` (see `render`) piece by piece, constrained
        by `grammar` (GBNF) when given and cut before the first of the `stop` strings; the
        generator returns the Completion. Raises ModelError, GrammarError.

        A grammar checks each sampled token and filters the vocabulary only when it rejects one
        (see `agent.decode`); `grammar_first` filters it before every token instead (the
        reference path, slower: the same tokens under greedy decoding)."""
        tokens = self.prompt_tokens(prompt)
        self._history = ("", [])  # until this turn completes
        if len(tokens) >= self.n_ctx:
            raise ModelError(
                f"the prompt ({len(tokens)} tokens) does not fit the context of {self.n_ctx} "
                "tokens; raise --ctx or shorten the conversation"
            )
        compiled = self._grammar(grammar) if grammar is not None else None
        started = time.perf_counter()
        first: float | None = None
        cached = self._read_prompt(tokens)
        text = TokenText([*self._stop, *stop])
        pieces: list[str] = []
        generated: list[int] = []
        token_bytes: list[bytes] = []
        seed = self.seed if self.seed is not None else llama_cpp.LLAMA_DEFAULT_SEED
        finish: FinishReason = "stop"
        with Sampler(self.sampling, self._decoder.vocab, seed) as sampler:
            steps = self._decoder.generate(
                sampler, compiled, max_tokens or self.sampling.max_tokens
            )
            try:
                while True:
                    try:
                        token, data = next(steps)
                    except StopIteration as done:
                        finish = done.value
                        tail = text.finish()
                        if tail:
                            first = first if first is not None else time.perf_counter()
                            pieces.append(tail)
                            yield tail
                        break
                    generated.append(token)
                    token_bytes.append(data)
                    piece, stopped = text.feed(data)
                    if piece:
                        first = first if first is not None else time.perf_counter()
                        pieces.append(piece)
                        yield piece
                    if stopped:
                        break
            finally:
                steps.close()
        ended = time.perf_counter()
        reply = "".join(pieces)
        self._remember(prompt.text, tokens, reply, generated, token_bytes)
        return Completion(
            text=reply,
            prompt=prompt.text,
            prompt_tokens=len(tokens),
            cached_tokens=cached,
            completion_tokens=len(generated),
            ttft_s=(first if first is not None else ended) - started,
            total_s=ended - started,
            finish_reason=finish,
        )

    def _read_prompt(self, tokens: list[int]) -> int:
        """Put `tokens` in the KV cache: what memory holds is kept, a longer prefix saved on disk
        is loaded, the rest is evaluated; a prompt mostly evaluated here is saved for the next
        process. Returns how many tokens were not evaluated."""
        decoder = self._decoder
        kept = decoder.keep_prefix(tokens)
        self.last_prompt_source = "memory" if kept else "none"
        cache, key = self._prompt_cache, self._cache_key
        if (
            cache is not None
            and key is not None
            and kept < len(tokens) - 1
            and self._load_state(cache, key, tokens, kept)
        ):
            kept = decoder.keep_prefix(tokens)
            self.last_prompt_source = "disk"
        decoder.evaluate(tokens[kept:])
        if (
            cache is not None
            and key is not None
            and len(tokens) - kept >= max(cache.min_tokens, len(tokens) // 2)
        ):
            self._save_state(cache, key, tokens)
        return kept

    def _load_state(self, cache: PromptCache, key: CacheKey, tokens: list[int], kept: int) -> bool:
        """Load the saved state sharing the longest prefix with `tokens`, if it beats `kept`."""
        entry = cache.find(key, tokens)
        if entry is None or common_prefix(entry.tokens, tokens) <= kept:
            return False
        payload = cache.read(entry)
        if payload is None:
            return False
        ctx = self._llm.ctx
        self._decoder.clear()
        buffer = (ctypes.c_uint8 * len(payload)).from_buffer(payload)
        if llama_cpp.llama_state_seq_set_data(ctx, buffer, len(payload), 0) != len(payload):
            self._decoder.clear()  # llama.cpp refused it (another layout): evaluate instead
            return False
        self._decoder.evaluated.extend(entry.tokens)
        return True

    def _save_state(self, cache: PromptCache, key: CacheKey, tokens: list[int]) -> None:
        ctx = self._llm.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 0)
        if written > 0:
            cache.store(key, tokens, memoryview(buffer).cast("B")[:written])

    def _remember(
        self, prompt: str, tokens: list[int], reply: str, generated: list[int], pieces: list[bytes]
    ) -> None:
        """Keep the prompt and as much of the reply as its sampled tokens spell exactly, with
        those tokens, so that the next prompt continuing this one keeps them (see
        `prompt_tokens`)."""
        keep = len(generated)
        while keep > 0:
            text = b"".join(pieces[:keep]).decode("utf-8", "ignore")
            if reply.startswith(text):
                break
            keep -= 1
        text = b"".join(pieces[:keep]).decode("utf-8", "ignore")
        self._history = (prompt + text, tokens + generated[:keep])

    def _grammar(self, gbnf: str) -> Grammar:
        compiled = self._grammars.get(gbnf)
        if compiled is None:
            validate_grammar(gbnf)
            compiled = self._grammars[gbnf] = Grammar(gbnf, self._decoder.vocab)
        return compiled

    def save_state(self) -> ContextState:
        """A snapshot of what the context holds (its KV cells and their tokens), so that
        several conversations sharing this model (an app's agents) can each take theirs back
        with `load_state` instead of evaluating their prompt again."""
        ctx = self._llm.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 0) if size else 0
        prompt, tokens = self._history
        return ContextState(
            data=bytes(memoryview(buffer).cast("B")[:written]),
            tokens=tuple(self._decoder.evaluated) if written else (),
            history=(prompt, tuple(tokens)) if written else ("", ()),
        )

    def load_state(self, state: object) -> None:
        """Restore a `save_state` snapshot; one llama.cpp refuses leaves an empty context (the
        next prompt is then evaluated in full). Raises TypeError for anything else."""
        if not isinstance(state, ContextState):
            raise TypeError(f"not a ContextState: {type(state).__name__}")
        self._decoder.clear()
        self._history = ("", [])
        if not state.data:
            return
        buffer = (ctypes.c_uint8 * len(state.data)).from_buffer_copy(state.data)
        ctx = self._llm.ctx
        if llama_cpp.llama_state_seq_set_data(ctx, buffer, len(state.data), 0) != len(state.data):
            self._decoder.clear()
            return
        self._decoder.evaluated.extend(state.tokens)
        self._history = (state.history[0], list(state.history[1]))

    def reset(self) -> None:
        """Forget the KV cache: the next prompt is evaluated from scratch."""
        self._history = ("", [])
        self._decoder.clear()

    def close(self) -> None:
        """Free the grammars, the model and its context."""
        for grammar in self._grammars.values():
            grammar.close()
        self._grammars.clear()
        self._llm.close()


def validate_grammar(gbnf: str) -> None:
    """Raise GrammarError unless `gbnf` parses (llama.cpp would crash on it otherwise)."""
    from agent.syntax import validate_gbnf

    if not gbnf.strip():
        raise GrammarError("empty grammar")
    validate_gbnf(gbnf)
