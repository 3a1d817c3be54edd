"""The model-native JSON syntaxes (hermes, llama3, mistral, json), syntax detection, the facade."""

from __future__ import annotations

import pytest
from syntax_samples import CALCULATOR, DATETIME, ECHO, TOOLS

from agent.errors import ConfigError
from agent.messages import ToolCall
from agent.syntax import SYNTAXES, detect_syntax, get_syntax


def _calls(name: str, text: str) -> list[tuple[str, dict[str, object]]]:
    parsed = get_syntax(name).parse(text, TOOLS)
    assert parsed.errors == (), parsed.errors
    return [(call.name, dict(call.arguments)) for call in parsed.calls]


ECHO_X = [("Echo", {"value": "x"})]


def test_get_syntax_knows_every_name_and_lists_them_on_error() -> None:
    assert [get_syntax(name).name for name in SYNTAXES] == list(SYNTAXES)
    with pytest.raises(ConfigError, match="unknown call syntax 'xml'.*directive, hermes"):
        get_syntax("xml")


# -- hermes ------------------------------------------------------------------------------------


def test_hermes_blocks_with_text_around() -> None:
    text = (
        "Sure.\n<tool_call>\n"
        '{"name": "Echo", "arguments": {"value": "x"}}\n</tool_call>\n'
        '<tool_call>{"name": "Calculator", "arguments": "{\\"expression\\": \\"1+1\\"}"}'
        "</tool_call>\nthanks"
    )
    parsed = get_syntax("hermes").parse(text, TOOLS)
    assert [(c.name, c.arguments) for c in parsed.calls] == [
        ("Echo", {"value": "x"}),
        ("Calculator", {"expression": "1+1"}),
    ]
    assert parsed.content == "Sure.\nthanks"


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>\n{"name": "Echo", "arguments": {"value": "x"}}\n</tool_call>',
        '<tool_call>\n```json\n{"name": "Echo", "arguments": {"value": "x"}}\n```\n</tool_call>',
        '<tool_call>{"name": "Echo", "arguments": {"value": "x"}}',  # cut before the close tag
        '<tool_call>[{"name": "Echo", "parameters": {"value": "x"}}]</tool_call>',
        '<tool_call>{"function": {"name": "Echo", "arguments": "{\\"value\\": \\"x\\"}"}}'
        "</tool_call>",
        '{"name": "Echo", "arguments": {"value": "x"}}',  # no tags at all
    ],
)
def test_hermes_leniency(text: str) -> None:
    assert _calls("hermes", text) == ECHO_X


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<tool_call>\nEcho x\n</tool_call>", "no call object in <tool_call>"),
        ('<tool_call>{"name": "Echo", "arguments": {"value": "x', "block is not closed"),
        ('<tool_call>{"name": 3}</tool_call>', "tool name as a string"),
        ('<tool_call>{"name": "Echo", "arguments": [1]}</tool_call>', "must be a JSON object"),
    ],
)
def test_hermes_errors(text: str, problem: str) -> None:
    parsed = get_syntax("hermes").parse(text, TOOLS)
    assert parsed.calls == ()
    assert len(parsed.errors) == 1 and problem in parsed.errors[0]


def test_structured_values_are_read_whole() -> None:
    """Arrays and objects are argument values (for structured parameters); whether one fits its
    parameter is for validation, before any tool runs, to say."""
    text = (
        '<tool_call>{"name": "Echo", "arguments": {"value": {"a": [1, {"b": null}]}}}</tool_call>'
    )
    parsed = get_syntax("hermes").parse(text, TOOLS)
    assert parsed.errors == ()
    assert [c.arguments for c in parsed.calls] == [{"value": {"a": [1, {"b": None}]}}]


def test_hermes_plain_json_answer_is_content() -> None:
    parsed = get_syntax("hermes").parse('{"answer": 42}', TOOLS)
    assert parsed.calls == () and parsed.errors == () and parsed.content == '{"answer": 42}'


