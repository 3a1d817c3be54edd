"""The decode loop on llama.cpp's own API, on real models: stop strings and UTF-8 across token
boundaries, the checked grammar path against the grammar-first one token for token, token
counts, prefix reuse after a cut reply, and the warm start from the on-disk prompt cache."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from syntax_samples import TOOLS

from agent.backend import LlamaBackend, load_backend
from agent.config import ModelSettings, SamplingSettings
from agent.events import Completion
from agent.kvcache import SUFFIX, PromptCache, common_prefix
from agent.messages import ChatMessage, Prompt
from agent.syntax import get_syntax

GREEDY = SamplingSettings(temperature=0, max_tokens=24)


@pytest.fixture(scope="module")
def tiny(tiny_model_path: Path) -> Iterator[LlamaBackend]:
    settings = ModelSettings(path=tiny_model_path, ctx=1024, seed=5, threads=1, prompt_cache=False)
    with load_backend(settings, GREEDY) as loaded:
        yield loaded


@pytest.fixture(scope="module")
def smollm2(smollm2_path: Path) -> Iterator[LlamaBackend]:
    settings = ModelSettings(path=smollm2_path, ctx=2048, seed=5, threads=1, prompt_cache=False)
    with load_backend(settings, GREEDY) as loaded:
        yield loaded


def run(backend: LlamaBackend, prompt: Prompt, **options: object) -> tuple[list[str], Completion]:
    """Every streamed piece and the Completion of one turn."""
    stream = backend.stream_prompt(prompt, **options)  # type: ignore[arg-type]
    pieces: list[str] = []
    while True:
        try:
            pieces.append(next(stream))
        except StopIteration as done:
            return pieces, done.value


def ask(backend: LlamaBackend, text: str, system: str = "You are a helpful assistant.") -> Prompt:
    return backend.render(
        [ChatMessage(role="system", content=system), ChatMessage(role="user", content=text)]
    )


def test_a_stop_string_across_a_token_boundary_cuts_the_reply_before_it(
    tiny: LlamaBackend,
) -> None:
    prompt = ask(tiny, "Tell me something.")
    tiny.reset()
    pieces, whole = run(tiny, prompt)
    assert whole.finish_reason == "length" and whole.completion_tokens == GREEDY.max_tokens
    boundary = next(i for i in range(3, len(pieces) - 1) if pieces[i] and pieces[i + 1])
    stop = pieces[boundary][-2:] + pieces[boundary + 1][:2]  # ends one token, starts the next
    expected = whole.text[: whole.text.find(stop)]
    tiny.reset()
    cut_pieces, cut = run(tiny, prompt, stop=[stop])
    assert cut.text == expected and "".join(cut_pieces) == expected
    assert cut.finish_reason == "stop"
    # the next turn continues the cut reply: its prompt and the tokens that spell the kept text
    # come from the KV cache, the stop string's tokens are evaluated again only if kept
    follow = tiny.render(
        [
            ChatMessage(role="system", content="You are a helpful assistant."),
            ChatMessage(role="user", content="Tell me something."),
            ChatMessage(role="assistant", content=cut.text),
            ChatMessage(role="user", content="More."),
        ]
    )
    assert follow.text.startswith(prompt.text + cut.text)
    _, after = run(tiny, follow)
    assert after.cached_tokens >= cut.prompt_tokens + 1


def test_a_character_split_across_tokens_streams_whole(tiny: LlamaBackend) -> None:
    text = "naïve 😀 日本語"
    tiny.reset()
    pieces, completion = run(tiny, ask(tiny, "Say it."), grammar=f'root ::= "{text}"')
    assert completion.text == text and "".join(pieces) == text
    assert all("\ufffd" not in piece for piece in pieces)
    # the byte-level vocabulary spells some character with more than one token
    assert completion.completion_tokens > len(pieces)
    assert completion.finish_reason == "stop"  # the grammar then allowed only end-of-text


def test_token_counts_at_the_limit_and_at_the_end_of_text(tiny: LlamaBackend) -> None:
    prompt = ask(tiny, "Answer.")
    tiny.reset()
    _, limited = run(tiny, prompt, max_tokens=7)
    assert limited.completion_tokens == 7 and limited.finish_reason == "length"
    assert limited.tokens_per_s > 0 and 0 < limited.ttft_s <= limited.total_s
    _, ended = run(tiny, prompt, grammar='root ::= "yes"')
    assert ended.text == "yes" and ended.finish_reason == "stop"
    assert 1 <= ended.completion_tokens <= 3  # the tokens of "yes"; the end token not counted
    # the whole prompt was in the KV cache from the turn before: only its last token is replayed
    assert ended.cached_tokens == ended.prompt_tokens - 1


def grammars() -> list[str]:
    directive = get_syntax("directive")
    return [
        directive.grammar(list(TOOLS), tool_choice="required"),
        directive.grammar(list(TOOLS), tool_choice="auto"),
        get_syntax("json").grammar(list(TOOLS), tool_choice="required"),
        'root ::= ("yes" | "no") ", because " [a-z ]{4,60} "."',
    ]


def assert_same_tokens_both_ways(
    backend: LlamaBackend, prompts: Sequence[str], max_tokens: int
) -> None:
    """Under greedy decoding, checking each sampled token against the grammar gives exactly what
    filtering the vocabulary first gives."""
    for grammar in grammars():
        for text in prompts:
            prompt = ask(backend, text)
            checked = run(backend, prompt, grammar=grammar, max_tokens=max_tokens)[1]
            first = run(
                backend, prompt, grammar=grammar, max_tokens=max_tokens, grammar_first=True
            )[1]
            assert checked.text == first.text, (text, grammar[:60])
            assert checked.completion_tokens == first.completion_tokens
            assert checked.finish_reason == first.finish_reason


def test_the_checked_grammar_samples_what_the_grammar_first_path_samples(
    tiny: LlamaBackend,
) -> None:
    assert_same_tokens_both_ways(tiny, ["Please echo back 'hi'", "What time is it?"], 48)


def test_the_checked_grammar_samples_what_the_grammar_first_path_samples_with_smollm2(
    smollm2: LlamaBackend,
) -> None:
    assert_same_tokens_both_ways(
        smollm2, ["Please echo back 'Something to echo'", "What is 12 times 7?"], 24
    )


def test_text_the_grammar_forces_is_written_as_the_tokenizer_writes_it(
    smollm2: LlamaBackend,
) -> None:
    """A call's frame, forced by the grammar, comes as its canonical tokens in one batch instead
    of one sampled token at a time: the reply keeps to the grammar, the frame's tokens are the
    tokenizer's own, and far fewer tokens are sampled."""
    json_syntax = get_syntax("json")
    tools = list(TOOLS)
    grammar = json_syntax.grammar(tools, tool_choice="required")
    decoder = smollm2._decoder
    prompt = ask(smollm2, "Please echo back 'hi'", system=json_syntax.system_prompt(tools))
    smollm2.reset()
    before = decoder.forced_tokens
    _, completion = run(smollm2, prompt, grammar=grammar, max_tokens=48)
    forced = decoder.forced_tokens - before
    assert forced >= 4
    assert not json_syntax.parse(completion.text, tools).errors
    # the frame (`tool": "` after the `{"` the model chose, `", "arguments": {"`) is written as
    # the tokenizer writes the reply's text
    generated = decoder.evaluated[completion.prompt_tokens :]
    assert generated[:8] == decoder.tokenize(completion.text)[:8]
    decoder.jump_forward = False
    try:
        smollm2.reset()
        _, stepwise = run(smollm2, prompt, grammar=grammar, max_tokens=48)
    finally:
        decoder.jump_forward = True
    assert not json_syntax.parse(stepwise.text, tools).errors
    assert completion.completion_tokens - forced < stepwise.completion_tokens / 2


