"""What a tool says about itself: the data read from a component's `get-metadata` export.

A parameter's `type` on the wire (the WIT `param` record) is a JSON Schema type name, or, to
narrow it, a JSON Schema fragment: `{"type": "string", "enum": ["now", "add"]}`,
`{"type": "integer", "minimum": 1, "maximum": 65536}`. Components that predate the fragments
keep working; `ToolParam.from_wire` reads both (guests write them: `tools/pyguest/toolspec.py`,
`wit-lib/c/llm_agent_tool.h`).

A parameter derived from a WIT type that a type name with an enum or bounds cannot say (a
record, a list, a variant, a `char`...) carries its complete JSON Schema in `type_schema`, and
`type` is that schema's top-level type. `ToolMetadata.input_schema` is derived from the
parameters, the one source: it is never stored apart from them.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Sequence
from functools import cached_property
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ModelWrapValidatorHandler,
    computed_field,
    model_validator,
)

ScalarType = Literal["string", "integer", "number", "boolean"]
ParamType = Literal["string", "integer", "number", "boolean", "array", "object"]
PARAM_TYPES: tuple[ScalarType, ...] = get_args(ScalarType)
"""The types a component's metadata record may name (array and object come from WIT types)."""
World = Literal["llm-agent", "seed", "functions", "superagent"]
"""Which world a tool comes from: ours, the seed's, a component's own exported functions, or the
seed's JSON-in/JSON-out `superagent:functions`."""
ArgValue = JsonValue
"""One argument value as a caller (or a model, through JSON) gives it: any JSON value (objects
and arrays for parameters with a `type_schema`)."""
Bound = int | float
_FRAGMENT_KEYS = ("type", "enum", "minimum", "maximum")


class ToolParam(BaseModel):
    """One parameter of a tool, with its JSON Schema type and, optionally, the values allowed:
    `enum` (string parameters: the only strings accepted) or `minimum`/`maximum` (inclusive
    bounds of integer and number parameters). Raises ValueError when they do not fit the type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    type: ParamType
    required: bool
    enum: tuple[str, ...] = ()
    minimum: Bound | None = None
    maximum: Bound | None = None
    type_schema: dict[str, JsonValue] | None = Field(
        default=None,
        description="The complete JSON Schema of a value, when it is more than `type`, `enum` "
        "and bounds say (derived from a WIT type); its top-level `type` is `type`.",
    )

    @property
    def structured(self) -> bool:
        """Whether values are checked against `type_schema` (JSON values, not typed text)."""
        return self.type_schema is not None

    @model_validator(mode="after")
    def _check_constraints(self) -> ToolParam:
        if self.type_schema is not None:
            if self.type_schema.get("type") != self.type:
                raise ValueError(f"parameter {self.name!r}: type_schema's type is not {self.type}")
            if self.enum or self.minimum is not None or self.maximum is not None:
                raise ValueError(f"parameter {self.name!r}: constraints belong in type_schema")
            return self
        if self.type not in PARAM_TYPES:
            raise ValueError(f"parameter {self.name!r}: an {self.type} needs a type_schema")
        if self.enum and self.type != "string":
            raise ValueError(f"parameter {self.name!r}: only a string parameter takes an enum")
        if len(set(self.enum)) != len(self.enum):
            raise ValueError(f"parameter {self.name!r}: the enum repeats a value")
        bounds = [b for b in (self.minimum, self.maximum) if b is not None]
        if bounds and self.type not in ("integer", "number"):
            raise ValueError(f"parameter {self.name!r}: only numbers take a minimum or maximum")
        if any(isinstance(b, bool) or not math.isfinite(b) for b in bounds):
            raise ValueError(f"parameter {self.name!r}: bounds must be finite numbers")
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            raise ValueError(f"parameter {self.name!r}: minimum is above maximum")
        return self

    @classmethod
    def from_wire(cls, name: str, description: str, type_text: str, required: bool) -> ToolParam:
        """A parameter as the component's metadata record gives it (see the module docstring);
        raises ValueError naming what is wrong."""
        if not type_text.lstrip().startswith("{"):
            if type_text not in PARAM_TYPES:
                raise ValueError(
                    f"parameter {name!r} has unsupported type {type_text!r} "
                    f"(expected one of: {', '.join(PARAM_TYPES)}, or a JSON Schema fragment)"
                )
            return cls(name=name, description=description, type=type_text, required=required)
        try:
            fragment = json.loads(type_text)
        except (ValueError, RecursionError):
            raise ValueError(f"parameter {name!r}: its type is not valid JSON") from None
        if not isinstance(fragment, dict) or fragment.get("type") not in PARAM_TYPES:
            raise ValueError(
                f'parameter {name!r}: a type fragment needs "type": one of {", ".join(PARAM_TYPES)}'
            )
        unknown = sorted(set(fragment) - set(_FRAGMENT_KEYS))
        if unknown:
            raise ValueError(f"parameter {name!r}: unsupported type keyword {unknown[0]!r}")
        enum = fragment.get("enum", [])
        if not isinstance(enum, list) or not all(isinstance(v, str) for v in enum):
            raise ValueError(f"parameter {name!r}: enum must be a list of strings")
        for key in ("minimum", "maximum"):
            if key in fragment and not isinstance(fragment[key], int | float):
                raise ValueError(f"parameter {name!r}: {key} must be a number")
        return cls(
            name=name,
            description=description,
            type=fragment["type"],
            required=required,
            enum=tuple(enum),
            minimum=fragment.get("minimum"),
            maximum=fragment.get("maximum"),
        )

    @classmethod
    def from_fields(
        cls,
        name: str,
        description: str,
        type_name: str,
        required: bool,
        choices: Sequence[str],
        minimum: float | None,
        maximum: float | None,
    ) -> ToolParam:
        """A parameter as `llm-agent:tool@0.2`'s `param` record gives it (typed `choices` and
        f64 bounds; an integer parameter's bounds become integers); raises ValueError."""
        if type_name not in PARAM_TYPES:
            raise ValueError(f"parameter {name!r} has unsupported type {type_name!r}")
        bounds = {"minimum": minimum, "maximum": maximum}
        if type_name == "integer":
            for key, bound in bounds.items():
                if bound is not None and not (math.isfinite(bound) and bound.is_integer()):
                    raise ValueError(f"parameter {name!r}: {key} must be a whole number")
            bounds = {k: None if b is None else int(b) for k, b in bounds.items()}
        return cls(
            name=name,
            description=description,
            type=type_name,
            required=required,
            enum=tuple(choices),
            **bounds,
        )

    def property_schema(self) -> dict[str, Any]:
        """This parameter's JSON Schema: type, description and constraints."""
        if self.type_schema is not None:
            return {"type": self.type, "description": self.description} | self.type_schema
        schema: dict[str, Any] = {"type": self.type, "description": self.description}
        return schema | self._constraints()

    def _constraints(self) -> dict[str, Any]:
        found: dict[str, Any] = {"enum": list(self.enum)} if self.enum else {}
        if self.minimum is not None:
            found["minimum"] = self.minimum
        if self.maximum is not None:
            found["maximum"] = self.maximum
        return found


