"""Prompt templates: text files in a package's directory, `$name` placeholders (string.Template).

    PROMPTS = Templates("optotrace.optimizers.prompts")     # or a directory Path
    PROMPTS.render("step", objective=..., variables=...)   # prompts/step.txt, filled

A name without a suffix means NAME.txt. Texts are read once and kept. A missing file is a FileNotFoundError
naming it; a missing placeholder a KeyError naming it.
"""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

__all__ = ["Templates"]


class Templates:
    def __init__(self, where: str | os.PathLike[str], strip: bool = False) -> None:
        """`where`: a package name ("optotrace.llm.prompts") or a directory. `strip`: trim each text."""
        self.where = where
        self.strip = strip
        self._texts: dict[str, str] = {}

    def _file(self, name: str) -> Any:
        filename = name if Path(name).suffix else f"{name}.txt"
        if isinstance(self.where, str) and os.sep not in self.where and not Path(self.where).is_dir():
            return resources.files(self.where).joinpath(filename)
        return Path(self.where) / filename

    def _read(self, name: str) -> str:
        file = self._file(name)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FileNotFoundError(
                f"prompt template {file} is missing; reinstall optotrace or restore the file"
            ) from None
        return text.strip() if self.strip else text

    def text(self, name: str) -> str:
        """The file's text (read once)."""
        if name not in self._texts:
            self._texts[name] = self._read(name)
        return self._texts[name]

    def template(self, name: str) -> Template:
        return Template(self.text(name))

    def render(self, name: str, /, **values: Any) -> str:
        """Fill `$name` placeholders (values are turned into text); a missing one raises KeyError."""
        return self.template(name).substitute({k: str(v) for k, v in values.items()})

    def hash(self, name: str, length: int = 12) -> str:
        """A short hash of the text, recorded as provenance (which prompt version made an output)."""
        return hashlib.sha256(self.text(name).encode("utf-8")).hexdigest()[:length]
