"""optotrace.llm.replies: the one reader of model replies (fences, JSON objects in prose, lenient loading,
the program in a reply), shared by the optimizers, the modeler agent and ReSocratic."""

from __future__ import annotations

from optotrace.llm.replies import (
    UNREADABLE,
    ends_inside_string,
    extract_program,
    fences,
    first_code_block,
    first_json_object,
    json_spans,
    load_lenient,
    load_object,
    unfence,
    without_fence_lines,
)

PROGRAM = "import math\nprint('objective:', math.sqrt(16))"


def test_fences_report_language_body_and_whether_closed() -> None:
    found = fences("Text\n```Python\nx = 1\n```\nmore\n```json\n{\"a\": 1}")
    assert [(f.lang, f.body, f.closed) for f in found] == [("python", "x = 1\n", True), ("json", '{"a": 1}', False)]
    assert first_code_block("```json\n{}\n```\n```py\ny = 2\n```") == "y = 2\n"
    assert first_code_block("no code here") is None


def test_unfence_only_removes_a_fence_around_everything() -> None:
    assert unfence("```python\nx = 1\n```") == "x = 1"
    assert unfence("  ```\nhello\n```  ") == "hello"
    assert unfence("see ```x``` inline") == "see ```x``` inline"
    assert unfence("```a\n1\n```\n```b\n2\n```") == "```a\n1\n```\n```b\n2\n```"
    assert without_fence_lines("```python\nx = 1\n  ```\n") == "x = 1\n"


def test_json_objects_in_prose_respect_quotes() -> None:
    text = 'Sure! {"a": "a } brace", "b": {"c": 1}} and then {"d": \'it\'s\'} done'
    spans = json_spans(text)
    assert len(spans) == 2 and all(closed for _, _, closed in spans)
    assert first_json_object(text) == '{"a": "a } brace", "b": {"c": 1}}'
    assert first_json_object("no object {here") is None
    assert ends_inside_string('{"x": "cut he') and not ends_inside_string('{"x": 12')
    assert not ends_inside_string('{"x": "done"}') and not ends_inside_string("no object")


def test_lenient_loading_reads_what_models_write() -> None:
    assert load_lenient('{"a": 1}') == ({"a": 1}, "json")
    assert load_lenient('{"a": "line\nbreak"}') == ({"a": "line\nbreak"}, "json")
    assert load_lenient("{'a': True, 'b': null}") == ({"a": True, "b": None}, "python")
    assert load_lenient('{"a": 1, "b": [1, 2,],}')[0] == {"a": 1, "b": [1, 2]}
    assert load_lenient("{a: 1")[1] == "repair"
    assert load_lenient("just words") == (UNREADABLE, "")


def test_load_object_finds_the_object_in_a_reply() -> None:
    assert load_object('Here:\n```json\n{"spec": {"x": 1}}\n```') == {"spec": {"x": 1}}
    assert load_object('The answer is {"a": 1} as shown.') == {"a": 1}
    assert load_object("nothing") is None


def test_extract_program_prefers_the_python_block_that_parses() -> None:
    reply = f"Try this:\n```python\n{PROGRAM}\n```\nor the sketch\n```python\nprint(\n```"
    assert extract_program(reply) == PROGRAM
    assert extract_program(f"```\n{PROGRAM}\n```") == PROGRAM
    assert extract_program(f"```python\n{PROGRAM}\n") == PROGRAM  # cut off before the closing fence
    assert extract_program(PROGRAM) == PROGRAM  # a bare program
    assert extract_program("I cannot write this program, sorry.") is None
    assert extract_program('```json\n{"a": 1}\n```') is None
