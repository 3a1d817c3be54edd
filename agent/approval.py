"""Asking the person: the one seam through which anything that needs a human's yes goes.

A capability a tool was denied (issue 13: a directory, a host, an environment variable) and a
tool the model wrote (issue 16) are put to the person as an `ApprovalRequest`; the answer is one
of the request's `choices`. The model never answers: only an `Approver` the front end installs
does (`agent chat` asks on the terminal; `agent run` is not interactive and uses `Refuse`, which
always answers "deny" so that the caller reports the flag that would grant it).

    approver.ask(ApprovalRequest(kind="capability", subject="files", title="...",
                                 detail="...", choices=("once", "session", "always", "deny")))
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

ApprovalKind = Literal["capability", "new_tool"]


class ApprovalRequest(BaseModel):
    """One question for the person; the last of `choices` is the refusal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ApprovalKind
    subject: str = Field(description="the tool the request is about (the name it is loaded as)")
    title: str = Field(description="one line: what is asked")
    detail: str = Field(default="", description="what the person should see before answering")
    choices: tuple[str, ...] = Field(min_length=2)

    @property
    def refusal(self) -> str:
        """The answer that refuses (the last choice)."""
        return self.choices[-1]


class Approver(Protocol):
    """Answers approval requests; implementations must return one of `request.choices`."""

    def ask(self, request: ApprovalRequest) -> str:
        """The person's answer."""
        ...


class Refuse:
    """The non-interactive approver: refuses everything (and remembers what it refused)."""

    def __init__(self) -> None:
        self.refused: list[ApprovalRequest] = []

    def ask(self, request: ApprovalRequest) -> str:
        """Always the refusal."""
        self.refused.append(request)
        return request.refusal


class ScriptedApprover:
    """A fake for tests: answers from a script in order (then refuses), recording each request."""

    def __init__(self, answers: Iterable[str] = ()) -> None:
        self._answers = list(answers)
        self.asked: list[ApprovalRequest] = []

    def ask(self, request: ApprovalRequest) -> str:
        """The next scripted answer, or the refusal when the script is used up or the scripted
        answer is not one of the request's choices."""
        self.asked.append(request)
        answer = self._answers.pop(0) if self._answers else request.refusal
        return answer if answer in request.choices else request.refusal


__all__ = ["ApprovalKind", "ApprovalRequest", "Approver", "Refuse", "ScriptedApprover"]
