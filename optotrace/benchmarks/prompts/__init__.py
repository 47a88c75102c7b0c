"""Prompt templates of the benchmark layer (text files beside this module)."""

from __future__ import annotations

from importlib import resources


def load(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
