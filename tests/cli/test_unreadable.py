"""Fail closed: what ``malhug scan`` cannot read is an ``error`` entry in every format and never a pass.

The tests run as root, where ``chmod 000`` stops nothing, so unreadability is made real in ways root
cannot read through: a dangling symbolic link, a FIFO, a file deleted between the listing and the
read, and a folder whose listing fails (``os.scandir`` raising ``PermissionError``, which is how
``os.walk`` meets an unreadable folder). One test drops privileges to a real ``chmod 000`` folder.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from malhug import cli
from malhug.analyzers import dispatch
from malhug.core.failures import FAILED

BENIGN = b"not a model, just text\n"


def _scan(capsys: pytest.CaptureFixture[str], *args: str, fmt: str = "json") -> tuple[int, dict]:
    code = cli.main(["scan", *args, "--format", fmt])
    return code, json.loads(capsys.readouterr().out)


def _entry(report: dict, path: Path) -> dict:
    [entry] = [f for f in report["files"] if f["path"] == str(path)]
    return entry


def test_dangling_symlink_is_an_error_entry_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.json").write_bytes(b"{}")
    (tmp_path / "pytorch_model.bin").symlink_to(tmp_path / "gone.bin")
    code, report = _scan(capsys, str(tmp_path))
    assert code == 2 and report["verdict"] == "error"
    broken = _entry(report, tmp_path / "pytorch_model.bin")
    assert broken["verdict"] == "error" and broken["error"] == "cannot read: broken symbolic link"
    assert [f["rule"] for f in broken["findings"]] == [FAILED]
    assert _entry(report, tmp_path / "config.json")["verdict"] == "clean"


def test_symlink_to_a_file_is_read_through(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A Hugging Face snapshot is all symbolic links to blobs: skipping them scanned nothing and passed."""
    blob = tmp_path / "blobs" / "abc"
    blob.parent.mkdir()
    blob.write_bytes(b"{}")
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "config.json").symlink_to(blob)
    code, report = _scan(capsys, str(snap))
    assert code == 0 and [f["path"] for f in report["files"]] == [str(snap / "config.json")]


def test_fifo_is_never_opened(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(tmp_path / "model.pkl")
    code, report = _scan(capsys, str(tmp_path))
    assert code == 2
    assert _entry(report, tmp_path / "model.pkl")["error"] == "cannot read: a FIFO, not a regular file"
    code, report = _scan(capsys, str(tmp_path / "model.pkl"))
    assert code == 2 and report["files"][0]["verdict"] == "error"


def test_file_vanishing_between_listing_and_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.bin").write_bytes(BENIGN)
    (tmp_path / "b.bin").write_bytes(BENIGN)
    real = dispatch.iter_entries

    def listing_then_delete(root: Path) -> Iterator[object]:
        entries = list(real(root))
        (tmp_path / "b.bin").unlink()
        yield from entries

    monkeypatch.setattr(dispatch, "iter_entries", listing_then_delete)
    code, report = _scan(capsys, str(tmp_path))
    assert code == 2
    gone = _entry(report, tmp_path / "b.bin")
    assert gone["verdict"] == "error" and gone["error"].startswith("cannot read: No such file")


def test_folder_that_cannot_be_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ok.bin").write_bytes(BENIGN)
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "evil.pkl").write_bytes(BENIGN)
    real = os.scandir

    def scandir(path: str | os.PathLike[str] = ".") -> object:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, report = _scan(capsys, str(tmp_path))
    assert code == 2
    entry = _entry(report, locked)
    assert entry["verdict"] == "error" and entry["error"] == "cannot list the folder: Permission denied"
    code, report = _scan(capsys, str(locked))
    assert code == 2 and _entry(report, locked)["verdict"] == "error"


def test_unreadable_next_to_risky_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Precedence (docs/CLI.md "Exit status"): a risky file (1) outranks an unreadable one (2)."""
    from tests.builders import pickles

    (tmp_path / "evil.pkl").write_bytes(pickles.pickle_of([pickles.call("os.system", "echo pwned")]))
    (tmp_path / "broken.bin").symlink_to(tmp_path / "nowhere")
    code, report = _scan(capsys, str(tmp_path))
    assert code == 1
    assert _entry(report, tmp_path / "evil.pkl")["verdict"] == "malicious"
    assert _entry(report, tmp_path / "broken.bin")["verdict"] == "error"


def test_empty_folder_is_never_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    code = cli.main(["scan", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 2
    assert "no files: the folder holds nothing to scan" in out
    assert out.splitlines()[-1].startswith("ERROR: 0 file(s) scanned, 1 could not be scanned (1 error)")
    assert "CLEAN" not in out


def test_text_and_sarif_show_the_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # SARIF paths are relative to the checkout (here: the working directory)
    (tmp_path / "w.bin").symlink_to(tmp_path / "nowhere")
    assert cli.main(["scan", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert f"ERROR        {tmp_path / 'w.bin'}" in out and "error: cannot read: broken symbolic link" in out
    code, sarif = _scan(capsys, str(tmp_path), fmt="sarif")
    run = sarif["runs"][0]
    assert code == 2 and run["properties"]["verdict"] == "error"
    [result] = run["results"]
    assert result["ruleId"] == FAILED and result["properties"]["verdict"] == "error"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "w.bin"  # the link, not its target
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"].endswith("broken symbolic link")


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder an unprivileged user can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="malhug-unreadable-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def _scan_as(uid: int, gid: int, target: Path) -> tuple[int, dict]:
    """``malhug scan --format json target`` in a forked child that dropped to ``uid``: the interpreter
    and every module the scan needs are loaded before the fork (root's pyenv is closed to others)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 99
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            os.dup2(write_end, 1)
            sys.stdout = os.fdopen(1, "w", closefd=False)
            code = cli.main(["scan", str(target), "--format", "json"])
            sys.stdout.flush()
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        out = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), json.loads(out)


def test_permission_denied_for_an_unprivileged_user(shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A real ``chmod 000`` folder and file, scanned as the user ``nobody``: root reads through any
    mode bits, so the scan drops privileges in a forked child. Skipped only where that is impossible."""
    if os.geteuid() != 0:
        pytest.skip("dropping to another user needs root")
    import pwd

    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody' to drop privileges to")
    (shared_dir / "ok.bin").write_bytes(BENIGN)
    (shared_dir / "secret.bin").write_bytes(BENIGN)
    (shared_dir / "locked").mkdir()
    (shared_dir / "locked" / "evil.pkl").write_bytes(BENIGN)
    assert cli.main(["scan", str(shared_dir)]) == 0  # as root: everything readable, every module loaded
    capsys.readouterr()
    (shared_dir / "secret.bin").chmod(0)
    (shared_dir / "locked").chmod(0)
    code, report = _scan_as(nobody.pw_uid, nobody.pw_gid, shared_dir)
    assert code == 2
    errors = {f["path"]: f["error"] for f in report["files"] if f["verdict"] == "error"}
    assert errors == {
        str(shared_dir / "locked"): "cannot list the folder: Permission denied",
        str(shared_dir / "secret.bin"): "cannot read: Permission denied",
    }
    assert _entry(report, shared_dir / "ok.bin")["verdict"] == "clean"