def test_a_repeat_penalty_still_keeps_to_the_grammar(tiny_model_path: Path) -> None:
    settings = ModelSettings(path=tiny_model_path, ctx=512, seed=5, threads=1, prompt_cache=False)
    sampling = SamplingSettings(temperature=0.9, repeat_penalty=1.3, max_tokens=40)
    with load_backend(settings, sampling) as loaded:
        grammar = 'root ::= ("yes" | "no") ", because " [a-z ]{4,30} "."'
        for _ in range(3):
            text = run(loaded, ask(loaded, "Why?"), grammar=grammar)[1].text
            assert text.startswith(("yes, because ", "no, because ")) and text.endswith(".")


SYSTEM = "You are a careful assistant that answers in one short sentence. " * 12


def warm(path: Path, cache: PromptCache, *, ctx: int = 1024) -> LlamaBackend:
    settings = ModelSettings(path=path, ctx=ctx, seed=5, threads=1)
    return load_backend(settings, GREEDY, prompt_cache=cache)


def test_a_second_process_reads_the_prompt_from_the_disk_cache(
    tiny_model_path: Path, tmp_path: Path
) -> None:
    cache = PromptCache(tmp_path)
    with warm(tiny_model_path, cache) as cold:
        prompt = ask(cold, "Please echo back 'hi'", SYSTEM)
        _, first = run(cold, prompt)
        assert cold.last_prompt_source == "none" and first.cached_tokens == 0
    assert len(list(tmp_path.glob(f"*{SUFFIX}"))) == 1
    with warm(tiny_model_path, cache) as again:
        _, second = run(again, prompt)
        assert again.last_prompt_source == "disk"
        assert second.cached_tokens == second.prompt_tokens - 1
        assert second.text == first.text  # the same state: the same greedy reply
        # another question after the same system prompt: the shared prefix comes from disk
        again.reset()
        question = ask(again, "What time is it?", SYSTEM)
        _, other = run(again, question)
        assert again.last_prompt_source == "disk"
        shared = common_prefix(again.prompt_tokens(prompt), again.prompt_tokens(question))
        assert shared > len(again.tokenize(ask(again, "", SYSTEM).parts[:2]))
        assert other.cached_tokens == shared
    assert len(list(tmp_path.glob(f"*{SUFFIX}"))) == 1  # mostly read from the cache: not saved


