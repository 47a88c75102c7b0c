"""Reading a model's reply: the program in a code block, or the JSON {spec, report} answer."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from optotrace.modeling.spec import ModelSpec

_FENCE = re.compile(r"```[ \t]*(python|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def extract_program(reply: str) -> str:
    """The first ```python block (else the first fenced block, else an unclosed fence's tail, else the reply)."""
    blocks = _FENCE.findall(reply)
    for lang, body in blocks:
        if lang:
            return body.strip() + "\n"
    if blocks:
        return blocks[0][1].strip() + "\n"
    start = reply.find("```")
    if start >= 0:  # a reply cut off before its closing fence
        body = reply[start + 3 :]
        body = body.split("\n", 1)[1] if "\n" in body else ""
        return body.strip() + "\n"
    return reply.strip() + "\n"


class SpecAnswer(BaseModel):
    """The spec-mode reply: the model and which of its quantities answers each requested label."""

    spec: ModelSpec
    report: dict[str, str] = Field(default_factory=dict)


def parse_spec_answer(text: str) -> SpecAnswer:
    """Lenient JSON (json-repair), then validation; raises ValueError with the reason."""
    import json_repair

    data: Any = json_repair.loads(text)
    if isinstance(data, list):
        data = next((d for d in data if isinstance(d, dict)), {})
    if isinstance(data, dict) and "spec" not in data and "variables" in data:
        data = {"spec": data, "report": data.pop("report", {})}
    return SpecAnswer.model_validate(data)
