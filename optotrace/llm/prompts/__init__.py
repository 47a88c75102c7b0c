"""Prompt templates (string.Template, `$name` placeholders) used by the LLM layer (the runtime's loader)."""

from __future__ import annotations

from string import Template

from optotrace.runtime import Templates

_TEMPLATES = Templates(__name__)


def template(name: str) -> Template:
    """The template in `prompts/<name>.txt`."""
    return _TEMPLATES.template(name)


def render(name: str, /, **values: str) -> str:
    return _TEMPLATES.render(name, **values)
