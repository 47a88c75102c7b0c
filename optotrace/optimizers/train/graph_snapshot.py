"""The graph of one traced step, saved into the run directory for the run report (steps/graph_NNNNN.json)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("optotrace.optimizers.train.trainer")


def save_step_graph(run_dir: Path, step: int, outcomes: Sequence[Any]) -> Path | None:
    """The subgraph of the step's first traced output (an error's node when the call failed), as JSON;
    None when no output was a node. A failure here is logged, never raised: the run goes on."""
    from optotrace.trace import Node
    from optotrace.trace.render import graph_record

    for o in outcomes:
        target = o.error_node if o.error_node is not None else o.output
        if not isinstance(target, Node):
            continue
        path = run_dir / "steps" / f"graph_{step:05d}.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(json.dumps({"step": step, **graph_record(target)}, ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
        except Exception as exc:
            log.warning("could not save the graph of step %d: %s", step, exc)
            return None
        return path
    return None
