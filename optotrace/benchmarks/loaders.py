"""Load OptiBench (path or URL) and objective-only benchmarks in JSON or JSONL, record by record."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from optotrace.benchmarks.errors import DataSourceError
from optotrace.benchmarks.problem import Dataset, OptiBenchProblem, Problem, RecordIssue
from optotrace.benchmarks.sources import default_source, read_text

log = logging.getLogger(__name__)


class _FieldError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_records(text: str, source: str = "") -> tuple[list[Any], list[RecordIssue]]:
    """A JSON array, a JSON object holding one array, or JSONL (one record a line; bad lines become issues)."""
    stripped = text.lstrip()
    if not stripped:
        raise DataSourceError(f"{source or 'the data file'} is empty; re-download it or give the path of the full file")
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataSourceError(f"{source or 'data'} is not valid JSON ({exc}); fix or re-download the file") from exc
        return list(data), []
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            arrays = [v for v in data.values() if isinstance(v, list)]
            if len(arrays) == 1:
                return list(arrays[0]), []
            return [data], []
    records: list[Any] = []
    issues: list[RecordIssue] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            issues.append(RecordIssue(position=lineno - 1, field="<json>", message=f"line {lineno}: {exc.msg}"))
            records.append(None)
    return records, issues


def _issue(position: int, raw: Any, exc: ValidationError) -> list[RecordIssue]:
    index = raw.get("index") if isinstance(raw, Mapping) else None
    if index is not None and not isinstance(index, (int, str)):
        index = str(index)
    return [
        RecordIssue(
            position=position,
            index=index,
            field=".".join(str(p) for p in err["loc"]) or "<record>",
            message=err["msg"],
        )
        for err in exc.errors()
    ]


def _validate(records: Iterable[Any], build: Any, source: str, issues: list[RecordIssue]) -> Dataset:
    problems: list[Problem] = []
    for position, raw in enumerate(records):
        if raw is None:  # a JSONL line that was not JSON; already an issue
            continue
        if not isinstance(raw, Mapping):
            issues.append(RecordIssue(position=position, field="<record>", message="not a JSON object"))
            continue
        try:
            problems.append(build(position, raw))
        except ValidationError as exc:
            issues.extend(_issue(position, raw, exc))
        except _FieldError as exc:
            index = raw.get("index")
            issues.append(RecordIssue(position=position, index=index if isinstance(index, (int, str)) else None,
                                      field=exc.field, message=exc.message))
    for issue in issues:
        log.warning("%s: skipped %s", source, issue)
    return Dataset(problems, issues, source)


def load_optibench(source: str | os.PathLike[str] | None = None, with_code: bool | None = None) -> Dataset:
    """OptiBench from a path or URL (default: `OPTIBENCH_PATH`, else ../shared). Keeps `code` when present
    (e-opt.json) unless `with_code=False`. Malformed records are listed in `.issues`; the rest load."""
    src = str(source) if source is not None else default_source()
    records, issues = parse_records(read_text(src), src)

    def build(position: int, raw: Mapping[str, Any]) -> Problem:
        data = dict(raw)
        if with_code is False:
            data.pop("code", None)
        data.setdefault("index", position)
        return OptiBenchProblem.model_validate(data)

    return _validate(records, build, src, issues)


def load_reference() -> Dataset:
    """e-opt.json: OptiBench's 605 items with their reference programs."""
    return load_optibench(default_source("e-opt.json"), with_code=True)


def load_objective_benchmark(
    source: str | os.PathLike[str],
    question_field: str = "question",
    answer_field: str = "answer",
    index_field: str | None = None,
    type_field: str | None = None,
    name: str = "objective",
) -> Dataset:
    """An objective-only benchmark (NL4Opt, MAMO, IndustryOR, OptMATH exports...) in JSON or JSONL.
    Dotted field names reach into nested objects ("output.answer"). Each problem gets one result,
    `objective`, so the same grader and reports apply."""
    src = str(source)
    records, issues = parse_records(read_text(src), src)

    def pick(raw: Mapping[str, Any], dotted: str) -> Any:
        cur: Any = raw
        for part in dotted.split("."):
            if not isinstance(cur, Mapping) or part not in cur:
                return None
            cur = cur[part]
        return cur

    def build(position: int, raw: Mapping[str, Any]) -> Problem:
        answer = pick(raw, answer_field)
        data: dict[str, Any] = {
            "index": pick(raw, index_field) if index_field else position,
            "question": pick(raw, question_field),
            "results": {"objective": answer} if answer is not None else {},
            "objective_key": "objective",
            "benchmark": name,
        }
        if type_field:
            data["type"] = pick(raw, type_field)
        try:
            problem = Problem.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            head = str(err["loc"][0]) if err["loc"] else "<record>"
            field = {"question": question_field, "results": answer_field}.get(head, head)
            raise _FieldError(field, err["msg"]) from None
        if not problem.results:
            raise _FieldError(answer_field, "missing")
        return problem

    return _validate(records, build, src, issues)

