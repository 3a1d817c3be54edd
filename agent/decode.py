"""The decode loop on llama.cpp's own API: evaluate tokens, sample, repeat, as fast as llama.cpp.

    decoder = Decoder(llm.ctx, llm.model)
    kept = decoder.keep_prefix(tokens)           # tokens already in the KV cache, kept there
    decoder.evaluate(tokens[kept:])              # the rest, in batches
    with Sampler(sampling, vocab, seed) as sampler:
        for token, piece in decoder.generate(sampler, grammar, max_tokens): ...

Per token the Python side does a fixed handful of calls: `llama_decode` of one token,
`llama_sampler_sample` (llama.cpp builds the candidates and runs the chain in C; under greedy
decoding an argmax over the logits in place, without copying the vocabulary), a grammar check
of the one chosen token and `llama_token_to_piece` of the new token only. A grammar costs nothing
while the model complies: the token is sampled unconstrained and checked against the grammar, and
only a rejected token makes the grammar filter the whole vocabulary and the chain sample again
(llama.cpp's `common_sampler` does the same). Under greedy decoding that is exactly the
constrained argmax: the grammar only removes candidates, so an allowed argmax stays the argmax.

Where the grammar admits exactly one continuation (a call's frame, `", "arguments": {"`, a key),
the decoder jumps forward: it writes that text as the tokenizer would (its canonical tokens, all
but the last, whose end may still merge with what follows) and evaluates them in one batch,
instead of sampling them one by one. The text is the same, the model reads the tokenization it
was trained on rather than whatever split the grammar let through (`{` + `"` for `{"`), and a
constrained call costs a fraction of the steps.
"""

from __future__ import annotations

import ctypes
import math
import time
from collections.abc import Generator, Sequence

import llama_cpp
import numpy as np

from agent.config import SamplingSettings
from agent.errors import GrammarError, ModelError
from agent.events import FinishReason
from agent.threadpool import ThreadGovernor
from tool_runner import Closing

PENALTY_LAST_N = 64
"""Tokens the repeat penalty looks back over (llama-cpp-python's default)."""

# llama_token_data as a numpy record, so that the candidates are filled from the logits in C
_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


class Sampler(Closing):
    """A llama.cpp sampler chain for `SamplingSettings`, as llama-cpp-python builds it: the
    repeat penalty, top-k, top-p, min-p, temperature and a seeded draw (greedy at temperature 0)."""

    def __init__(
        self, sampling: SamplingSettings, vocab: llama_cpp.llama_vocab_p, seed: int
    ) -> None:
        params = llama_cpp.llama_sampler_chain_default_params()
        params.no_perf = True
        self.handle = llama_cpp.llama_sampler_chain_init(params)
        self.stateful = sampling.repeat_penalty != 1.0
        """Whether the chain remembers accepted tokens (then a token must be accepted once)."""
        self.greedy = sampling.temperature == 0 and not self.stateful
        """Whether the chain is only an argmax (which the decoder takes over the logits itself:
        the chain would first copy the whole vocabulary into a candidate array)."""
        add = llama_cpp.llama_sampler_chain_add
        n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
        if self.stateful:
            add(
                self.handle,
                llama_cpp.llama_sampler_init_penalties(
                    n_vocab, PENALTY_LAST_N, sampling.repeat_penalty, 0.0, 0.0
                ),
            )
        if sampling.temperature == 0:
            add(self.handle, llama_cpp.llama_sampler_init_greedy())
        else:
            add(self.handle, llama_cpp.llama_sampler_init_top_k(sampling.top_k))
            add(self.handle, llama_cpp.llama_sampler_init_top_p(sampling.top_p, 1))
            add(self.handle, llama_cpp.llama_sampler_init_min_p(sampling.min_p, 1))
            add(self.handle, llama_cpp.llama_sampler_init_temp(sampling.temperature))
            add(self.handle, llama_cpp.llama_sampler_init_dist(seed & 0xFFFFFFFF))

    def close(self) -> None:
        """Free the chain and its samplers."""
        if self.handle is not None:
            llama_cpp.llama_sampler_free(self.handle)
            self.handle = None


class Grammar(Closing):
    """A compiled GBNF grammar (llama.cpp's grammar sampler); `reset()` starts it over."""

    def __init__(self, gbnf: str, vocab: llama_cpp.llama_vocab_p) -> None:
        handle = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), b"root")
        if not handle:
            raise GrammarError("llama.cpp rejected the grammar")
        self.handle = handle

    def reset(self) -> None:
        """Back to the grammar's start, for a new completion."""
        llama_cpp.llama_sampler_reset(self.handle)

    def close(self) -> None:
        """Free the grammar."""
        if self.handle is not None:
            llama_cpp.llama_sampler_free(self.handle)
            self.handle = None


