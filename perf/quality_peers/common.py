"""What every peer runner shares: the run spec, chat calls and grading through the harness's proxy.

A runner is started as `.venv-peers/bin/python perf/quality_peers/NAME.py SPEC.json`; SPEC holds the task
(train, dev, val, start instruction, objective, answer format, max tokens), the proxy's base_url, the model
names (workflow, optimizer), the call budget and the output path. The runner writes one JSON object to that
path and prints it: {"instruction": ..., "steps": ..., "notes": ...} and, when it scores its program in its
own format, "before" and "after". Every call goes through the proxy, which counts and caches it and refuses
calls past the budget; grading is the proxy's POST /grade, i.e. exactly optotrace's grader.
"""

from __future__ import annotations

import json
import sys
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any


class Spec:
    def __init__(self, path: str) -> None:
        with open(path) as f:
            self.data = json.load(f)
        self.task: dict[str, Any] = self.data["task"]
        self.base_url: str = self.data["base_url"]
        self.root = self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url
        self.workflow_model: str = self.data["workflow_model"]
        self.optimizer_model: str = self.data["optimizer_model"]
        self.budget: int = int(self.data["budget"])
        self.out: str = self.data["out"]
        self.work_dir: str = self.data["work_dir"]

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(self.root + path, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=900) as resp:
            return json.loads(resp.read())

    def chat(self, messages: list[dict[str, str]], model: str | None = None, max_tokens: int | None = None,
             temperature: float = 0.0) -> str:
        body = {"model": model or self.workflow_model, "messages": messages, "temperature": temperature,
                "max_tokens": max_tokens or int(self.task["max_tokens"])}
        return str(self._post("/v1/chat/completions", body)["choices"][0]["message"]["content"] or "")

    def answer(self, instruction: str, question: str) -> str:
        """The task's workflow, as optotrace runs it: the instruction as system prompt, the question as user."""
        try:
            return self.chat([{"role": "system", "content": instruction}, {"role": "user", "content": question}])
        except urllib.error.HTTPError as exc:  # past the budget: an empty answer, graded as wrong
            return f"[no answer: {exc.code} {exc.read()[:200]!r}]"

    def grade(self, example: dict[str, Any], reply: str) -> tuple[float, str]:
        r = self._post("/grade", {"task": self.task["name"], "example": example, "reply": reply})
        return float(r["score"]), str(r["feedback"])

    def calls_used(self) -> int:
        with urllib.request.urlopen(self.root + "/count", timeout=30) as resp:
            return int(json.loads(resp.read())["calls"])

    def left(self) -> int:
        return self.budget - self.calls_used()

    def start_eval_phase(self, name: str) -> None:
        self._post("/phase", {"name": name})

    def openai_base(self) -> str:
        return self.base_url


def main(run: Callable[[Spec], dict[str, Any]]) -> None:
    spec = Spec(sys.argv[1])
    try:
        result = run(spec)
    except Exception as exc:
        result = {"error": f"{type(exc).__name__}: {exc}"[:600], "traceback": traceback.format_exc()[-3000:]}
    text = json.dumps(result)
    with open(spec.out, "w") as f:
        f.write(text)
    print(text)
