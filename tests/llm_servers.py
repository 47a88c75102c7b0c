"""HTTP servers for LLM tests and perf scripts (owned by the llm area; imported by tests/conftest.py).

- LlamaServer: llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`) running the embedded
  model on 127.0.0.1 and a free port, stopped by its pid (terminate, then kill).
- FakeOpenAIServer: an OpenAI-compatible server in a thread that plays a script of faults (status codes with
  headers, hangs, broken bodies) and replies, and records every request it receives.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@dataclass
class LlamaServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        stop_process(self.process.pid, self.process)


def stop_process(pid: int, process: subprocess.Popen[bytes] | None = None, grace: float = 10.0) -> None:
    """Terminate `pid`, then kill it if it is still there after `grace` seconds."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if process is None:
        return
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.kill(pid, signal.SIGKILL)
        process.wait(timeout=grace)


def start_llama_server(
    model_path: Path, log_path: Path, n_ctx: int = 4096, n_threads: int = 1, wait_s: float = 180.0
) -> LlamaServer:
    """Start llama.cpp's server on a free port and wait until GET /v1/models answers.

    One thread by default: tests run beside other work (pytest -n 2), and llama.cpp's threads spin at
    barriers, so on a busy machine more threads make it slower, not faster."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path), "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(n_ctx), "--n_threads", str(n_threads), "--verbose", "False",
    ]  # fmt: skip
    log = open(log_path, "wb")  # noqa: SIM115 - the child writes to it for its whole life
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    server = LlamaServer(process, f"http://127.0.0.1:{port}/v1", log_path)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited with {process.returncode}:\n{server.log_tail()}")
        if _answers(f"{server.base_url}/models"):
            return server
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"llama.cpp server did not answer within {wait_s} s:\n{server.log_tail()}")


# -- the fault-injecting server -------------------------------------------------------------------------------


@dataclass
class Step:
    """One scripted answer: kind is 'reply', 'status', 'hang' or 'raw'."""

    kind: str
    content: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    content_type: str = "application/json"
    seconds: float = 0.0


def reply(content: str | dict[str, Any]) -> Step:
    return Step("reply", content=content if isinstance(content, str) else json.dumps(content))


def status(code: int, message: str = "error", headers: dict[str, str] | None = None) -> Step:
    body = json.dumps({"error": {"message": message, "type": "test_fault", "code": code}})
    return Step("status", status=code, headers=headers or {}, body=body)


def hang(seconds: float) -> Step:
    return Step("hang", seconds=seconds)


def raw(body: str, content_type: str = "application/json") -> Step:
    return Step("raw", body=body, content_type=content_type)


def completion_body(content: str, model: str, prompt_tokens: int = 11, completion_tokens: int = 7) -> str:
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


class FakeOpenAIServer:
    """Plays `steps` in order, one per POST /v1/chat/completions; after them, `respond(request) -> text`
    (default: echo the last message) after `delay` seconds. `.requests` holds the parsed request bodies."""

    def __init__(
        self,
        steps: list[Step] | None = None,
        *,
        respond: Callable[[dict[str, Any]], str] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.steps = list(steps or [])
        self.respond = respond or (lambda body: str(body["messages"][-1]["content"]))
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-openai", daemon=True)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self, body: dict[str, Any]) -> Step | None:
        with self._lock:
            self.requests.append(body)
            return self.steps.pop(0) if self.steps else None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def _send(
                self, code: int, body: str, content_type: str, headers: dict[str, str] | None = None
            ) -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                models = {"object": "list", "data": [{"id": "fake", "object": "model", "owned_by": "tests"}]}
                self._send(200, json.dumps(models), "application/json")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                step = server._next(body)
                model = str(body.get("model", "fake"))
                try:
                    if step is None:
                        if server.delay:
                            time.sleep(server.delay)
                        self._send(200, completion_body(server.respond(body), model), "application/json")
                    elif step.kind == "reply":
                        self._send(200, completion_body(step.content, model), "application/json")
                    elif step.kind == "status":
                        self._send(step.status, step.body, "application/json", step.headers)
                    elif step.kind == "raw":
                        self._send(200, step.body, step.content_type)
                    elif step.kind == "hang":
                        server._stopping.wait(step.seconds)
                        self._send(200, completion_body("too late", model), "application/json")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on us (the hang case): fine

        return Handler
