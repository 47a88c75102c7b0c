"""Token prices from litellm's bundled cost map, read as a JSON file: no litellm import, no network.

A model not in the map has no price (its calls cost 0.0 in the totals and `priced` is False for it).
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

COST_MAP_FILE = "model_prices_and_context_window_backup.json"


@functools.lru_cache(maxsize=1)
def _cost_map() -> dict[str, Any]:
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    for location in spec.submodule_search_locations:
        path = Path(location) / COST_MAP_FILE
        if path.is_file():
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
    return {}


@functools.lru_cache(maxsize=256)
def price_per_token(model: str) -> tuple[float, float] | None:
    """(input, output) USD per token for `model` (as 'gpt-4o-mini' or 'anthropic/claude-...'), or None."""
    table = _cost_map()
    for name in (model, model.split("/", 1)[-1]):
        entry = table.get(name)
        if isinstance(entry, dict) and "input_cost_per_token" in entry:
            return float(entry.get("input_cost_per_token") or 0.0), float(
                entry.get("output_cost_per_token") or 0.0
            )
    return None


def cost_usd(price: tuple[float, float] | None, prompt_tokens: int, completion_tokens: int) -> float:
    if price is None:
        return 0.0
    return price[0] * prompt_tokens + price[1] * completion_tokens
