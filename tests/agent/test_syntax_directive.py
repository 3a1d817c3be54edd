"""The directive syntax: `USE_TOOL: Echo, value=...` read, written, taught and fed back."""

from __future__ import annotations

import pytest
from syntax_samples import CALCULATOR, DATETIME, ECHO, FILES, TOOLS

from agent.messages import ToolCall
from agent.syntax import get_syntax

SYNTAX = get_syntax("directive")


def _args(text: str) -> list[tuple[str, dict[str, object]]]:
    parsed = SYNTAX.parse(text, TOOLS)
    assert parsed.errors == (), parsed.errors
    return [(call.name, dict(call.arguments)) for call in parsed.calls]


def test_the_seeds_example_keeps_the_whole_value() -> None:
    # The seed read `value=Something to echo` as "Something".
    assert _args("USE_TOOL: Echo, value=Something to echo") == [
        ("Echo", {"value": "Something to echo"})
    ]


@pytest.mark.parametrize(
    "text",
    [
        " USE_TOOL: Echo, value=Something to echo",  # SentencePiece models start with a space
        "USE_TOOL: Echo, value='Something to echo'",
        'USE_TOOL: Echo, value="Something to echo"',
        "USE_TOOL : Echo ,value = Something to echo  ",
        "USE_TOOL: Echo, Something to echo",  # one-parameter tool, no name
        'USE_TOOL: Echo, value="Something to echo", ',
        "USE_TOOL: Echo, value=Something to echo\r",
    ],
)
def test_variants_small_models_write(text: str) -> None:
    assert _args(text) == [("Echo", {"value": "Something to echo"})]


def test_quoted_values_take_json_escapes_and_commas() -> None:
    text = r'USE_TOOL: Echo, value="a, \"b\"\n\u00e9\\"'
    assert _args(text) == [("Echo", {"value": 'a, "b"\né\\'})]


def test_bare_value_runs_past_commas_unless_a_parameter_follows() -> None:
    assert _args("USE_TOOL: Echo, value=one, two, three=4") == [
        ("Echo", {"value": "one, two, three=4"})
    ]
    assert _args("USE_TOOL: DateTime, op=add, days=3, zone=Europe/Paris, exact=TRUE") == [
        ("DateTime", {"op": "add", "days": 3, "zone": "Europe/Paris", "exact": True})
    ]


def test_typed_values_only_when_they_read_as_the_type() -> None:
    assert _args("USE_TOOL: DateTime, op=x, days=three, scale=2.5") == [
        ("DateTime", {"op": "x", "days": "three", "scale": 2.5})
    ]
    assert _args('USE_TOOL: DateTime, op=5, days="7"') == [("DateTime", {"op": "5", "days": "7"})]


def test_several_calls_and_text_around_them() -> None:
    text = (
        "Let me check.\n"
        "USE_TOOL: Echo, value=hi\n"
        "Also: USE_TOOL: Calculator, expression=2+3*4\n"
        "USE_TOOL: Clock\n"
        "Done."
    )
    parsed = SYNTAX.parse(text, TOOLS)
    assert [c.name for c in parsed.calls] == ["Echo", "Calculator", "Clock"]
    assert parsed.content == "Let me check.\nAlso:\nDone."
    assert len({c.id for c in parsed.calls}) == 3
    assert all(len(c.id) == 9 and c.id.isalnum() for c in parsed.calls)


