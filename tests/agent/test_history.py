"""The history database: exchanges recorded from a session's events, read back whole, listed
newest first, consistent under concurrent writers and after a killed run."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent import FakeBackend, FakeExecutor, LoopSettings, Session
from agent.errors import HistoryError
from agent.history import HistoryRecorder, HistoryStore
from tool_runner import ToolMetadata, ToolParam

ECHO = ToolMetadata(
    name="Echo",
    description="Echoes the value back",
    version="1",
    params=(ToolParam(name="value", description="what to echo", type="string", required=True),),
)


def _session(replies: list[str]) -> Session:
    executor = FakeExecutor({ECHO: lambda args: f"echo: {args['value']}"})
    return Session(
        FakeBackend(replies), executor, LoopSettings(syntax="directive"), model="fake.gguf"
    )


def _ask(session: Session, recorder: HistoryRecorder, text: str) -> None:
    recorder.begin(text)
    for event in session.ask(text):
        recorder.add(event)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1.5
        return self.now


def test_an_exchange_holds_the_prompt_answer_calls_and_timings(tmp_path: Path) -> None:
    session = _session(["USE_TOOL: Echo, value=hi", "It said hi."])
    with HistoryStore.open(tmp_path / "logs.db") as store:
        recorder = HistoryRecorder(store, model=session.model, load_s=0.25, clock=Clock())
        _ask(session, recorder, "Echo hi")
        (exchange,) = store.conversation(recorder.conversation_id).exchanges
    assert exchange.seq == 1 and exchange.prompt == "Echo hi" and exchange.answer == "It said hi."
    assert exchange.duration_s == 1.5 and exchange.started.year == 2023
    t = exchange.transcript
    assert t.model == "fake.gguf" and t.load_s == 0.25 and t.stop_reason is None
    (call,) = t.steps[0].calls
    assert call.name == "Echo" and call.arguments == {"value": "hi"}
    assert call.result.output == "echo: hi"
    assert t.totals["tool_calls"] == 1 and len(t.steps) == 2


def test_a_conversation_resumes_with_its_messages(tmp_path: Path) -> None:
    session = _session(["first answer", "second answer", "third answer"])
    with HistoryStore.open(tmp_path / "logs.db") as store:
        recorder = HistoryRecorder(store, model=session.model)
        _ask(session, recorder, "one")
        _ask(session, recorder, "two")
        conversation = store.conversation(recorder.conversation_id[:5])  # a prefix names it
        assert [e.seq for e in conversation.exchanges] == [1, 2]
        messages = conversation.messages
        assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
        assert messages[-1].content == "second answer"

        resumed = _session(["third answer"])
        resumed.restore(messages)
        later = HistoryRecorder(store, model=resumed.model, conversation_id=conversation.id)
        _ask(resumed, later, "three")
        prompt = resumed.backend.prompts[-1]  # type: ignore[attr-defined]
        assert "one" in prompt and "second answer" in prompt and "three" in prompt
        assert [e.seq for e in store.conversation(conversation.id).exchanges] == [1, 2, 3]


def test_conversations_are_listed_newest_first(tmp_path: Path) -> None:
    clock = Clock()
    with HistoryStore.open(tmp_path / "logs.db") as store:
        ids = []
        for text in ("alpha", "beta", "gamma"):
            session = _session([f"{text} answer"])
            recorder = HistoryRecorder(store, model="m.gguf", clock=clock)
            _ask(session, recorder, text)
            ids.append(recorder.conversation_id)
        listed = store.conversations(limit=2)
        assert [c.id for c in listed] == [ids[2], ids[1]]
        assert listed[0].first_prompt == "gamma" and listed[0].last_answer == "gamma answer"
        assert listed[0].exchanges == 1 and store.latest_id() == ids[2]


def test_a_stopped_run_is_logged_with_its_reason(tmp_path: Path) -> None:
    session = _session(["USE_TOOL: Echo, value=a"])
    session.settings = LoopSettings(syntax="directive", max_steps=1)
    with HistoryStore.open(tmp_path / "logs.db") as store:
        recorder = HistoryRecorder(store, model=session.model)
        _ask(session, recorder, "go")
        (summary,) = store.conversations()
        assert summary.last_answer is None
        exchange = store.conversation(summary.id).exchanges[0]
        assert exchange.transcript.stop_reason == "step_limit"


def test_an_interrupted_turn_is_not_logged(tmp_path: Path) -> None:
    session = _session(["a reply that is cut short"])
    with HistoryStore.open(tmp_path / "logs.db") as store:
        recorder = HistoryRecorder(store, model=session.model)
        recorder.begin("hi")
        for event in session.ask("hi"):
            recorder.add(event)
            if event.kind == "token":
                break  # as Ctrl-C would
        assert store.conversations() == [] and session.history == ()


@pytest.mark.parametrize(
    ("given", "message"),
    [("", "ids are hex digits"), ("xyz", "ids are hex digits"), ("abc", "no conversation")],
)
def test_unknown_ids_are_one_line_errors(tmp_path: Path, given: str, message: str) -> None:
    with HistoryStore.open(tmp_path / "logs.db") as store, pytest.raises(HistoryError) as info:
        store.conversation(given)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_an_ambiguous_prefix_is_refused(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path / "logs.db") as store:
        for cid in ("abc111", "abc222"):
            recorder = HistoryRecorder(store, model="m", conversation_id=cid)
            _ask(_session(["ok"]), recorder, "q")
        assert store.resolve_id("abc1") == "abc111"
        with pytest.raises(HistoryError, match="more than one"):
            store.resolve_id("abc")


def test_a_database_that_is_not_one_is_a_one_line_error(tmp_path: Path) -> None:
    bogus = tmp_path / "logs.db"
    bogus.write_text("this is not a database" * 100)
    with pytest.raises(HistoryError, match="cannot use the history database"):
        HistoryStore.open(bogus)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    sqlite3.connect(path).execute("PRAGMA user_version=99").connection.close()
    with pytest.raises(HistoryError, match="newer version"):
        HistoryStore.open(path)


def test_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    HistoryStore.open(tmp_path / "logs.db").close()
    db = sqlite3.connect(tmp_path / "logs.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


_WRITER = """
import sys
from pathlib import Path
from agent.history import HistoryStore
from agent.transcript import Transcript
path, cid, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with HistoryStore.open(path) as store:
    for n in range(count):
        store.add(cid, f"q{n}", Transcript(model="m", answer=f"a{n}"), started=n, duration_s=0.0)
