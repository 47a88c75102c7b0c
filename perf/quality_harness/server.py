"""Start llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`) on 127.0.0.1, and find the model."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


class SetupError(Exception):
    """Something the user must fix before the benchmark can run (one short message, no traceback)."""


def resolve_model(explicit: str | None, role: str = "workflow") -> Path:
    """An explicit --model-path wins; else optotrace's local-model resolution (OPTOTRACE_LOCAL_MODEL, the package)."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise SetupError(f"--{'optimizer-model' if role == 'optimizer' else 'model-path'} {explicit}: no such file")
        return path
    from optotrace.llm import LLMConfigError, embedded_model_path

    try:
        return embedded_model_path()
    except LLMConfigError as exc:
        raise SetupError(f"no local model: {exc}; or pass --model-path PATH.gguf") from exc


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LlamaServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def stop(self) -> None:
        try:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


def _die_with_parent() -> None:
    """In the server's process (Linux): SIGTERM when the harness dies, however it dies (a killed harness
    otherwise leaves its server running and eating the CPU)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_llama_server(model: Path, log_path: Path, n_ctx: int = 4096, n_threads: int = 2,
                       wait_s: float = 300.0) -> LlamaServer:
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(n_threads), "--verbose", "False"]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    server = LlamaServer(process, f"http://127.0.0.1:{port}/v1", log_path)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-1500:]
            raise SetupError(f"llama.cpp server exited with {process.returncode} (is llama-cpp-python "
                             f"installed?):\n{tail}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/models", timeout=2) as resp:
                if resp.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.5)
    server.stop()
    raise SetupError(f"llama.cpp server did not answer within {wait_s:.0f} s; see {log_path}")
