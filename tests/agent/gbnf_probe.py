"""Child process for the grammar tests: reads a JSON list of GBNF strings on stdin, builds a real
llama.cpp grammar sampler for each (vocabulary-only model load) and prints a JSON list of
whether llama.cpp accepted it. Runs apart because a grammar llama.cpp mishandles can crash it."""

from __future__ import annotations

import json
import os
import sys

import llama_cpp


def main() -> None:
    grammars = json.load(sys.stdin)
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(sys.argv[1].encode(), params)
    if not model:
        sys.exit("cannot load the model")
    vocab = llama_cpp.llama_model_get_vocab(model)
    verdicts = []
    for grammar in grammars:
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
        verdicts.append(bool(sampler))
        if sampler:
            llama_cpp.llama_sampler_free(sampler)
    llama_cpp.llama_model_free(model)
    sys.stdout.write(json.dumps(verdicts))
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown of the native library


if __name__ == "__main__":
    main()