class UsageCall(BaseModel):
    """One tool call of a usage example, structured: the tool's name and typed arguments."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    arguments: dict[str, ArgValue] = Field(default_factory=dict)

    def __hash__(self) -> int:  # frozen, but a dict field (of any JSON): hash its JSON text
        return hash((self.name, json.dumps(self.arguments, sort_keys=True)))


class ToolUsage(BaseModel):
    """A worked example: a user request and the assistant's reply as the tool wrote it (in the
    `USE_TOOL:` notation); `calls` are the calls read from it when loaded (empty when it holds
    none or one that does not read), which every call syntax renders in its own form."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user: str
    assistant: str
    calls: tuple[UsageCall, ...] = ()


class ToolMetadata(BaseModel):
    """A tool's self-description; the one source of its argument schema."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    version: str
    params: tuple[ToolParam, ...] = ()
    usage: tuple[ToolUsage, ...] = ()
    world: World = Field(default="llm-agent", description="Which tool world the component exports.")

    @model_validator(mode="wrap")
    @classmethod
    def _derived_schema(
        cls, data: Any, handler: ModelWrapValidatorHandler[ToolMetadata]
    ) -> ToolMetadata:
        """Accept a serialized `input_schema` back only when it is the one derived here."""
        given = None
        if isinstance(data, dict) and "input_schema" in data:
            data = dict(data)
            given = data.pop("input_schema")
        metadata = handler(data)
        if given is not None and given != metadata.input_schema:
            raise ValueError("input_schema is not the schema of the tool's parameters")
        return metadata

    def param(self, name: str) -> ToolParam | None:
        """Return the parameter called `name`, or None."""
        return next((p for p in self.params if p.name == name), None)

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def input_schema(self) -> dict[str, Any]:
        """The JSON Schema (2020-12, an object at the root) of this tool's arguments: one
        property per parameter (nested types spelled out, see `ToolParam.type_schema`),
        `required` and `additionalProperties: false`. Derived from `params`."""
        return {
            "type": "object",
            "properties": {p.name: p.property_schema() for p in self.params},
            "required": [p.name for p in self.params if p.required],
            "additionalProperties": False,
        }

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of this tool's arguments (a copy of `input_schema`)."""
        return copy.deepcopy(self.input_schema)