class Decoder:
    """Evaluation and sampling on one llama.cpp context (sequence 0), tracking which tokens the
    KV cache holds (`evaluated`). The context and model belong to the caller."""

    def __init__(
        self,
        ctx: llama_cpp.llama_context_p,
        model: llama_cpp.llama_model_p,
        *,
        adapt_threads: bool = True,
    ) -> None:
        self._ctx = ctx
        self._threads = int(llama_cpp.llama_n_threads(ctx))
        self._batch_threads = int(llama_cpp.llama_n_threads_batch(ctx))
        self.governor = ThreadGovernor(self._threads) if adapt_threads else None
        """Drops generation to one thread while the cores are shared (`agent.threadpool`)."""
        self.vocab = llama_cpp.llama_model_get_vocab(model)
        self._memory = llama_cpp.llama_get_memory(ctx)
        self.n_ctx = int(llama_cpp.llama_n_ctx(ctx))
        self.n_batch = int(llama_cpp.llama_n_batch(ctx))
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(self.vocab))
        self.evaluated: list[int] = []
        """The tokens in the KV cache, in order (positions 0..len-1)."""
        self.rejections = 0
        """How many sampled tokens a grammar rejected (each cost a resample), for benchmarks."""
        self._one = (llama_cpp.llama_token * 1)()
        self._piece = ctypes.create_string_buffer(256)
        self._check = llama_cpp.llama_token_data(0, 1.0, 0.0)
        self._check_array = llama_cpp.llama_token_data_array(
            ctypes.pointer(self._check), 1, -1, False
        )
        self._candidates = np.zeros(self.n_vocab, dtype=_TOKEN_DATA)
        self._ids = np.arange(self.n_vocab, dtype=np.intc)
        self.jump_forward = True
        """Write text the grammar forces as its canonical tokens in one batch (see above)."""
        self.forced_tokens = 0
        """How many tokens were written that way, for benchmarks and tests."""
        self._chars: _CharProbe | None = None

    def common_prefix(self, tokens: Sequence[int]) -> int:
        """How many leading `tokens` the KV cache already holds."""
        evaluated = self.evaluated
        n = min(len(evaluated), len(tokens))
        if n == 0:
            return 0
        left = np.asarray(evaluated[:n], dtype=np.intc)
        mismatch = np.flatnonzero(left != np.asarray(tokens[:n], dtype=np.intc))
        return int(mismatch[0]) if mismatch.size else n

    def keep_prefix(self, tokens: Sequence[int]) -> int:
        """Drop from the KV cache everything after its common prefix with `tokens`, keeping at
        least the last token of `tokens` to evaluate (its logits are needed); returns how many
        tokens were kept."""
        common = min(self.common_prefix(tokens), max(len(tokens) - 1, 0))
        self.truncate(common)
        return len(self.evaluated)

    def truncate(self, n: int) -> None:
        """Keep only the first `n` evaluated tokens in the KV cache (all of it is cleared when
        the model's memory cannot drop a tail, e.g. a recurrent one)."""
        if n >= len(self.evaluated):
            return
        if n > 0 and llama_cpp.llama_memory_seq_rm(self._memory, 0, n, -1):
            del self.evaluated[n:]
        else:
            self.clear()

    def clear(self) -> None:
        """Empty the KV cache."""
        llama_cpp.llama_memory_clear(self._memory, True)
        self.evaluated.clear()

    def evaluate(self, tokens: Sequence[int]) -> None:
        """Append `tokens` to the KV cache in batches of `n_batch` (logits of the last one
        kept); raises ModelError when llama.cpp fails or the context is full."""
        if len(self.evaluated) + len(tokens) > self.n_ctx:
            raise ModelError(f"the context of {self.n_ctx} tokens is full")
        for start in range(0, len(tokens), self.n_batch):
            chunk = tokens[start : start + self.n_batch]
            array = (llama_cpp.llama_token * len(chunk))(*chunk)
            self._decode(llama_cpp.llama_batch_get_one(array, len(chunk)))
            self.evaluated.extend(chunk)

    def _decode(self, batch: llama_cpp.llama_batch) -> None:
        code = llama_cpp.llama_decode(self._ctx, batch)
        if code != 0:
            # the batch may have been partly evaluated: nothing in the cache can be trusted
            self.clear()
            raise ModelError(f"llama.cpp could not evaluate the tokens (llama_decode {code})")

    def generate(
        self,
        sampler: Sampler,
        grammar: Grammar | None,
        max_tokens: int,
        *,
        grammar_first: bool = False,
    ) -> Generator[tuple[int, bytes], None, FinishReason]:
        """Sample up to `max_tokens` tokens after what was evaluated, yielding each token and
        its text bytes (control tokens have none) before the next is computed; returns "stop" at
        an end-of-generation token and "length" at the limit or a full context. The last token
        yielded is not evaluated (nothing needs its logits).

        `grammar_first` filters the whole vocabulary by the grammar before every sample (the
        reference the checked path must match; slower)."""
        if grammar is not None:
            grammar.reset()
        if self.governor is not None:
            self._use_threads(self.governor.start())
        count = 0
        while True:
            if grammar is not None and self.jump_forward:
                room = min(max_tokens - count, self.n_ctx - len(self.evaluated))
                forced = self._forced(grammar, room)
                for token, data in forced:
                    if sampler.stateful:
                        llama_cpp.llama_sampler_accept(sampler.handle, token)
                    llama_cpp.llama_sampler_accept(grammar.handle, token)
                    yield token, data
                if forced:
                    count += len(forced)
                    self.forced_tokens += len(forced)
                    self.evaluate([token for token, _ in forced])
                    if count >= max_tokens or len(self.evaluated) >= self.n_ctx:
                        return "length"
            if grammar is not None and grammar_first:
                token = self._sample_candidates(sampler, grammar)
                llama_cpp.llama_sampler_accept(sampler.handle, token)
                llama_cpp.llama_sampler_accept(grammar.handle, token)
            else:
                token = self._sample(sampler, grammar)
            if llama_cpp.llama_vocab_is_eog(self.vocab, token):
                return "stop"
            count += 1
            yield token, self.piece(token)
            if count >= max_tokens or len(self.evaluated) >= self.n_ctx:
                return "length"
            self._one[0] = token
            started = time.perf_counter()
            self._decode(llama_cpp.llama_batch_get_one(self._one, 1))
            self.evaluated.append(token)
            if self.governor is not None:
                self._use_threads(self.governor.observe(time.perf_counter() - started))

    def _forced(self, grammar: Grammar, room: int) -> list[tuple[int, bytes]]:
        """The canonical tokens (and their bytes) of the text `grammar` forces next, all but
        the last and at most `room`; empty when fewer than two tokens are forced or the tokens
        do not spell the text exactly (a tokenizer that adds a space prefix, say)."""
        if room < 2:
            return []
        if self._chars is None:
            self._chars = _CharProbe(self.vocab)
        text = self._chars.forced_text(grammar)
        if len(text) < 2:
            return []
        tokens = self.tokenize(text)[:-1][:room]
        pieces = [(token, self.piece(token)) for token in tokens]
        if not pieces or not text.encode().startswith(b"".join(data for _, data in pieces)):
            return []
        return pieces

    def tokenize(self, text: str) -> list[int]:
        """`text`'s tokens as the tokenizer writes it (no special tokens, no BOS)."""
        return tokenize(self.vocab, text)

    def _use_threads(self, threads: int) -> None:
        if threads != self._threads:
            llama_cpp.llama_set_n_threads(self._ctx, threads, self._batch_threads)
            self._threads = threads

    def piece(self, token: int) -> bytes:
        """The bytes a token stands for (none for control tokens)."""
        buffer = self._piece
        n = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, False)
        if n < 0:
            buffer = self._piece = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, len(buffer), 0, False)
        return buffer.raw[:n]

    def _sample(self, sampler: Sampler, grammar: Grammar | None) -> int:
        if sampler.stateful:
            # the chain must accept only the final token: sample from candidates built here
            token = self._sample_candidates(sampler, None)
            if grammar is not None and not self._allowed(grammar, token):
                self.rejections += 1
                token = self._sample_candidates(sampler, grammar)
            llama_cpp.llama_sampler_accept(sampler.handle, token)
        else:
            if sampler.greedy:  # the first highest logit, as llama.cpp's greedy sampler takes
                token = int(self._logits().argmax())
            else:
                token = int(llama_cpp.llama_sampler_sample(sampler.handle, self._ctx, -1))
            if grammar is not None and not self._allowed(grammar, token):
                self.rejections += 1
                token = self._sample_candidates(sampler, grammar)
        if grammar is not None:
            llama_cpp.llama_sampler_accept(grammar.handle, token)
        return token

    def _logits(self) -> np.ndarray:
        """The last token's logits, a view of llama.cpp's buffer (valid until the next decode)."""
        pointer = llama_cpp.llama_get_logits_ith(self._ctx, -1)
        address = ctypes.cast(pointer, ctypes.c_void_p).value
        if not address:
            raise ModelError("llama.cpp has no logits for the last token")
        buffer = (ctypes.c_float * self.n_vocab).from_address(address)
        logits: np.ndarray = np.frombuffer(memoryview(buffer), dtype=np.float32)
        return logits

    def _allowed(self, grammar: Grammar, token: int) -> bool:
        """Whether the grammar allows `token` next (one token checked, not the vocabulary)."""
        self._check.id = token  # type: ignore[assignment]
        self._check.logit = 1.0
        self._check_array.size = 1
        self._check_array.selected = -1
        llama_cpp.llama_sampler_apply(grammar.handle, ctypes.byref(self._check_array))
        return not math.isinf(self._check.logit)

    def _sample_candidates(self, sampler: Sampler, grammar: Grammar | None) -> int:
        """Sample from the whole vocabulary's logits, filtered by `grammar` first when given."""
        candidates = self._candidates
        candidates["id"] = self._ids
        candidates["logit"] = self._logits()
        candidates["p"] = 0.0
        data = candidates.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token_data))
        array = llama_cpp.llama_token_data_array(data, self.n_vocab, -1, False)
        if grammar is not None:
            llama_cpp.llama_sampler_apply(grammar.handle, ctypes.byref(array))
            if not np.isfinite(candidates["logit"][: array.size]).any():
                raise ModelError("the grammar allows no token here (is it satisfiable?)")
        llama_cpp.llama_sampler_apply(sampler.handle, ctypes.byref(array))
        if not 0 <= array.selected < array.size:
            raise ModelError("the sampler chose no token")
        return int(data[array.selected].id)


