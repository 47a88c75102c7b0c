"""What one sandboxed run produced."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RunResult:
    """The outcome of one program run in the sandbox.

    `returncode` is the exit status (negative: killed by that signal; None: the sandbox could not run it, see
    `error`). `timed_out` covers both the wall-time and the CPU-time limit; `memory_exceeded` means the program
    hit the address-space limit (MemoryError or an allocation failure) or its processes together went over the
    job's memory cgroup limit (the kernel killed one of them); `output_truncated` means the program
    printed more than `output_limit` bytes and was stopped there.
    """

    stdout: str
    stderr: str
    returncode: int | None
    timed_out: bool = False
    memory_exceeded: bool = False
    output_truncated: bool = False
    wall_time: float = 0.0
    error: str = ""

    @property
    def ok(self) -> bool:
        """True when the program ran to completion, exited with status 0 and broke no limit."""
        return (
            self.returncode == 0
            and not self.timed_out
            and not self.memory_exceeded
            and not self.output_truncated
            and not self.error
        )

    @property
    def failure(self) -> str | None:
        """None for a clean run; else one line saying what went wrong (for records and repair prompts)."""
        if self.ok:
            return None
        if self.timed_out:
            return "the program ran past its time limit"
        if self.memory_exceeded:
            return "the program ran out of memory"
        if self.output_truncated:
            return "the program printed more than the output limit"
        if self.error:
            return self.error
        tail = (self.stderr or "").strip().splitlines()[-1:] or [""]
        return f"the program exited with status {self.returncode}: {tail[0][:300]}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**fields)
