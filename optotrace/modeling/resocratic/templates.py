"""Prompt templates (files under `prompts/`, `$name` placeholders) and the hashes recorded as provenance."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from optotrace.runtime import Templates

PROMPTS = Path(__file__).parent / "prompts"
_TEMPLATES = Templates(PROMPTS, strip=True)


def template_text(name: str) -> str:
    return _TEMPLATES.text(name)


def render(name: str, /, **values: Any) -> str:
    """Fill a template; a missing placeholder raises KeyError naming it."""
    return _TEMPLATES.render(name, **values)


def backgrounds() -> list[str]:
    lines = template_text("backgrounds").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def prompt_hash(messages: list[dict[str, str]]) -> str:
    """A short stable hash of a request's messages (provenance; equal prompts give equal hashes)."""
    blob = json.dumps(messages, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def template_hash(name: str) -> str:
    """The hash of a template file's text, so a dataset records which prompt version made it."""
    return _TEMPLATES.hash(name)