# -- llama3 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "Echo", "parameters": {"value": "x"}}',
        '<|python_tag|>{"name": "Echo", "parameters": {"value": "x"}}',
        ' \n{"name": "Echo", "arguments": {"value": "x"}}<|eom_id|>',
        '```json\n{"name": "Echo", "parameters": {"value": "x"}}\n```',
    ],
)
def test_llama3_calls(text: str) -> None:
    assert _calls("llama3", text) == ECHO_X


def test_llama3_several_calls_and_trailing_text() -> None:
    text = '{"name": "Echo", "parameters": {"value": "x"}}; {"name": "Clock", "parameters": {}} ok'
    parsed = get_syntax("llama3").parse(text, TOOLS)
    assert [c.name for c in parsed.calls] == ["Echo", "Clock"]
    assert parsed.content == "ok"


def test_llama3_text_and_broken_json() -> None:
    syntax = get_syntax("llama3")
    assert syntax.parse("Paris is the capital.", TOOLS).content == "Paris is the capital."
    assert syntax.parse('{"a": 1} is JSON', TOOLS).calls == ()
    broken = syntax.parse('{"name": "Echo", "parameters": {"value": ', TOOLS)
    assert broken.calls == () and "invalid JSON" in broken.errors[0]


# -- mistral -----------------------------------------------------------------------------------


def test_mistral_list_of_calls() -> None:
    text = (
        '[TOOL_CALLS][{"name": "Echo", "arguments": {"value": "x"}}, '
        '{"name": "Calculator", "arguments": {"expression": "2"}}]'
    )
    assert _calls("mistral", text) == [*ECHO_X, ("Calculator", {"expression": "2"})]


@pytest.mark.parametrize(
    "text",
    [
        '[TOOL_CALLS] {"name": "Echo", "arguments": {"value": "x"}}',
        '[{"name": "Echo", "arguments": {"value": "x"}}]',
    ],
)
def test_mistral_leniency(text: str) -> None:
    assert _calls("mistral", text) == ECHO_X


def test_mistral_marker_without_json() -> None:
    parsed = get_syntax("mistral").parse("[TOOL_CALLS] sorry", TOOLS)
    assert "no call object after [TOOL_CALLS]" in parsed.errors[0]
    assert parsed.content == "sorry"


# -- json --------------------------------------------------------------------------------------


def test_json_objects_one_per_line() -> None:
    text = '{"tool": "Echo", "arguments": {"value": "x"}}\n{"tool": "Clock", "arguments": {}}'
    assert _calls("json", text) == [*ECHO_X, ("Clock", {})]
    assert _calls("json", '```json\n{"tool": "Echo", "arguments": {"value": "x"}}\n```') == ECHO_X


# -- shared ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "hermes",
            '<tool_call>\n{"name": "DateTime", "arguments": {"op": "add", "zone": "UTC", '
            '"days": 2}}\n</tool_call>\n<tool_call>\n{"name": "Echo", "arguments": '
            '{"value": "é \\"q\\"\\n"}}\n</tool_call>',
        ),
        (
            "llama3",
            '{"name": "DateTime", "parameters": {"op": "add", "zone": "UTC", "days": 2}}\n'
            '{"name": "Echo", "parameters": {"value": "é \\"q\\"\\n"}}',
        ),
        (
            "mistral",
            '[TOOL_CALLS][{"name": "DateTime", "arguments": {"op": "add", "zone": "UTC", '
            '"days": 2}}, {"name": "Echo", "arguments": {"value": "é \\"q\\"\\n"}}]',
        ),
        (
            "json",
            '{"tool": "DateTime", "arguments": {"op": "add", "zone": "UTC", "days": 2}}\n'
            '{"tool": "Echo", "arguments": {"value": "é \\"q\\"\\n"}}',
        ),
    ],
)
def test_render_canonical(name: str, expected: str) -> None:
    calls = [
        ToolCall(id="a", name="DateTime", arguments={"days": 2, "zone": "UTC", "op": "add"}),
        ToolCall(id="b", name="Echo", arguments={"value": 'é "q"\n'}),
    ]
    assert get_syntax(name).render(calls, TOOLS) == expected


