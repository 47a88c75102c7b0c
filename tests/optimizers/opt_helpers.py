"""Shared bits of the optimizer tests: loading the examples, and scripted optimizer policies."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"opt_example_{name}", ROOT / "examples" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def numeric_policy(messages: list[dict[str, Any]]) -> str:
    """A scripted optimizer for the numeric example: move x by 1 towards what the feedback asks."""
    user = messages[-1]["content"]
    x = float(re.search(r"\(float\) x = ([-\d.e]+)", user).group(1))  # type: ignore[union-attr]
    feedback = user.split("#Feedback", 1)[1].split("#History", 1)[0]
    step = 1.0 if "larger" in feedback else -1.0 if "smaller" in feedback else 0.0
    return json.dumps({"reasoning": "follow the feedback", "answer": None, "suggestion": {"x": x + step}})
