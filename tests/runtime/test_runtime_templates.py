"""The one prompt-template loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from optotrace.runtime import Templates


def test_package_and_directory_templates(tmp_path: Path) -> None:
    (tmp_path / "greet.txt").write_text("  Hello $name.\n")
    local = Templates(tmp_path)
    assert local.render("greet", name="Ada") == "  Hello Ada.\n"
    assert Templates(tmp_path, strip=True).text("greet.txt") == "Hello $name."
    assert "$" in Templates("optotrace.llm.prompts").text("repair")
    assert len(local.hash("greet")) == 12


def test_missing_file_and_missing_placeholder_name_what_to_fix(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("$a and $b")
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        Templates(tmp_path).text("nope")
    with pytest.raises(KeyError, match="b"):
        Templates(tmp_path).render("t", a=1)


def test_every_layers_loader_reads_through_the_runtime() -> None:
    from optotrace.agents.prompts import load as agent_load
    from optotrace.benchmarks.prompts import load as bench_load
    from optotrace.llm.prompts import template as llm_template
    from optotrace.modeling.resocratic.templates import template_hash, template_text
    from optotrace.optimizers.proposal.templates import template as opt_template

    assert agent_load("task.txt") == agent_load("task.txt").strip()
    assert bench_load("extract_value.txt")
    assert llm_template("repair").template
    assert opt_template("optoprime_system").template
    assert template_text("codegen_system") and len(template_hash("codegen_system")) == 12
