"""OptiBench throughput: the reference run, and the modeler agent against a local OpenAI-compatible server.

    .venv/bin/python perf/optibench.py            # all 605 problems (about 10 minutes)
    .venv/bin/python perf/optibench.py --limit 64 # quick

Prints: the reference run's wall time and accuracy; the agent's wall time at concurrency 1 and 32 against a
stdlib server that answers each question with its reference program after a fixed 500 ms (goal: >= 15x);
a rerun from the LLM cache (goal: < 10 s), and a rerun from the LLM cache plus the program-run cache.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from optotrace.agents import ModelerAgent
from optotrace.benchmarks.loaders import load_reference
from optotrace.benchmarks.problem import Problem
from optotrace.benchmarks.reference import run_reference
from optotrace.benchmarks.runner import EvalSettings, evaluate
from optotrace.llm import get_llm

DELAY_S = 0.5


def start_server(problems: list[Problem], delay: float = DELAY_S) -> tuple[ThreadingHTTPServer, str]:
    """A threaded server on 127.0.0.1 speaking /v1/chat/completions: the reference program of the question
    found in the last user message, after `delay` seconds."""
    by_question = {p.question: p.code or "" for p in problems}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._send(200, {"object": "list", "data": [{"id": "reference", "object": "model"}]})

        def do_POST(self) -> None:  # noqa: N802
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            text = "\n".join(str(m.get("content", "")) for m in request.get("messages", []) if m.get("role") == "user")
            code = next((c for q, c in by_question.items() if q in text), "print('unknown question')")
            time.sleep(delay)
            reply = f"```python\n{code}\n```"
            self._send(200, {
                "id": "perf", "object": "chat.completion", "created": int(time.time()), "model": request.get("model", "reference"),
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": reply}}],
                "usage": {"prompt_tokens": len(text) // 4, "completion_tokens": len(reply) // 4,
                          "total_tokens": (len(text) + len(reply)) // 4},
            })

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # 32 clients connect at once; the default backlog (5) refuses some

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def run_agent(problems: list[Problem], base_url: str, concurrency: int, run_dir: Path, cache: Any,
              exec_cache: str | None = None) -> tuple[float, Any]:
    llm = get_llm("openai:reference", base_url=base_url, api_key="perf", cache=cache, timeout=120)
    agent = ModelerAgent(llm, mode="code", max_attempts=1, sandbox_pool=min(concurrency, 4), exec_cache=exec_cache)
    start = time.perf_counter()
    try:
        summary = evaluate(agent, problems, concurrency=concurrency, run_dir=run_dir, progress=False,
                           settings=EvalSettings(sandbox_pool=min(concurrency, 4)))
    finally:
        agent.close()
    return time.perf_counter() - start, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="first N problems only (default: all 605)")
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()
    problems = list(load_reference())[: args.limit] if args.limit else list(load_reference())
    n = len(problems)
    work = Path(tempfile.mkdtemp(prefix="optotrace-perf-"))
    results: dict[str, Any] = {"problems": n}

    if not args.skip_reference:
        t0 = time.perf_counter()
        ref = run_reference(problems, concurrency=2, run_dir=work / "reference", progress=False)
        results["reference"] = {"wall_s": round(time.perf_counter() - t0, 1), "correct": ref.correct, "accuracy": round(ref.accuracy, 4)}
        print(f"reference run: {n} programs in {results['reference']['wall_s']} s, accuracy {ref.accuracy:.1%} ({ref.correct}/{n})")

    server, url = start_server(problems)
    try:
        t1, s1 = run_agent(problems, url, 1, work / "c1", cache=False)
        print(f"agent, concurrency 1:  {t1:7.1f} s  ({s1.correct}/{n} correct)")
        cache = str(work / "llm-cache.sqlite")
        t32, s32 = run_agent(problems, url, 32, work / "c32", cache=cache)
        print(f"agent, concurrency 32: {t32:7.1f} s  ({s32.correct}/{n} correct)  speed-up {t1 / t32:.1f}x (goal >= 15x)")
        tc, sc = run_agent(problems, url, 32, work / "cached", cache=cache)
        print(f"rerun from the LLM cache: {tc:6.1f} s  ({sc.correct}/{n} correct; programs run again) (goal < 10 s)")
        exec_cache = str(work / "exec-cache.sqlite")
        run_agent(problems, url, 32, work / "fill-exec", cache=cache, exec_cache=exec_cache)
        te, se = run_agent(problems, url, 32, work / "cached-exec", cache=cache, exec_cache=exec_cache)
        print(f"rerun from the LLM cache + program-run cache: {te:6.1f} s  ({se.correct}/{n} correct) (goal < 10 s)")
    finally:
        server.shutdown()
    results["agent"] = {"c1_s": round(t1, 1), "c32_s": round(t32, 1), "speedup": round(t1 / t32, 1),
                        "llm_cache_rerun_s": round(tc, 1), "full_cache_rerun_s": round(te, 1),
                        "correct": [s1.correct, s32.correct, sc.correct, se.correct]}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
