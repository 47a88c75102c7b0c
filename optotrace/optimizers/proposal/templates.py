"""Prompt templates: text files in `prompts/`, `$name` placeholders (the runtime's template loader)."""

from __future__ import annotations

from pathlib import Path
from string import Template

from optotrace.runtime import Templates

_TEMPLATES = Templates(Path(__file__).with_name("prompts"))


def template(name: str) -> Template:
    """The template in `prompts/<name>.txt`."""
    return _TEMPLATES.template(name)


def render(template_name: str, /, **values: object) -> str:
    return _TEMPLATES.render(template_name, **values)
