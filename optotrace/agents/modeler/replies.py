"""Reading a model's reply in spec mode: the JSON {spec, report} answer. (The program in a reply, and
lenient JSON, are read by optotrace.llm.replies, the one reader of model replies.)"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from optotrace.llm.replies import extract_program, load_object
from optotrace.modeling.spec import ModelSpec

__all__ = ["SpecAnswer", "extract_program", "parse_spec_answer", "spec_reply_text"]


class SpecAnswer(BaseModel):
    """The spec-mode reply: the model and which of its quantities answers each requested label."""

    spec: ModelSpec
    report: dict[str, str] = Field(default_factory=dict)


def parse_spec_answer(text: str) -> SpecAnswer:
    """Lenient JSON (fenced or amid prose, repaired when broken), then validation; raises ValueError with
    the reason."""
    data: Any = load_object(text)
    if isinstance(data, list):
        data = next((d for d in data if isinstance(d, dict)), {})
    if isinstance(data, dict) and "spec" not in data and "variables" in data:
        data = {"spec": data, "report": data.pop("report", {})}
    return SpecAnswer.model_validate(data if data is not None else {})


def spec_reply_text(completion: Any) -> str:
    """The JSON text of a structured completion (validated object when there is one)."""
    parsed = getattr(completion, "parsed", None)
    if parsed is not None and hasattr(parsed, "model_dump_json"):
        return parsed.model_dump_json(by_alias=True, exclude_defaults=True)
    return getattr(completion, "text", str(completion))
