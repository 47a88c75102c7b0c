"""Run untrusted (LLM-written) Python programs in a pool of warm, isolated worker processes."""

from optotrace.modeling.errors import SandboxError
from optotrace.modeling.sandbox.lazy import LazySandbox, process_sandbox
from optotrace.modeling.sandbox.limits import Limits
from optotrace.modeling.sandbox.pool import Sandbox
from optotrace.modeling.sandbox.preview import ISOLATION_ENV, expected_isolation, isolation_line
from optotrace.modeling.sandbox.result import RunResult
from optotrace.modeling.sandbox.run_cache import CachedSandbox, RunCache

__all__ = [
    "ISOLATION_ENV", "CachedSandbox", "LazySandbox", "Limits", "RunCache", "RunResult", "Sandbox", "SandboxError",
    "expected_isolation", "isolation_line", "process_sandbox",
]