def test_another_prompt_settings_or_model_file_is_a_miss(
    tiny_model_path: Path, tmp_path: Path
) -> None:
    cache = PromptCache(tmp_path)
    with warm(tiny_model_path, cache) as cold:
        run(cold, ask(cold, "Please echo back 'hi'", SYSTEM))
    with warm(tiny_model_path, cache) as other:
        run(other, ask(other, "Please echo back 'hi'", "Another system prompt. " * 20))
        assert other.last_prompt_source == "none"
    with warm(tiny_model_path, cache, ctx=2048) as resized:
        run(resized, ask(resized, "Please echo back 'hi'", SYSTEM))
        assert resized.last_prompt_source == "none"
    copy = tmp_path / "copy.gguf"
    copy.write_bytes(tiny_model_path.read_bytes())
    with warm(copy, cache) as moved:
        run(moved, ask(moved, "Please echo back 'hi'", SYSTEM))
        assert moved.last_prompt_source == "none"


def test_a_corrupt_cache_file_is_a_miss_and_the_reply_is_unchanged(
    tiny_model_path: Path, tmp_path: Path
) -> None:
    cache = PromptCache(tmp_path)
    with warm(tiny_model_path, cache) as cold:
        prompt = ask(cold, "Please echo back 'hi'", SYSTEM)
        _, first = run(cold, prompt)
    (saved,) = tmp_path.glob(f"*{SUFFIX}")
    data = bytearray(saved.read_bytes())
    data[-100] ^= 0xFF  # inside the KV payload
    saved.write_bytes(bytes(data))
    with warm(tiny_model_path, cache) as again:
        _, second = run(again, prompt)
        assert again.last_prompt_source == "none" and second.cached_tokens == 0
        assert second.text == first.text
