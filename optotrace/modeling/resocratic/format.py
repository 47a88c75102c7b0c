"""The ReSocratic scenario format: parse, validate, truncate and render.

A scenario is a sequence of sections, in this order::

    ## Define Variables:
    natural-language lines ...
    // variables: {"description": "Symbol", ...}, where Symbol >= 0 ...

    ## Define Objective Function:
    natural-language lines ...
    // ... Maximize ... (or Minimize)

    ## Generate Constraint-1:
    natural-language lines ...
    // a formal relation such as A + B <= 50

Each section holds natural-language lines first and then at least one formal `//` line. Parsing stops at the
first invalid section: the scenario keeps the valid sections before it (truncation), and the issue is recorded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Literal

from optotrace.llm.replies import first_json_object, without_fence_lines

SectionKind = Literal["variables", "objective", "constraint"]

_HEADER = re.compile(r"^\s*#{1,3}\s*(.+?)\s*$")
_VARIABLES_HEADER = re.compile(r"^define\s+variables\s*:?$", re.I)
_OBJECTIVE_HEADER = re.compile(r"^define\s+objective(\s+function)?\s*:?$", re.I)
_CONSTRAINT_HEADER = re.compile(r"^(?:generate|define)\s+constraint\s*-?\s*(\d+)\s*:?$", re.I)
_RELATION = re.compile(r"<=|>=|==|=|<|>|≤|≥")
_SENSE = re.compile(r"\b(maximi[sz]e|minimi[sz]e)\b", re.I)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Section:
    """One section: its kind, the constraint number (0 for the others), its prose and its formal lines."""

    kind: SectionKind
    number: int
    text_lines: tuple[str, ...]
    formal_lines: tuple[str, ...]  # without the leading `//`, stripped

    @property
    def header(self) -> str:
        if self.kind == "variables":
            return "## Define Variables:"
        if self.kind == "objective":
            return "## Define Objective Function:"
        return f"## Generate Constraint-{self.number}:"

    @property
    def text(self) -> str:
        return "\n".join(self.text_lines)

    @property
    def formal(self) -> str:
        return "\n".join(self.formal_lines)

    def render(self) -> str:
        return "\n".join([self.header, *self.text_lines, *(f"// {f}" for f in self.formal_lines)])


@dataclass(frozen=True)
class Scenario:
    """A valid scenario: the variables section, the objective section and zero or more constraints."""

    sections: tuple[Section, ...]

    @property
    def variables(self) -> Section:
        return self.sections[0]

    @property
    def objective(self) -> Section:
        return self.sections[1]

    @property
    def constraints(self) -> tuple[Section, ...]:
        return self.sections[2:]

    @property
    def n_constraints(self) -> int:
        return len(self.sections) - 2

    def prefix(self, n_constraints: int) -> Scenario:
        """The same scenario with only its first `n_constraints` constraints."""
        if not 0 <= n_constraints <= self.n_constraints:
            raise ValueError(
                f"prefix of {n_constraints} constraints asked; the scenario has {self.n_constraints}"
            )
        return replace(self, sections=self.sections[: 2 + n_constraints])

    def symbols(self) -> dict[str, str]:
        """The variables line as a mapping description -> symbol."""
        return parse_variables_line(self.variables.formal_lines) or {}

    def render(self) -> str:
        return "\n\n".join(s.render() for s in self.sections) + "\n"

    def head_text(self) -> str:
        """Variables and objective, prose and formal lines: the text near-duplicate detection compares."""
        return self.variables.render() + "\n" + self.objective.render()


@dataclass
class ParseResult:
    """What `parse_scenario` found: the valid prefix (or None), the issues, and where it was truncated."""

    scenario: Scenario | None
    issues: list[str] = field(default_factory=list)
    truncated_at: str | None = None  # header of the first invalid section, when one was cut
    sections_read: int = 0

    @property
    def ok(self) -> bool:
        """Usable as a problem source: variables, objective and at least one constraint."""
        return self.scenario is not None and self.scenario.n_constraints >= 1


def parse_variables_line(formal_lines: tuple[str, ...] | list[str]) -> dict[str, str] | None:
    """The `variables: {...}` mapping (description -> symbol) from a variables section, or None."""
    for line in formal_lines:
        if not re.match(r"^\s*variables?\s*:", line, re.I):
            continue
        blob = first_json_object(line.replace('\\"', '"'))
        if blob is None:
            return None
        try:
            data = json.loads(blob)
        except json.JSONDecodeError:
            return None
        if not isinstance(data, dict) or not data:
            return None
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            return None
        return {k.strip(): v.strip() for k, v in data.items()}
    return None


def domain_text(formal_lines: tuple[str, ...] | list[str]) -> str:
    """Whatever follows the variables mapping (`where x >= 0 and integer`), plus any further formal lines."""
    parts: list[str] = []
    for line in formal_lines:
        if re.match(r"^\s*variables?\s*:", line, re.I):
            fixed = line.replace('\\"', '"')
            blob = first_json_object(fixed) or ""
            parts.append(fixed[fixed.find(blob) + len(blob) :] if blob else "")
        else:
            parts.append(line)
    return "\n".join(p.strip(" ,.") for p in parts if p.strip(" ,."))


def _classify_header(title: str) -> tuple[SectionKind, int] | None:
    if _VARIABLES_HEADER.match(title):
        return "variables", 0
    if _OBJECTIVE_HEADER.match(title):
        return "objective", 0
    m = _CONSTRAINT_HEADER.match(title)
    if m:
        return "constraint", int(m.group(1))
    return None


def _check_section(kind: SectionKind, text: list[str], formal: list[str]) -> str | None:
    """Why this section is invalid, or None."""
    if not text:
        return "has no natural-language line"
    if not formal:
        return "has no formal `//` line"
    if kind == "variables":
        mapping = parse_variables_line(formal)
        if mapping is None:
            return 'has no parsable `// variables: {"description": "symbol"}` line'
        bad = [s for s in mapping.values() if not _IDENT.match(s)]
        if bad:
            return f"has variable symbols that are not identifiers: {bad}"
        if len(set(mapping.values())) != len(mapping):
            return "names the same symbol twice"
    elif kind == "objective":
        if not any(_SENSE.search(f) for f in formal):
            return "says neither maximize nor minimize in its formal lines"
    elif not any(_RELATION.search(f) for f in formal):
        return "has no relation (<=, >=, =) in its formal lines"
    return None


def parse_scenario(text: str) -> ParseResult:
    """Parse a scenario, keeping its longest valid prefix of sections."""
    lines = [ln.rstrip() for ln in without_fence_lines(text).split("\n")]
    # Split into (title, body) blocks; anything before the first header is chatter and is dropped.
    blocks: list[tuple[str, list[str]]] = []
    for line in lines:
        m = _HEADER.match(line)
        if m and line.lstrip().startswith("#"):
            blocks.append((m.group(1), []))
        elif blocks:
            blocks[-1][1].append(line)
    result = ParseResult(scenario=None)
    if not blocks:
        result.issues.append("no `## Define Variables:` header found")
        return result
    sections: list[Section] = []
    expected: list[SectionKind] = ["variables", "objective"]
    for idx, (title, body) in enumerate(blocks):
        header = f"## {title}"
        kind_num = _classify_header(title)
        want = expected[idx] if idx < len(expected) else "constraint"
        if kind_num is None:
            result.issues.append(f"`{header}`: unknown section header (expected a {want} section)")
            result.truncated_at = header
            break
        kind, number = kind_num
        if kind != want:
            result.issues.append(f"`{header}`: a {kind} section where a {want} section belongs")
            result.truncated_at = header
            break
        if kind == "constraint" and number != len(sections) - 1:
            result.issues.append(f"`{header}`: constraint numbered {number}, expected {len(sections) - 1}")
            result.truncated_at = header
            break
        text_lines: list[str] = []
        formal_lines: list[str] = []
        problem: str | None = None
        is_last = idx == len(blocks) - 1
        for raw in body:
            stripped = raw.strip()
            if not stripped:
                continue
            if stripped.startswith("//"):
                formal_lines.append(stripped[2:].strip())
            elif formal_lines:
                if is_last:  # trailing chatter after the final formal line: dropped
                    result.issues.append(f"`{header}`: trailing text after the last formal line dropped")
                    break
                problem = "has natural-language lines after its formal lines"
                break
            else:
                text_lines.append(stripped)
        problem = problem or _check_section(kind, text_lines, formal_lines)
        if problem:
            result.issues.append(f"`{header}`: {problem}")
            result.truncated_at = header
            break
        sections.append(Section(kind, number, tuple(text_lines), tuple(formal_lines)))
    result.sections_read = len(sections)
    if len(sections) >= 2:
        result.scenario = Scenario(tuple(sections))
    else:
        result.issues.append("fewer than the variables and objective sections are valid")
    if result.scenario is not None and result.scenario.n_constraints == 0:
        result.issues.append("no valid constraint section")
    return result
