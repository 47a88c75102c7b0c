"""ModelSpec: an optimization model as data (what an LLM emits as JSON, what ReSocratic lines become).

Shape (JSON):

    {
      "name": "production",
      "description": "Plan production of two products.",
      "sets": [{"name": "P", "elements": ["chairs", "tables"]}],
      "data": [
        {"name": "profit", "index": ["P"], "value": {"chairs": 30, "tables": 50}},
        {"name": "hours", "index": ["P"], "value": [2, 4]},
        {"name": "capacity", "value": 100}
      ],
      "variables": [
        {"name": "x", "index": ["P"], "domain": "integer", "lower": 0, "description": "units made"}
      ],
      "objective": {"sense": "maximize", "expression": "sum(profit[p] * x[p] for p in P)"},
      "constraints": [
        {"name": "labour", "expression": "sum(hours[p] * x[p] for p in P) <= capacity"},
        {"name": "demand", "for": "p in P", "expression": "x[p] <= 40"}
      ]
    }

* Sets list their elements (numbers or strings). `index` (variables and data) names the sets an item is indexed
  by, in order; omitted or [] means a scalar; a single set name as a string is accepted too.
* Data values: a number (scalar), a list aligned with the set's elements or a {element: value} mapping
  (vector), nested lists or nested mappings, outer index first (table).
* Variables: `domain` continuous | integer | binary; `lower`/`upper` null means unbounded (binary: [0, 1]).
* Expressions use ordinary math: + - * / **, sum(expr for i in I [if cond]), abs, sqrt, exp, log, min, max
  (min/max/abs only where they can be linearized), x[i], c[i, j], x[t - 1]. A constraint holds one of <=, >=,
  == (or a range lo <= expr <= hi); `for` ("i in I, j in J if i != j") makes it a family, one per binding.

Construction checks the JSON shape only; `spec.check()` (called by build, classify and solve) checks names,
domains, bounds, data shapes and every expression, raising SpecError / ExpressionError that name the item.
"""

from __future__ import annotations

import keyword
import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

Element = int | str
RESERVED = frozenset(
    {"sum", "abs", "sqrt", "exp", "log", "min", "max", "for", "in", "if", "and", "or", "not"}
)


def _as_index(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [normalize_name(v) if isinstance(v, str) else v for v in value]
    return value


def normalize_name(name: str) -> str:
    """A name as the expression parser reads it: Python folds identifiers with Unicode NFKC (full-width `ｘ`
    is `x`, `ﬁ` is `fi`), so declarations are folded the same way and look-alikes cannot hide each other."""
    return unicodedata.normalize("NFKC", name.strip())


def _identifier(value: str, what: str) -> str:
    value = normalize_name(value)
    if not value.isidentifier() or keyword.iskeyword(value):
        raise ValueError(f"{what} name {value!r} must be an identifier (letters, digits, underscores)")
    if value in RESERVED:
        raise ValueError(f"{what} name {value!r} is reserved for the expression language; choose another")
    return value


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class _Named(_Item):
    """An item with a name; `declared_as` keeps the spelling it was given (before NFKC folding)."""

    _declared_as: str = PrivateAttr(default="")

    @model_validator(mode="wrap")
    @classmethod
    def _remember_spelling(cls, data: Any, handler: Any) -> Any:
        item = handler(data)
        raw = data.get("name") if isinstance(data, dict) else getattr(data, "declared_as", None)
        item._declared_as = raw.strip() if isinstance(raw, str) else item.name
        return item

    @property
    def declared_as(self) -> str:
        return self._declared_as or self.name  # type: ignore[attr-defined]


class IndexSet(_Named):
    """A finite index set, e.g. {"name": "I", "elements": [1, 2, 3]}."""

    name: str
    elements: list[Element] = Field(min_length=1)
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _identifier(v, "set")


class Data(_Named):
    """A named constant: scalar (no index), vector (one set) or table (two or more sets)."""

    name: str
    value: float | list[Any] | dict[str, Any]
    index: list[str] = Field(default_factory=list)
    description: str = ""

    _index = field_validator("index", mode="before")(lambda cls, v: _as_index(v))

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _identifier(v, "data")


class Variable(_Named):
    """A decision variable (indexed when `index` names sets)."""

    name: str
    domain: Literal["continuous", "integer", "binary"] = "continuous"
    lower: float | None = None
    upper: float | None = None
    index: list[str] = Field(default_factory=list)
    description: str = ""

    _index = field_validator("index", mode="before")(lambda cls, v: _as_index(v))

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _identifier(v, "variable")

    @field_validator("domain", mode="before")
    @classmethod
    def _domain(cls, v: Any) -> Any:
        aliases = {"real": "continuous", "reals": "continuous", "int": "integer", "bool": "binary"}
        return aliases.get(v.lower(), v.lower()) if isinstance(v, str) else v


class Objective(_Item):
    sense: Literal["minimize", "maximize"]
    expression: str
    description: str = ""

    @field_validator("sense", mode="before")
    @classmethod
    def _sense(cls, v: Any) -> Any:
        aliases = {"min": "minimize", "max": "maximize", "minimise": "minimize", "maximise": "maximize"}
        return aliases.get(v.lower(), v.lower()) if isinstance(v, str) else v


class Constraint(_Named):
    """`expression` with <=, >= or == ; `for` ("i in I, j in J if i != j") makes it a family."""

    name: str
    expression: str
    for_each: str | None = Field(default=None, alias="for")
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _identifier(v, "constraint")


class ModelSpec(_Item):
    """An optimization model: sets, data, variables, one objective and named constraints."""

    name: str = "model"
    description: str = ""
    sets: list[IndexSet] = Field(default_factory=list)
    data: list[Data] = Field(default_factory=list)
    variables: list[Variable] = Field(min_length=1)
    objective: Objective
    constraints: list[Constraint] = Field(default_factory=list)

    # -- lookups ---------------------------------------------------------------------------------
    def set(self, name: str) -> IndexSet | None:
        name = normalize_name(name)
        return next((s for s in self.sets if s.name == name), None)

    def variable(self, name: str) -> Variable | None:
        name = normalize_name(name)
        return next((v for v in self.variables if v.name == name), None)

    def datum(self, name: str) -> Data | None:
        name = normalize_name(name)
        return next((d for d in self.data if d.name == name), None)

    def constraint(self, name: str) -> Constraint | None:
        name = normalize_name(name)
        return next((c for c in self.constraints if c.name == name), None)

    # -- checks, JSON, rendering ----------------------------------------------------------------
    def check(self) -> ModelSpec:
        """Raise SpecError/ExpressionError for the first problem found; return self when all is well."""
        from optotrace.modeling.build import check_spec  # lazy: build imports spec

        check_spec(self)
        return self

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent, by_alias=True, exclude_defaults=True)

    @classmethod
    def from_json(cls, text: str) -> ModelSpec:
        return cls.model_validate_json(text)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON schema to give an LLM (keys as they appear in JSON, e.g. "for")."""
        return cls.model_json_schema(by_alias=True)

    def to_markdown(self) -> str:
        from optotrace.modeling.render import spec_to_markdown

        return spec_to_markdown(self)

    def to_latex(self) -> str:
        from optotrace.modeling.render import spec_to_latex

        return spec_to_latex(self)
