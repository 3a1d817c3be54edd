"""Token bytes to streamed text: split UTF-8 characters and stop strings across tokens."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent.tokentext import StopMatcher, TokenText


def stream(text: TokenText, chunks: list[bytes]) -> tuple[str, bool]:
    """Feed every chunk (until a stop) and finish; the whole text and whether it stopped."""
    out: list[str] = []
    for chunk in chunks:
        piece, stopped = text.feed(chunk)
        out.append(piece)
        if stopped:
            return "".join(out), True
    return "".join(out) + text.finish(), False


def test_a_character_split_across_tokens_comes_out_whole_once() -> None:
    text = TokenText()
    encoded = "é😀".encode()
    pieces = [text.feed(encoded[i : i + 1])[0] for i in range(len(encoded))]
    assert pieces == ["", "é", "", "", "", "😀"]
    assert text.finish() == ""


def test_invalid_bytes_are_dropped_and_an_unfinished_character_at_the_end_too() -> None:
    assert stream(TokenText(), [b"ok\xff", b" then", "😀".encode()[:2]]) == ("ok then", False)


def test_a_stop_string_split_across_tokens_cuts_the_text_before_it() -> None:
    text = TokenText(["<|im_end|>"])
    assert text.feed(b"Hello <|im") == ("Hello ", False)  # the tail may start the stop string
    assert text.feed(b"_en") == ("", False)
    assert text.feed(b"d|> more") == ("", True)


def test_a_tail_that_does_not_become_a_stop_string_is_released() -> None:
    text = TokenText(["STOP"])
    assert text.feed(b"a ST") == ("a ", False)
    assert text.feed(b"x") == ("STx", False)
    assert text.feed(b"ST") == ("", False)
    assert text.finish() == "ST"


def test_the_earliest_of_several_stop_strings_wins() -> None:
    assert stream(TokenText(["bb", "a b"]), [b"xa", b" bb"]) == ("x", True)


def test_no_stop_strings_passes_everything_through() -> None:
    matcher = StopMatcher(["", ""])
    assert matcher.feed("abc") == ("abc", False) and matcher.finish() == ""


@given(
    text=st.text(max_size=40),
    stop=st.text(min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=12),
)
def test_streamed_in_any_chunks_the_text_is_as_cut_at_once(
    text: str, stop: str, cuts: list[int]
) -> None:
    """Whatever the token boundaries, the output is the text up to the first stop string."""
    data = text.encode()
    bounds = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    chunks = [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    found = text.find(stop)
    expected = (text[:found], True) if found >= 0 else (text, False)
    assert stream(TokenText([stop]), chunks) == expected
