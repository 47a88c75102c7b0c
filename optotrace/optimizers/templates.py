"""Prompt templates: text files in `prompts/`, `$name` placeholders (string.Template)."""

from __future__ import annotations

import functools
from pathlib import Path
from string import Template

_DIR = Path(__file__).with_name("prompts")


@functools.cache
def template(name: str) -> Template:
    """The template in `prompts/<name>.txt`."""
    return Template((_DIR / f"{name}.txt").read_text(encoding="utf-8"))


def render(template_name: str, **values: object) -> str:
    return template(template_name).substitute({k: str(v) for k, v in values.items()})
