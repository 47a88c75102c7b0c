"""Which .gguf file `local` runs: a catalog name (model_catalog.py) or a path.

`local` is the default model (Qwen2.5-Coder-0.5B-Instruct), unless OPTOTRACE_LOCAL_MODEL names another catalog
model or a .gguf path; `local:smollm2`, `local:qwen1.5b` and `local:PATH.gguf` pick one explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

from optotrace.llm.errors import LLMConfigError
from optotrace.llm.model_catalog import CATALOG, DEFAULT_MODEL
from optotrace.llm.model_files import model_file


def local_model_path(name_or_path: str | Path | None = None) -> Path:
    """The file for `local:<name_or_path>`; None means the default (OPTOTRACE_LOCAL_MODEL, else qwen0.5b)."""
    if name_or_path is None or str(name_or_path) == "":
        override = os.environ.get("OPTOTRACE_LOCAL_MODEL")
        if not override:
            return model_file(DEFAULT_MODEL)
        if override in CATALOG:
            return model_file(override)
        path = Path(override).expanduser()
        if not path.is_file():
            raise LLMConfigError(
                f"OPTOTRACE_LOCAL_MODEL={override!r} is not a file; point it at a .gguf model or name one of "
                f"{', '.join(CATALOG)}"
            )
        return path
    if str(name_or_path) in CATALOG:
        return model_file(str(name_or_path))
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise LLMConfigError(
            f"local model {str(name_or_path)!r} is neither a file nor a known name; pass a .gguf path or one of "
            f"{', '.join(CATALOG)}"
        )
    return path


def embedded_model_path() -> Path:
    """The default embedded model's .gguf file (see local_model_path)."""
    return local_model_path(None)
