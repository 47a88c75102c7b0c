"""A counting, caching HTTP proxy in front of the llama.cpp server(s): every system's calls are seen here.

- Counts chat/completions requests and their tokens (from the response's `usage`) per phase, whether
  answered from the cache or by the server, so a rerun reports the same numbers as the first run.
- Caches answers in SQLite keyed by (request body, occurrence): the k-th identical request of a phase gets
  the k-th answer, so sampling at temperature > 0 keeps its variety and a rerun replays exactly.
- Enforces a phase's call budget: past it, a request gets HTTP 400 "budget exhausted" (not retried by clients).
- Routes by the request's "model": `optimizer` goes to the optimizer's server when one is set.
- POST /phase {"name"} starts an unbudgeted phase (a peer runner scoring its result); GET /count tells
  the current phase's tally.
- POST /grade {"task", "example", "reply"} answers {"score", "feedback"} with the task's own grader, so peer
  runners grade exactly as optotrace does without importing it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

OPTIMIZER_MODEL = "optimizer"


@dataclass
class Tally:
    calls: int = 0
    cached: int = 0
    refused: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    by_model: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "cached": self.cached, "refused": self.refused,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "tokens": self.prompt_tokens + self.completion_tokens, "llm_seconds": round(self.seconds, 2),
                "by_model": dict(self.by_model)}


class AnswerCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, body BLOB NOT NULL)")
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM answers WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def put(self, key: str, body: bytes) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?)", (key, body))

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CountingProxy:
    """`with CountingProxy(upstream, cache_path) as proxy:` ... `proxy.base_url` is OpenAI-compatible."""

    def __init__(self, upstream: str, cache_path: Path, optimizer_upstream: str | None = None,
                 grade: Callable[[str, dict[str, Any], str], tuple[float, str]] | None = None) -> None:
        self.upstreams = {"": upstream.rstrip("/"), OPTIMIZER_MODEL: (optimizer_upstream or upstream).rstrip("/")}
        self.cache = AnswerCache(cache_path)
        self.grade = grade
        self._lock = threading.Lock()
        self._server_lock = threading.Lock()  # llama.cpp answers one request at a time anyway
        self.phase = "idle"
        self.budget: int | None = None
        self.tallies: dict[str, Tally] = {}
        self._seen: Counter[str] = Counter()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="quality-proxy", daemon=True)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self.cache.close()

    # -- phases ---------------------------------------------------------------------------------------------
    def start_phase(self, name: str, budget: int | None = None) -> None:
        """Count what follows under `name` (occurrence counters restart, so a rerun hits the same keys)."""
        with self._lock:
            self.phase, self.budget = name, budget
            self.tallies[name] = Tally()
            self._seen = Counter()

    def tally(self, name: str | None = None) -> Tally:
        with self._lock:
            return self.tallies.setdefault(name or self.phase, Tally())

    # -- one request ---------------------------------------------------------------------------------------
    def _admit(self) -> tuple[Tally, bool]:
        with self._lock:
            t = self.tallies.setdefault(self.phase, Tally())
            if self.budget is not None and t.calls >= self.budget:
                t.refused += 1
                return t, False
            t.calls += 1
            return t, True

    def complete(self, path: str, body: bytes) -> tuple[int, bytes]:
        tally, admitted = self._admit()
        if not admitted:
            return 400, json.dumps({"error": {"message": f"budget exhausted: {self.budget} calls in phase "
                                              f"{self.phase}", "type": "budget_exhausted"}}).encode()
        request = json.loads(body)
        model = OPTIMIZER_MODEL if request.get("model") == OPTIMIZER_MODEL else ""
        digest = hashlib.sha256(path.encode() + b"\n" + body).hexdigest()
        with self._lock:
            self._seen[digest] += 1
            key = f"{digest}:{self._seen[digest]}"
        stream = bool(request.get("stream"))
        answer = None if stream else self.cache.get(key)
        t0 = time.perf_counter()
        if answer is None:
            status, answer = self._forward(self.upstreams[model] + path, body)
            if status != 200:
                return status, answer
            if not stream:
                self.cache.put(key, answer)
        else:
            with self._lock:
                tally.cached += 1
        usage = {} if stream else (json.loads(answer).get("usage") or {})
        with self._lock:
            tally.seconds += time.perf_counter() - t0
            tally.prompt_tokens += int(usage.get("prompt_tokens") or 0)
            tally.completion_tokens += int(usage.get("completion_tokens") or 0)
            tally.by_model[model or "workflow"] += 1
        return 200, answer

    def _forward(self, url: str, body: bytes, method: str = "POST") -> tuple[int, bytes]:
        req = urllib.request.Request(url, data=body if method == "POST" else None, method=method,
                                     headers={"Content-Type": "application/json"})
        with self._server_lock:
            try:
                with urllib.request.urlopen(req, timeout=600) as resp:
                    return resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read()
            except OSError as exc:
                return 502, json.dumps({"error": {"message": f"upstream unreachable: {exc}"}}).encode()

    def _grade(self, body: bytes) -> tuple[int, bytes]:
        if self.grade is None:
            return 404, b'{"error": "no grader"}'
        req = json.loads(body)
        score, feedback = self.grade(req["task"], req["example"], str(req.get("reply", "")))
        return 200, json.dumps({"score": score, "feedback": feedback}).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                if self.path.startswith("/count"):
                    t = proxy.tally()
                    return self._send(200, json.dumps({"phase": proxy.phase, "budget": proxy.budget,
                                                       **t.to_dict()}).encode())
                path = self.path[3:] if self.path.startswith("/v1") else self.path
                self._send(*proxy._forward(proxy.upstreams[""] + path, b"", method="GET"))

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    if self.path.startswith("/grade"):
                        return self._send(*proxy._grade(body))
                    if self.path.startswith("/phase"):  # a peer runner moving on to its own evaluation
                        proxy.start_phase(str(json.loads(body)["name"]), None)
                        return self._send(200, b"{}")
                    path = self.path[3:] if self.path.startswith("/v1") else self.path
                    self._send(*proxy.complete(path, body))
                except Exception as exc:  # a bad request must not kill the proxy
                    self._send(500, json.dumps({"error": {"message": f"{type(exc).__name__}: {exc}"}}).encode())

        return Handler
