#!/usr/bin/env python3
"""Write a tiny but valid GGUF model for tests and benchmarks, with the `gguf` package.

The model is a llama-architecture transformer with random weights, a byte-level BPE tokenizer
(GPT-2 byte mapping, so any UTF-8 text round-trips) and a ChatML chat template stored in
`tokenizer.chat_template`. It generates nonsense, but llama.cpp loads, tokenizes and samples it
like a real model, and grammar-constrained decoding turns its output into valid tool calls.

    python scripts/make_test_model.py OUT.gguf                  # the tiny test model (~0.5 MB)
    python scripts/make_test_model.py OUT.gguf --shape qwen2.5-0.5b --quantize Q4_K_M
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


@dataclass(frozen=True)
class Shape:
    """Transformer dimensions."""

    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_ctx: int = 4096
    # BPE merges on top of the 256 byte tokens (llama.cpp needs some); a bigger vocabulary
    # costs more per token.
    n_merges: int = 64


SHAPES = {
    "tiny": Shape(n_layer=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=128, n_ctx=2048, n_merges=64),
    # Qwen2.5-0.5B's dimensions (its real vocabulary has 151k entries; ours is smaller).
    "qwen2.5-0.5b": Shape(
        n_layer=24, n_embd=896, n_head=14, n_head_kv=2, n_ff=4864, n_ctx=32768, n_merges=32000
    ),
    # Llama-3.2-1B's dimensions.
    "llama-3.2-1b": Shape(
        n_layer=16, n_embd=2048, n_head=32, n_head_kv=8, n_ff=8192, n_ctx=131072, n_merges=32000
    ),
}


def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable characters."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars, strict=True)}


def _vocabulary(n_merges: int, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """Byte tokens, then `n_merges` merged tokens of growing length; returns (tokens, merges)."""
    byte_chars = list(_byte_to_unicode().values())
    tokens = list(byte_chars)
    merges: list[str] = []
    known = set(tokens)
    # Merge pairs of printable ASCII characters first (like real vocabularies do), then
    # pairs of earlier merges, so every merged token is reachable from bytes.
    ascii_chars = [c for c in byte_chars if c.isascii() and c.isalnum()] + ["Ġ"]
    pool = list(ascii_chars)
    while len(merges) < n_merges:
        a = pool[int(rng.integers(len(pool)))]
        b = pool[int(rng.integers(len(pool)))]
        if len(a) + len(b) > 8 or a + b in known:
            continue
        merges.append(f"{a} {b}")
        tokens.append(a + b)
        known.add(a + b)
        pool.append(a + b)
    return tokens, merges


def write_model(
    path: str | os.PathLike[str],
    *,
    shape: Shape | str = "tiny",
    seed: int = 0,
    chat_template: str | None = CHATML_TEMPLATE,
    quantize: str | None = None,
    name: str = "tiny-test-model",
) -> Path:
    """Write a random-weights llama GGUF to `path` and return it.

    `quantize` ("Q4_K_M", "Q8_0", ...) runs llama.cpp's quantizer over the F32 model (it needs
    llama-cpp-python). `chat_template=None` leaves the template out (to test fallbacks).
    """
    import gguf

    dims = SHAPES[shape] if isinstance(shape, str) else shape
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    tokens, merges = _vocabulary(dims.n_merges, rng)
    n_byte_and_merge = len(tokens)
    tokens += list(SPECIAL_TOKENS)
    token_types = [gguf.TokenType.NORMAL] * n_byte_and_merge + [gguf.TokenType.CONTROL] * len(
        SPECIAL_TOKENS
    )
    n_vocab = len(tokens)
    eot = tokens.index("<|im_end|>")
    eos = tokens.index("<|endoftext|>")

    target = out if quantize is None else out.with_suffix(".f32.tmp")
    writer = gguf.GGUFWriter(str(target), "llama")
    writer.add_name(name)
    writer.add_context_length(dims.n_ctx)
    writer.add_embedding_length(dims.n_embd)
    writer.add_block_count(dims.n_layer)
    writer.add_feed_forward_length(dims.n_ff)
    writer.add_head_count(dims.n_head)
    writer.add_head_count_kv(dims.n_head_kv)
    writer.add_rope_dimension_count(dims.n_embd // dims.n_head)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_freq_base(10000.0)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(token_types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(eos)
    writer.add_eos_token_id(eot)
    writer.add_eot_token_id(eot)
    writer.add_pad_token_id(eos)
    writer.add_add_bos_token(False)
    if chat_template is not None:
        writer.add_chat_template(chat_template)

    head_dim = dims.n_embd // dims.n_head
    kv_dim = head_dim * dims.n_head_kv

    def weight(rows: int, cols: int) -> np.ndarray:
        # numpy (rows, cols) is GGUF ne = [cols, rows]: cols is the input dimension.
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)

    def norm(n: int) -> np.ndarray:
        return np.ones(n, dtype=np.float32)

    writer.add_tensor("token_embd.weight", weight(n_vocab, dims.n_embd))
    for i in range(dims.n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", norm(dims.n_embd))
        writer.add_tensor(f"blk.{i}.attn_q.weight", weight(dims.n_embd, dims.n_embd))
        writer.add_tensor(f"blk.{i}.attn_k.weight", weight(kv_dim, dims.n_embd))
        writer.add_tensor(f"blk.{i}.attn_v.weight", weight(kv_dim, dims.n_embd))
        writer.add_tensor(f"blk.{i}.attn_output.weight", weight(dims.n_embd, dims.n_embd))
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", norm(dims.n_embd))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", weight(dims.n_ff, dims.n_embd))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", weight(dims.n_ff, dims.n_embd))
        writer.add_tensor(f"blk.{i}.ffn_down.weight", weight(dims.n_embd, dims.n_ff))
    writer.add_tensor("output_norm.weight", norm(dims.n_embd))
    writer.add_tensor("output.weight", weight(n_vocab, dims.n_embd))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    if quantize is not None:
        try:
            _quantize(target, out, quantize)
        finally:
            target.unlink(missing_ok=True)
    return out


def _quantize(src: Path, dst: Path, kind: str) -> None:
    import llama_cpp

    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{kind.upper()}", None)
    if ftype is None:
        raise SystemExit(f"unknown quantisation {kind!r}")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = os.cpu_count() or 1
    tmp = dst.with_suffix(".quant.tmp")
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(), params)
    if rc != 0:
        tmp.unlink(missing_ok=True)
        raise SystemExit(f"llama.cpp could not quantize {src} to {kind} (code {rc})")
    tmp.replace(dst)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--quantize", default=None, help="e.g. Q4_K_M (needs llama-cpp-python)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-template", action="store_true", help="leave out the chat template")
    args = parser.parse_args()
    # Write beside the target and rename, so a half-written model is never left under its name.
    with tempfile.TemporaryDirectory(dir=args.out.parent or ".") as tmp:
        written = write_model(
            Path(tmp) / args.out.name,
            shape=args.shape,
            seed=args.seed,
            quantize=args.quantize,
            chat_template=None if args.no_template else CHATML_TEMPLATE,
        )
        written.replace(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
