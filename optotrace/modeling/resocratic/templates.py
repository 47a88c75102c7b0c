"""Prompt templates (files under `prompts/`, `$name` placeholders) and the hashes recorded as provenance."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

PROMPTS = Path(__file__).parent / "prompts"


@cache
def template_text(name: str) -> str:
    path = PROMPTS / f"{name}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"prompt template {path} is missing; reinstall optotrace or restore the file")
    return path.read_text(encoding="utf-8").strip()


def render(name: str, **values: Any) -> str:
    """Fill a template; a missing placeholder raises KeyError naming it."""
    return Template(template_text(name)).substitute(**{k: str(v) for k, v in values.items()})


def backgrounds() -> list[str]:
    lines = template_text("backgrounds").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def prompt_hash(messages: list[dict[str, str]]) -> str:
    """A short stable hash of a request's messages (provenance; equal prompts give equal hashes)."""
    blob = json.dumps(messages, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def template_hash(name: str) -> str:
    """The hash of a template file's text, so a dataset records which prompt version made it."""
    return hashlib.sha256(template_text(name).encode("utf-8")).hexdigest()[:12]
