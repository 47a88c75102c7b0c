"""Prompt templates (string.Template, `$name` placeholders) used by the LLM layer."""

from __future__ import annotations

import functools
from importlib import resources
from string import Template


@functools.cache
def template(name: str) -> Template:
    """The template in `prompts/<name>.txt`."""
    return Template(resources.files(__name__).joinpath(f"{name}.txt").read_text(encoding="utf-8"))


def render(name: str, **values: str) -> str:
    return template(name).substitute(**values)
