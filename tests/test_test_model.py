"""The generated test model is a real GGUF that llama.cpp loads, tokenizes and samples."""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hypothesis_profiles import examples


@pytest.fixture(scope="module")
def llm(tiny_model_path: Path) -> llama_cpp.Llama:
    return llama_cpp.Llama(model_path=str(tiny_model_path), n_ctx=512, seed=7, verbose=False)


def test_metadata_has_llama_arch_and_chatml_template(llm: llama_cpp.Llama) -> None:
    assert llm.metadata["general.architecture"] == "llama"
    assert "<|im_start|>" in llm.metadata["tokenizer.chat_template"]
    assert llm.token_eos() == llm.tokenize(b"<|im_end|>", add_bos=False, special=True)[0]


@settings(max_examples=examples(60))
@given(text=st.text(max_size=80))
def test_tokenizer_round_trips_any_text(llm: llama_cpp.Llama, text: str) -> None:
    tokens = llm.tokenize(text.encode(), add_bos=False, special=False)
    assert llm.detokenize(tokens).decode() == text


def test_generates_tokens(llm: llama_cpp.Llama) -> None:
    out = llm.create_completion("<|im_start|>user\nhi<|im_end|>\n", max_tokens=8, temperature=0)
    assert out["usage"]["completion_tokens"] > 0


def test_grammar_constrains_random_weights(llm: llama_cpp.Llama) -> None:
    grammar = llama_cpp.LlamaGrammar.from_string(
        'root ::= "USE_TOOL: Echo, value=" [a-z]{1,12}', verbose=False
    )
    out = llm.create_completion("<|im_start|>assistant\n", max_tokens=40, grammar=grammar)
    text = out["choices"][0]["text"]
    assert text.startswith("USE_TOOL: Echo, value=")
    assert text[len("USE_TOOL: Echo, value=") :].isalpha()


def test_model_without_template(tiny_model_no_template_path: Path) -> None:
    llm = llama_cpp.Llama(model_path=str(tiny_model_no_template_path), n_ctx=128, verbose=False)
    assert "tokenizer.chat_template" not in llm.metadata