@pytest.mark.parametrize("name", ["hermes", "llama3", "mistral", "json"])
def test_native_system_prompts(name: str) -> None:
    syntax = get_syntax(name)
    prompt = syntax.system_prompt([ECHO, CALCULATOR, DATETIME])
    assert "Echo: Echoes back the input text\n  value: The text to echo\n" in prompt
    assert "\n  op: the op\n" in prompt and "\n  days? (integer): the days\n" in prompt
    # the examples' arguments, with placeholders for the values; the call form once, below
    example = syntax.render([ToolCall(id="x", name="Echo", arguments={"value": "<value>"})], [ECHO])
    assert '"\\u003cvalue>"' in example  # what a model would have to write: the escape
    assert '\n  e.g. {"value": "<value>"}\n' in prompt
    assert "hello" not in prompt and "USE_TOOL" not in prompt
    assert "call DateTime please" not in prompt  # unreadable examples are left out


@pytest.mark.parametrize("name", ["hermes", "llama3", "mistral", "json"])
def test_native_messages(name: str) -> None:
    syntax = get_syntax(name)
    call = ToolCall(id="abc123def", name="Echo", arguments={"value": "x"})
    assert syntax.result_message(call, "x", ok=True).content == "x"
    failed = syntax.result_message(call, "boom", ok=False)
    assert (failed.role, failed.content, failed.tool_call_id) == (
        "tool",
        "Error: boom",
        "abc123def",
    )
    feedback = syntax.feedback_message(["malformed call: bad"], [ECHO])
    assert "malformed call: bad" in feedback.content and "Echo(value: string)" in feedback.content


# -- detection ---------------------------------------------------------------------------------

QWEN25 = (
    "{%- if tools %}{{- '<|im_start|>system\\n' }}{%- for tool in tools %}{{- tool | tojson }}"
    '{%- endfor %}{{- "\\n</tools>\\n\\nFor each function call, return a json object with '
    "function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n"
    '{\\"name\\": ..." }}{%- endif %}'
)
LLAMA32 = (
    '{%- if tools is not none %}{{- "Environment: ipython\\n" }}{%- endif %}'
    '{{- \'Respond in the format {"name": function name, "parameters": dictionary of argument '
    "name and its value}.' }}{%- if builtin_tools is defined %}"
    "{{- '<|python_tag|>' + tool_call.name }}{%- endif %}"
)
LLAMA32_NO_TAG = (  # the tool-call branch of a Llama 3.2 template, without <|python_tag|>
    "{%- if message.role == 'ipython' or message.role == 'tool' %}"
    "{{- '<|start_header_id|>ipython<|end_header_id|>\\n\\n' }}{%- endif %}"
    "{{- '{\"name\": \"' + tool_call.name + '\", ' }}{{- '\"parameters\": ' }}"
)
HERMES3 = (  # Hermes 3 on Llama 3.1: ChatML with <tool_call>, and "tool" turns
    "{%- if message.role == 'tool' %}{{- '<|im_start|>tool\\n<tool_response>\\n' }}{%- endif %}"
    "{{- '<tool_call>\\n{\"name\": \"' + tool_call.name + '\"' }}"
)
MISTRAL = (
    '{%- if message.tool_calls %}{{- "[TOOL_CALLS][" }}{%- for tool_call in message.tool_calls %}'
)
PHI3 = (
    "{% for message in messages %}{% if message['role'] == 'system' %}"
    "{{'<|system|>\n' + message['content'] + '<|end|>\n'}}"
    "{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
GENERIC_TOOLS = "{% if tools %}<|tool|>{{ tools | tojson }}<|/tool|>{% endif %}{{ messages }}"
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (QWEN25, "hermes"),
        (LLAMA32, "llama3"),
        (LLAMA32_NO_TAG, "llama3"),
        (HERMES3, "hermes"),
        (MISTRAL, "mistral"),
        (PHI3, "hermes"),  # no tools in the template: the common format
        (GENERIC_TOOLS, "json"),
        (CHATML, "hermes"),  # no tools in the template: the common format
        (None, "hermes"),  # no tools in the template: the common format
        ("   ", "hermes"),  # no tools in the template: the common format
    ],
)
def test_detect_syntax_from_the_template(template: str | None, expected: str) -> None:
    assert detect_syntax(template) == expected
