"""Dataset views: the SFT chat format (`{"messages": [system, user, assistant]}`, what common SFT trainers read)
and a prompt/completion format, split into train and validation files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from optotrace.modeling.resocratic import templates
from optotrace.modeling.resocratic.errors import ResocraticError
from optotrace.modeling.resocratic.store import read_jsonl

FORMATS = ("chat", "completion")


def chat_record(sample: dict[str, Any]) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": templates.template_text("sft_system")},
            {"role": "user", "content": sample["question"]},
            {"role": "assistant", "content": f"```python\n{sample['program'].strip()}\n```"},
        ]
    }


def completion_record(sample: dict[str, Any]) -> dict[str, Any]:
    return {"prompt": sample["question"], "completion": f"```python\n{sample['program'].strip()}\n```"}


def write_sft(
    root: str | os.PathLike[str], samples: list[dict[str, Any]], fmt: str = "chat"
) -> dict[str, Path]:
    """Write `sft_<fmt>_train.jsonl` and `sft_<fmt>_validation.jsonl`; returns the paths by split."""
    if fmt not in FORMATS:
        raise ResocraticError(f"unknown export format {fmt!r}; use one of {FORMATS}")
    make = chat_record if fmt == "chat" else completion_record
    root = Path(root)
    paths: dict[str, Path] = {}
    for split in ("train", "validation"):
        path = root / f"sft_{fmt}_{split}.jsonl"
        rows = [make(s) for s in samples if s.get("split", "train") == split]
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        os.replace(tmp, path)
        paths[split] = path
    return paths


def export_run(run_dir: str | os.PathLike[str], fmt: str = "chat") -> dict[str, Path]:
    """Re-export a finished run's samples.jsonl in a format."""
    path = Path(run_dir) / "samples.jsonl"
    if not path.is_file():
        raise ResocraticError(f"{path} not found: run `optotrace resocratic synth --out {run_dir}` first")
    return write_sft(run_dir, read_jsonl(path), fmt)
