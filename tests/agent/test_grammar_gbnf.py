"""validate_gbnf: the pure-Python mirror of llama.cpp's GBNF parser, checked against llama.cpp."""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.errors import GrammarError, InvalidGrammarError
from agent.syntax import validate_gbnf
from agent.syntax.gbnf import parse_gbnf
from tests.hypothesis_profiles import examples

PROBE = Path(__file__).with_name("gbnf_probe.py")

VALID = [
    'root ::= "a"',
    'root ::= "a" | "b" | ""',
    "root ::= x+ y* z?\nx ::= [a-z]\ny ::= [^\\n\\]\\\\]\nz ::= .",
    'root ::= ("a" | "b"){2,5} "c"{3} "d"{1,}',
    'root ::= "\\x41\\u00e9\\U0001F600\\t\\r\\n\\"\\[\\]"',
    "# comment\nroot ::= item # trailing comment\n\nitem ::= [0-9]",
    'root ::= (\n  "a"\n  | "b"\n)',
    'root ::= "a" |\n  "b"',
    'root ::= "é" [α-ω]',
    'root ::= x\nx ::= "a" x | ""',  # right recursion is fine
    "root ::= [-a] [a-] []",
    'root ::= "a"{0}',
]

BROKEN = [
    ("", "no 'root' rule"),
    ('item ::= "a"', "no 'root' rule"),
    ("root ::= item", "undefined rule 'item'"),
    ('root ::= ("a"', "expecting ')'"),
    ('root ::= "a")', "expecting newline or end"),
    ('root ::= "\\q"', "unknown escape \\q"),
    ('root ::= "\\x4"', "expecting 2 hex digits"),
    ('root ::= "abc', "unexpected end of input"),
    ("root ::= [abc", "unexpected end of input"),
    ("root ::= [a-", "unexpected end of input"),
    ('root := "a"', "expecting '::='"),
    ('root ::= * "a"', "expecting an item before '*'"),
    ('root ::= "a"{x}', "expecting an integer"),
    ('root ::= "a"{2', "expecting ',' or '}'"),
    ('root ::= "a"{2,3', "expecting '}'"),
    ('root ::= "a"{3,1}', "max below min"),
    ('root ::= "a"{2001}', "repetition count over 2000"),
    ('root ::= root "a"', "left recursion"),
    ('root ::= x "a"\nx ::= "" | root', "left recursion"),
    ('root ::= "a"\nroot ::= "b"', "defined twice"),
    ('root ::= "a\x00"', "NUL"),
    ('rööt ::= "a"', "expecting '::='"),
]


@pytest.mark.parametrize("grammar", VALID)
def test_accepts_valid_grammars(grammar: str) -> None:
    validate_gbnf(grammar)


@pytest.mark.parametrize(("grammar", "reason"), BROKEN)
def test_rejects_broken_grammars_with_where_and_why(grammar: str, reason: str) -> None:
    with pytest.raises(InvalidGrammarError) as caught:
        validate_gbnf(grammar)
    error = caught.value
    assert isinstance(error, GrammarError)
    assert reason in error.reason
    assert str(error).startswith(
        f"invalid GBNF grammar at line {error.line}, column {error.column}"
    )
    assert "\n" not in str(error)


def test_error_names_the_rule_and_position() -> None:
    with pytest.raises(InvalidGrammarError) as caught:
        validate_gbnf('root ::= "a"\nitem ::= ("b" | "c"')
    assert (caught.value.rule, caught.value.line) == ("item", 2)
    with pytest.raises(InvalidGrammarError) as caught:
        validate_gbnf('root ::= "a" part\npart ::= "b" missing')
    assert (caught.value.rule, caught.value.line, caught.value.column) == ("part", 2, 14)


def test_accepts_llama_cpp_sample_grammars() -> None:
    from llama_cpp import llama_grammar

    samples = [v for k, v in vars(llama_grammar).items() if k.endswith("_GBNF")]
    assert len(samples) >= 5
    for grammar in samples:
        validate_gbnf(grammar)


def test_repetitions_expand_like_llama_cpp() -> None:
    rules = parse_gbnf('root ::= "a"{1,3}')
    # "a" then two nested optional rules, as llama.cpp's handle_repetitions writes them
    assert len(rules) == 3


GBNF_PIECES = ['"a"', '"', "[", "]", "^", "-", "a-z", "(", ")", "|", "*", "+", "?", "{", "}",
               "1", ",", "2", "::=", " ", "\n", "#", "\\", "x", "root", "item", ".", "\\n",
               "\\x4", "é"]  # fmt: skip
GBNF_LIKE = st.lists(st.sampled_from(GBNF_PIECES), max_size=25).map("".join)


@settings(max_examples=examples(300))
@given(text=GBNF_LIKE | st.text(max_size=40))
def test_only_ever_raises_grammar_errors(text: str) -> None:
    with contextlib.suppress(GrammarError):
        validate_gbnf(text)
    with contextlib.suppress(GrammarError):
        validate_gbnf("root ::= " + text)


def llama_cpp_accepts(model: Path, grammars: list[str]) -> list[bool]:
    """Ask real llama.cpp (in a child process, which a bad grammar could crash) to build a
    grammar sampler for each grammar."""
    result = subprocess.run(
        [sys.executable, str(PROBE), str(model)],
        input=json.dumps(grammars),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    verdicts: list[bool] = json.loads(result.stdout)
    return verdicts


def _ours(grammar: str) -> bool:
    try:
        validate_gbnf(grammar)
    except GrammarError:
        return False
    return True


def _random_grammars(count: int) -> list[str]:
    rng = random.Random(20240605)
    pieces = ['"a"', '"b"', "[a-c]", "[^x]", ".", "(", ")", "|", "*", "+", "?", "{1,2}", "{2}",
              "{1,}", " ", "x", "root", "\\", '"\\', "[", "]", "#c\n"]  # fmt: skip
    out = []
    for _ in range(count):
        body = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        tail = rng.choice(["", '\nx ::= "y"', "\nx ::= x", '\nx ::= "a" root'])
        out.append(f"root ::= {body}{tail}")
    return out


# Grammars we refuse on purpose although llama.cpp takes them: the empty string (it means "no
# grammar" there), a rule defined twice (it keeps the last definition), and `{m,n}` with n < m
# (llama.cpp 0.3.36 hangs on it, forever).
STRICTER = {"", 'root ::= "a"\nroot ::= "b"'}
HANGS_LLAMA_CPP = {'root ::= "a"{3,1}'}


def test_agrees_with_llama_cpp(tiny_model_path: Path) -> None:
    handwritten = VALID + [g for g, _ in BROKEN if "\x00" not in g and g not in HANGS_LLAMA_CPP]
    corpus = handwritten + _random_grammars(400)
    theirs = llama_cpp_accepts(tiny_model_path, corpus)
    disagreements = [
        (grammar, ours, their)
        for grammar, their in zip(corpus, theirs, strict=True)
        if (ours := _ours(grammar)) != their and grammar not in STRICTER
    ]
    assert disagreements == []
    assert sum(theirs) > 50 and len(theirs) - sum(theirs) > 50  # both verdicts well covered
