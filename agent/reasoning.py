"""Reasoning models: `<think>…</think>` before the answer (Qwen3, DeepSeek-R1 distills).

    reasoning = Reasoning.detect(chat_template)        # NO_REASONING for templates without it
    opened = reasoning.opened_by(prompt_text)          # the prompt itself opened the block
    grammar = reasoning.constrain(grammar, opened=opened)
    thought, reply = reasoning.split(text, opened=opened)

The reasoning is kept out of the answer and out of call parsing, and decoding is constrained only
after it ends (a lazy grammar: free text up to `</think>`, then the syntax's grammar). Streamed
text is marked as reasoning or reply as it comes (`ReasoningStream`), holding back only what may
still turn out to be a tag.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.syntax.grammar import after_reasoning


@dataclass(frozen=True)
class Reasoning:
    """A template's reasoning block: the tags around it (empty: the model does not reason)."""

    open_tag: str = "<think>"
    close_tag: str = "</think>"

    @classmethod
    def detect(cls, chat_template: str | None) -> Reasoning:
        """The reasoning block of a template that knows one (it handles `</think>`), else
        NO_REASONING."""
        default = cls()
        known = chat_template is not None and default.close_tag in chat_template
        return default if known else NO_REASONING

    def opened_by(self, prompt: str) -> bool:
        """Whether `prompt` ends inside an open block (DeepSeek-R1's generation prompt opens it,
        so the model starts with its reasoning and writes only the closing tag)."""
        return bool(self.open_tag) and prompt.rstrip().endswith(self.open_tag)

    def constrain(self, gbnf: str, *, opened: bool) -> str:
        """`gbnf` applied only after the reasoning block, which is free text."""
        if not self.close_tag:
            return gbnf
        return after_reasoning(gbnf, self.open_tag, self.close_tag, opened=opened)

    def split(self, text: str, *, opened: bool) -> tuple[str, str]:
        """(reasoning, reply) of a whole reply; an unfinished block is all reasoning."""
        block = self._block(text, opened=opened)
        if block is None:
            return "", text
        start, close = block
        if close < 0:
            return text[start:].strip(), ""
        return text[start:close].strip(), text[close + len(self.close_tag) :].lstrip()

    def _block(self, text: str, *, opened: bool) -> tuple[int, int] | None:
        """Where the reasoning of `text` starts and where its closing tag is (-1: not yet);
        None when the reply has no reasoning block."""
        if not self.close_tag:
            return None
        start = 0
        if not opened:
            lead = len(text) - len(text.lstrip())
            if not text.startswith(self.open_tag, lead):
                return None
            start = lead + len(self.open_tag)
        return start, text.find(self.close_tag, start)

    def stream(self, *, opened: bool) -> ReasoningStream:
        """A splitter for this reply's streamed pieces."""
        return ReasoningStream(self, opened=opened)


class ReasoningStream:
    """Marks streamed text as reasoning (True) or reply (False) as soon as that is certain."""

    def __init__(self, reasoning: Reasoning, *, opened: bool) -> None:
        self._reasoning = reasoning
        self._opened = opened
        self._text = ""
        self._sent = 0

    def feed(self, piece: str) -> list[tuple[str, bool]]:
        """The text of `piece` (and of earlier held-back pieces) that is now known, marked."""
        self._text += piece
        return self._release(final=False)

    def finish(self) -> list[tuple[str, bool]]:
        """Whatever was held back, at the end of the reply."""
        return self._release(final=True)

    def _release(self, *, final: bool) -> list[tuple[str, bool]]:
        text, tags = self._text, self._reasoning
        head = text.lstrip()
        undecided = tags.close_tag and tags.open_tag.startswith(head) and head != tags.open_tag
        if undecided and not (final or self._opened):
            return []  # it may still become the opening tag
        block = tags._block(text, opened=self._opened)
        known = len(text)
        if block is None:
            boundary = 0
        elif block[1] < 0:  # still inside: hold back what may be the start of the closing tag
            known -= 0 if final else _partial_suffix(text, tags.close_tag)
            boundary = known
        else:  # the whitespace after the closing tag goes with the reasoning
            after = block[1] + len(tags.close_tag)
            boundary = len(text) - len(text[after:].lstrip())
        out: list[tuple[str, bool]] = []
        for start, end, thinking in ((self._sent, boundary, True), (boundary, known, False)):
            start = max(start, self._sent)
            if end > start:
                out.append((text[start:end], thinking))
                self._sent = end
        return out


NO_REASONING = Reasoning(open_tag="", close_tag="")
"""For models that do not reason: no block, every reply is all reply."""


def _partial_suffix(text: str, tag: str) -> int:
    """The length of the longest end of `text` that is a proper start of `tag`."""
    for length in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:length]):
            return length
    return 0