"""


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    HistoryStore.open(path).close()
    count = 60
    # both write to one shared conversation and one of their own: seq numbers must not collide
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), cid, str(count)])
        for cid in ("aaaa", "aaaa", "bbbb")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    with HistoryStore.open(path) as store:
        shared = store.conversation("aaaa").exchanges
        assert sorted(e.seq for e in shared) == list(range(1, 2 * count + 1))
        assert len(store.conversation("bbbb").exchanges) == count


_KILLED = """
import os, signal, sys
from pathlib import Path
from agent.history import HistoryStore
from agent.transcript import Transcript
with HistoryStore.open(Path(sys.argv[1])) as store:
    store.add("cccc", "kept", Transcript(model="m", answer="a"), started=1, duration_s=0.0)
    store._db.execute("BEGIN IMMEDIATE")
    store._db.execute(
        "INSERT INTO conversations (id, started, model) VALUES ('dddd', 2, 'm')")
    os.kill(os.getpid(), signal.SIGKILL)  # mid-transaction, as a killed run
"""


def test_a_run_killed_mid_write_leaves_the_database_consistent(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    killed = subprocess.run([sys.executable, "-c", _KILLED, str(path)], timeout=60)
    assert killed.returncode < 0
    with HistoryStore.open(path) as store:
        assert [c.id for c in store.conversations()] == ["cccc"]
        assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with pytest.raises(HistoryError):
            store.conversation("dddd")
