from __future__ import annotations

import json
import re
from typing import Any

import optotrace as ot
from optotrace.llm import ScriptedLLM
from optotrace.optimizers import OPRO, TextGrad, Trainer


def test_opro_shows_scored_history_and_updates() -> None:
    x = ot.node(1.0, name="x", trainable=True)

    def script(messages: list[dict[str, Any]]) -> str:
        user = messages[-1]["content"]
        xs = [float(v) for v in re.findall(r'score [-\d.e]+: \{"x": ([-\d.e]+)\}', user)]
        best = xs[-1] if xs else 1.0
        return json.dumps({"reasoning": "higher", "suggestion": {"x": best + 1}})

    llm = ScriptedLLM(script)
    opt = OPRO([x], llm=llm)
    trainer = Trainer(lambda _: x * 1.0, opt, [0], metric=lambda e, y: (-abs(y - 4), f"distance {abs(y - 4)}"),
                      steps=3, progress=False)
    result = trainer.fit()
    assert x.data == 4.0 or result.best_score == 0.0
    last = llm.requests[-1]["messages"][-1]["content"]
    assert "score -1: " in last and "score -3: " in last  # lowest to highest
    assert last.index("score -3") < last.index("score -1")
    state = json.loads(json.dumps(opt.state_dict()))
    assert len(state["history"]) == 3


def test_textgrad_backpropagates_text_per_edge_then_updates() -> None:
    prompt = ot.node("Say hi", name="prompt", trainable=True)
    name = ot.node("Ada", name="user")

    @ot.bundle()
    def render(template: str, who: str) -> str:
        """Fill the template with the user's name."""
        return f"{template}, {who}"

    @ot.bundle()
    def shout(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    out = shout(render(prompt, name))
    calls: list[str] = []

    def script(messages: list[dict[str, Any]]) -> str:
        user = messages[-1]["content"]
        calls.append(user)
        if "How should the input" in user:
            target = re.search(r"input `([^`]+)`", user).group(1)  # type: ignore[union-attr]
            return f"GRADIENT for {target}: be more polite"
        assert "GRADIENT for prompt" in user
        return json.dumps({"reasoning": "polite", "suggestion": {"prompt": "Say hello kindly"}})

    opt = TextGrad([prompt], llm=ScriptedLLM(script))
    out.backward("Too curt.")
    update = opt.step()
    assert update == {prompt: "Say hello kindly"}
    gradient_calls = [c for c in calls if "How should the input" in c]
    # One call per edge on the path: shout <- render, render <- prompt.
    assert len(gradient_calls) == 2
    assert "Too curt." in gradient_calls[0] and "GRADIENT for render" in gradient_calls[1]
    assert opt.last_gradients["prompt"] == ["GRADIENT for prompt: be more polite"]