def test_unknown_tools_are_still_calls() -> None:
    assert _args("USE_TOOL: Weather, city=Paris, days=2") == [
        ("Weather", {"city": "Paris", "days": "2"})
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("USE_TOOL Echo, value=x", "must be followed by ':'"),
        ("USE_TOOL:", "no tool name"),
        ("USE_TOOL: Echo value=x", "expected ','"),
        ('USE_TOOL: Echo, value="open', "bad quoted value for 'value': unterminated string"),
        ('USE_TOOL: Echo, value="a" b', "unexpected text after the quoted value"),
        ("USE_TOOL: Echo, value=a, value=b", "given twice"),
        ("USE_TOOL: DateTime, now", "expected name=value"),
    ],
)
def test_malformed_calls_become_one_error_line(text: str, problem: str) -> None:
    parsed = SYNTAX.parse("before\n" + text + "\nafter", TOOLS)
    assert parsed.calls == ()
    assert parsed.content == "before\nafter"
    assert len(parsed.errors) == 1
    assert problem in parsed.errors[0]
    assert "\n" not in parsed.errors[0]


def test_plain_text_is_content() -> None:
    parsed = SYNTAX.parse("  The answer is 42.\n", TOOLS)
    assert parsed.content == "The answer is 42."
    assert parsed.calls == () and parsed.errors == ()


def test_render_writes_the_canonical_form() -> None:
    calls = [
        ToolCall(id="a", name="DateTime", arguments={"zone": "UTC", "op": "add", "days": 2}),
        ToolCall(id="b", name="Echo", arguments={"value": "a, b"}),
        ToolCall(id="c", name="Echo", arguments={"value": " padded"}),
        ToolCall(id="d", name="Files", arguments={"path": None, "pattern": "*.txt"}),
    ]
    assert SYNTAX.render(calls, TOOLS) == (
        "USE_TOOL: DateTime, op=add, zone=UTC, days=2\n"
        'USE_TOOL: Echo, value="a, b"\n'
        'USE_TOOL: Echo, value=" padded"\n'
        "USE_TOOL: Files, pattern=*.txt"
    )


def test_system_prompt_describes_every_tool_from_its_metadata() -> None:
    prompt = SYNTAX.system_prompt([ECHO, DATETIME, FILES], preamble="You are a test.")
    assert prompt.startswith("You are a test.\n\n")
    assert "Echo: Echoes back the input text\n  value: The text to echo\n" in prompt
    assert "\n  days? (integer): the days\n" in prompt
    # examples are calls in canonical order with placeholders for the values a model could copy;
    # the user's words, and examples that do not read, are left out
    assert "  e.g. USE_TOOL: Echo, value=<value>\n" in prompt
    assert "e.g. USE_TOOL: DateTime, op=<op>, zone=<zone>\n" in prompt
    assert "hello" not in prompt and "Paris" not in prompt and "please" not in prompt
    assert "USE_TOOL: <tool name>, <parameter>=<value>" in prompt


def test_system_prompt_without_tools_is_the_preamble() -> None:
    assert "USE_TOOL" not in SYNTAX.system_prompt([])


def test_messages_fed_back() -> None:
    reply = "USE_TOOL: Echo, value=hi"
    parsed = SYNTAX.parse(reply, TOOLS)
    turn = SYNTAX.assistant_message(reply, parsed)
    assert turn.role == "assistant" and turn.content == reply and turn.tool_calls == parsed.calls
    call = parsed.calls[0]
    ok = SYNTAX.result_message(call, "hi", ok=True)
    assert (ok.role, ok.tool_call_id, ok.name, ok.content) == (
        "tool",
        call.id,
        "Echo",
        "Result of Echo: hi",
    )
    bad = SYNTAX.result_message(call, "trap: unreachable", ok=False)
    assert bad.content == "Error from Echo: trap: unreachable"


def test_feedback_names_the_problem_and_the_tools() -> None:
    parsed = SYNTAX.parse("USE_TOOL Echo", TOOLS)
    message = SYNTAX.feedback_message(parsed.errors, [ECHO, CALCULATOR, DATETIME])
    assert message.role == "user"
    assert parsed.errors[0] in message.content
    assert "Echo(value: string), Calculator(expression: string)" in message.content
    assert "DateTime(zone?: string, op: string, days?: integer" in message.content
    assert "USE_TOOL: <tool name>" in message.content