def tokenize(vocab: llama_cpp.llama_vocab_p, text: str) -> list[int]:
    """`text`'s tokens in `vocab` as its tokenizer writes them (no special tokens, no BOS)."""
    data = text.encode("utf-8")
    buffer = (llama_cpp.llama_token * (len(data) + 8))()
    n = llama_cpp.llama_tokenize(vocab, data, len(data), buffer, len(buffer), False, False)
    return list(buffer[: max(n, 0)])


class _CharProbe:
    """Which single characters a grammar admits next, asked of llama.cpp with the vocabulary's
    one-character ASCII tokens (and one end-of-generation token: a grammar that may end forces
    nothing)."""

    MAX_FORCED = 256

    def __init__(self, vocab: llama_cpp.llama_vocab_p) -> None:
        chars: dict[int, str] = {}
        for char in "\n\t" + "".join(chr(c) for c in range(32, 127)):
            tokens = tokenize(vocab, char)
            if len(tokens) == 1:
                chars.setdefault(tokens[0], char)
        end = int(llama_cpp.llama_vocab_eos(vocab))
        if end < 0:
            end = int(llama_cpp.llama_vocab_eot(vocab))
        self._chars = chars
        ids = list(chars) + ([end] if end >= 0 and end not in chars else [])
        self._end = end
        self._probe = np.zeros(len(ids), dtype=_TOKEN_DATA)
        self._probe["id"] = ids
        pointer = self._probe.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token_data))
        self._array = llama_cpp.llama_token_data_array(pointer, len(ids), -1, False)

    def _only(self, handle: llama_cpp.llama_sampler_p) -> int | None:
        """The one token `handle` admits among the probe's, or None (none, several, or the end)."""
        probe = self._probe
        probe["logit"] = 0.0
        self._array.size = len(probe)
        self._array.selected = -1
        llama_cpp.llama_sampler_apply(handle, ctypes.byref(self._array))
        allowed = np.flatnonzero(np.isfinite(probe["logit"][: self._array.size]))
        if allowed.size != 1:
            return None
        token = int(probe["id"][allowed[0]])
        return None if token == self._end else token

    def forced_text(self, grammar: Grammar) -> str:
        """The ASCII text `grammar` admits as its only continuation, up to `MAX_FORCED` chars
        (probed on a copy: the grammar itself does not move)."""
        token = self._only(grammar.handle)
        if token is None:
            return ""
        copy = llama_cpp.llama_sampler_clone(grammar.handle)
        text: list[str] = []
        try:
            while token is not None and len(text) < self.MAX_FORCED:
                text.append(self._chars[token])
                llama_cpp.llama_sampler_accept(copy, token)
                token = self._only(copy)
        finally:
            llama_cpp.llama_sampler_free(copy)
        return "".join(text)
