"""Scanning Hub repositories through the fake Hub: detections, revisions, bytes transferred, caches."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from malhug.core.model import Category, Verdict
from malhug.hub.client import HubClient
from tests.fakehub import FakeHub, SparseFile
from tests.hub import payloads as P

pytestmark = pytest.mark.e2e  # they start the fake Hub's HTTP servers


def _rules(scan, path: str) -> list[str]:
    [report] = [f for f in scan.files if f.path == path]
    return [f.rule for f in report.findings]


def _file(scan, path: str):
    [report] = [f for f in scan.files if f.path == path]
    return report


def test_malicious_weights_found_at_the_poisoned_revision_only(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    repo = hub.repo("org/model")
    clean = repo.commit(
        {"config.json": '{"model_type": "bert"}', "pytorch_model.bin": P.torch_zip(P.benign_pickle())}, title="init"
    )
    bad = repo.commit({"pytorch_model.bin": P.torch_zip(P.evil_pickle())}, title="update weights")
    client = make_client()

    head = client.scan_repo("org/model")
    assert head.error is None and head.commit_sha == bad and head.revision is None
    assert head.verdict is Verdict.MALICIOUS
    weights = _file(head, "pytorch_model.bin")
    assert weights.format == "pytorch-zip" and weights.verdict is Verdict.MALICIOUS
    worst = max(weights.findings, key=lambda f: f.severity.rank)
    assert worst.category is Category.COMMAND_EXEC and worst.rule.startswith("MH1")
    assert worst.location.member == "archive/data.pkl"
    assert "malhug-sentinel-hub" in worst.evidence + worst.message
    assert _file(head, "config.json").verdict is Verdict.CLEAN

    old = client.scan_repo("org/model", revision=clean)
    assert old.commit_sha == clean and old.verdict is Verdict.CLEAN, [f.to_dict() for f in old.files]
    assert {f.path for f in old.files} == {"config.json", "pytorch_model.bin"}


def test_four_gib_checkpoint_costs_under_one_mib(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    size = 4 * 2**30
    hub.repo("org/big").commit({"pytorch_model.bin": P.sparse_torch_zip(P.evil_pickle(), size)})
    hub.clear_log()
    scan = make_client().scan_repo("org/big")
    transferred = hub.bytes_served(file_only=True)
    assert 0 < transferred < 2**20, transferred
    assert scan.bytes_read == transferred  # what we report is what crossed the wire
    weights = _file(scan, "pytorch_model.bin")
    assert weights.size == size and weights.verdict is Verdict.MALICIOUS
    assert any(f.location.member == "archive/data.pkl" for f in weights.findings)
    ranged = hub.requests(lambda r: r.server == "cdn")
    assert ranged and all(r.status == 206 and r.range for r in ranged)
    assert scan.skipped == {}


def test_dataset_loading_script_detected(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    repo = hub.repo("org/evil-data", "dataset")
    repo.commit({"evil-data.py": P.EVIL_LOADING_SCRIPT, "data/train.csv": "a,b\n1,2\n", "README.md": "# data"})
    scan = make_client().scan_repo("org/evil-data", "dataset")
    assert scan.error is None and scan.repo_type == "dataset"
    assert scan.ships_code is True
    assert {f.path for f in scan.files} == {"evil-data.py"}  # csv and README run no code
    script = _file(scan, "evil-data.py")
    assert "MH602" in [f.rule for f in script.findings]
    assert script.verdict is Verdict.MALICIOUS
    exec_findings = [f for f in script.findings if f.category is Category.COMMAND_EXEC]
    assert exec_findings and exec_findings[0].location.line == 9


@pytest.mark.fires("MH602")
def test_remote_code_named_by_auto_map(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    config = '{"model_type": "evil", "auto_map": {"AutoModel": "modeling_evil.EvilModel"}}'
    repo = hub.repo("org/remote")
    good = repo.commit(
        {
            "config.json": config,
            "modeling_evil.py": P.BENIGN_REMOTE_CODE,
            "model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ",
        }
    )
    repo.commit({"modeling_evil.py": P.EVIL_REMOTE_CODE}, title="refactor")
    client = make_client()
    scan = client.scan_repo("org/remote")
    assert scan.ships_code is True
    code = _file(scan, "modeling_evil.py")
    notes = [f for f in code.findings if f.rule == "MH602"]
    assert notes and "auto_map" in notes[0].message
    assert code.verdict is Verdict.MALICIOUS
    assert any(f.category is Category.COMMAND_EXEC and f.location.line == 10 for f in code.findings)
    safe = client.scan_repo("org/remote", revision=good)
    assert _file(safe, "modeling_evil.py").verdict is Verdict.CLEAN
    assert _rules(safe, "modeling_evil.py") == ["MH602"]


def test_newest_safe_revision_skips_poisoned_head_commits(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    repo = hub.repo("org/model")
    repo.commit({"config.json": "{}", "pytorch_model.bin": P.torch_zip(P.benign_pickle())}, title="v1")
    v2 = repo.commit({"README.md": "better docs"}, title="v2")
    repo.commit({"pytorch_model.bin": P.torch_zip(P.evil_pickle())}, title="poison")
    head = repo.commit({"README.md": "even better docs"}, title="cover tracks")
    client = make_client()
    found = client.find_safe_revision("org/model")
    assert found.error is None
    assert found.head_sha == head and found.commit_sha == v2
    assert found.commits_checked == 3 and found.is_head is False
    # Files shared by commits are fetched once: the clean pickle zip and the poisoned one, no more.
    weights_fetches = hub.requests(lambda r: r.server == "cdn" and r.path.endswith("pytorch_model.bin"))
    assert len(weights_fetches) == 2


def test_safe_revision_is_head_when_head_is_clean_and_none_when_all_poisoned(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    good = hub.repo("org/good")
    head = good.commit({"w.pkl": P.benign_pickle()})
    bad = hub.repo("org/bad")
    bad.commit({"w.pkl": P.evil_pickle()})
    bad_head = bad.commit({"README.md": "x"})
    client = make_client()
    found = client.find_safe_revision("org/good")
    assert (found.commit_sha, found.is_head, found.commits_checked) == (head, True, 1)
    none = client.find_safe_revision("org/bad", max_commits=5)
    assert none.commit_sha is None and none.head_sha == bad_head and none.commits_checked == 2 and none.error is None


def test_warm_rescan_transfers_no_file_bytes(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    repo = hub.repo("org/model")
    sha = repo.commit({"config.json": "{}", "pytorch_model.bin": P.torch_zip(P.evil_pickle()), "util.py": "x = 1\n"})
    client = make_client()
    cold = client.scan_repo("org/model")
    assert cold.from_cache is False and cold.bytes_read > 0
    hub.clear_log()
    warm = make_client().scan_repo("org/model")  # a new client (new process): the SQLite cache persists
    assert warm.from_cache is True and warm.bytes_read == 0
    assert hub.bytes_served(file_only=True) == 0
    assert [r.path for r in hub.requests()] == ["/api/models/org/model"]  # the revision check only
    assert warm.verdict is Verdict.MALICIOUS and {f.path for f in warm.files} == {f.path for f in cold.files}
    assert _rules(warm, "pytorch_model.bin") == _rules(cold, "pytorch_model.bin")
    hub.clear_log()
    pinned = client.scan_repo("org/model", revision=sha)
    assert pinned.from_cache is True and hub.requests() == []  # a full sha already scanned: no request at all
    client.clear_cache()
    hub.clear_log()
    again = client.scan_repo("org/model")
    assert again.from_cache is False and hub.bytes_served(file_only=True) > 0


def test_new_commit_rescans_only_changed_files(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    repo = hub.repo("org/model")
    repo.commit(
        {"pytorch_model.bin": P.torch_zip(P.benign_pickle()), "tf_model.h5": b"\x89HDF\r\n\x1a\n" + b"\x00" * 100}
    )
    client = make_client()
    client.scan_repo("org/model")
    repo.commit({"extra.pkl": P.evil_pickle()})
    hub.clear_log()
    scan = client.scan_repo("org/model")
    fetched = {r.path.rsplit("/", 1)[-1] for r in hub.requests(lambda r: r.server == "cdn")}
    assert fetched == {"extra.pkl"}
    assert _file(scan, "extra.pkl").verdict is Verdict.MALICIOUS


@pytest.mark.fires("MH603")
def test_hub_security_status_is_reported_beside_ours(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    status = {
        "status": "unsafe",
        "pickleImportScan": {
            "highestSafetyLevel": "dangerous",
            "imports": [{"module": "posix", "name": "system", "safety": "dangerous"}],
        },
    }
    hub.repo("org/flagged").commit(
        {"a.pkl": P.evil_pickle(), "b.pkl": P.benign_pickle()},
        security={"a.pkl": status, "b.pkl": {"status": "unsafe"}},
    )
    scan = make_client().scan_repo("org/flagged")
    assert scan.hub_security is not None
    assert scan.hub_security["repo"]["filesWithIssues"] == [
        {"path": "a.pkl", "level": "unsafe"},
        {"path": "b.pkl", "level": "unsafe"},
    ]
    assert scan.hub_security["files"]["a.pkl"]["status"] == "unsafe"
    a, b = _file(scan, "a.pkl"), _file(scan, "b.pkl")
    assert "MH603" in [f.rule for f in a.findings] and a.verdict is Verdict.MALICIOUS
    # The Hub's flag is a note: our analysis decides (a plain dict pickle stays clean).
    assert [f.rule for f in b.findings] == ["MH603"] and b.verdict is Verdict.CLEAN
    assert "posix" in next(f.evidence for f in a.findings if f.rule == "MH603")


@pytest.mark.quiet("MH603")
def test_a_file_the_hub_calls_safe_gets_no_hub_note(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    # MH603 reports the Hub's own "unsafe" flag; a file the Hub scanned and found safe gets no note.
    hub.repo("org/checked").commit({"b.pkl": P.benign_pickle()}, security={"b.pkl": {"status": "safe"}})
    scan = make_client().scan_repo("org/checked")
    assert "MH603" not in _rules(scan, "b.pkl")
    assert _file(scan, "b.pkl").verdict is Verdict.CLEAN


@pytest.mark.quiet("MH601")
@pytest.mark.fires("MH601")
def test_download_cap_reports_skipped_file(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.repo("org/legacy").commit({"model.pkl": P.big_legacy_pickle(3 * 2**20), "small.pkl": P.benign_pickle()})
    hub.clear_log()
    scan = make_client(max_download=2**20).scan_repo("org/legacy")
    assert list(scan.skipped) == ["model.pkl"] and "cap" in scan.skipped["model.pkl"]
    big = _file(scan, "model.pkl")
    assert sorted(f.rule for f in big.findings) == ["MH601", "MH901"] and big.verdict is Verdict.SUSPICIOUS
    assert "the first" in next(f.message for f in big.findings if f.rule == "MH601")
    assert scan.verdict is Verdict.SUSPICIOUS
    assert hub.bytes_served(file_only=True, match="model.pkl") <= 2**20
    assert _file(scan, "small.pkl").verdict is Verdict.CLEAN
    assert "MH601" not in _rules(scan, "small.pkl")  # a file under the cap is read whole


def test_payload_in_the_part_under_the_cap_is_still_found(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    size = 64 * 2**20
    hub.repo("org/legacy").commit({"pytorch_model.bin": SparseFile(size, ((0, P.evil_pickle()),))})
    hub.clear_log()
    scan = make_client(max_download=2 * 2**20).scan_repo("org/legacy")
    report = _file(scan, "pytorch_model.bin")
    assert report.verdict is Verdict.MALICIOUS and report.size == size
    assert {"MH601"} < {f.rule for f in report.findings}
    assert any(f.category is Category.COMMAND_EXEC for f in report.findings)
    assert hub.bytes_served(file_only=True) <= 2 * 2**20 and "pytorch_model.bin" in scan.skipped


@pytest.mark.quiet("MH604")
@pytest.mark.fires("MH604")
def test_content_that_does_not_match_the_listing_is_flagged(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    data = P.benign_pickle()
    hub.repo("org/liar").commit({"w.pkl": SparseFile(len(data), ((0, data),), oid="0" * 64), "ok.pkl": data})
    scan = make_client().scan_repo("org/liar")
    report = _file(scan, "w.pkl")
    assert [f.rule for f in report.findings] == ["MH604"] and report.verdict is Verdict.SUSPICIOUS
    assert "MH604" not in _rules(scan, "ok.pkl")  # the same bytes under their true hash


def test_progress_and_cancel(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    import threading

    hub.repo("org/model").commit({f"w{i}.pkl": P.benign_pickle() for i in range(3)})
    seen: list[tuple[str, int, int]] = []
    cancel = threading.Event()

    def progress(path: str, done: int, total: int) -> None:
        seen.append((path, done, total))
        if done == 1:
            cancel.set()

    scan = make_client().scan_repo("org/model", on_progress=progress, cancel=cancel)
    assert seen == [("w0.pkl", 0, 3), ("w1.pkl", 1, 3)]
    assert scan.error_kind == "cancelled" and scan.verdict is Verdict.ERROR


def test_paginated_listing_and_history(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    hub.state.tree_page_size = 2
    hub.state.commits_page_size = 2
    repo = hub.repo("org/many")
    first = repo.commit({f"w{i}.pkl": P.benign_pickle() for i in range(5)})
    for i in range(4):
        repo.commit({f"notes{i}.md": "x"})
    repo.commit({"w4.pkl": P.evil_pickle()})
    client = make_client()
    scan = client.scan_repo("org/many")
    assert scan.files_listed == 9 and len(scan.files) == 5
    assert len(hub.requests(lambda r: "/tree/" in r.path)) == 5
    assert _file(scan, "w4.pkl").verdict is Verdict.MALICIOUS
    found = client.find_safe_revision("org/many", max_commits=3)
    assert found.commit_sha == repo.commits[-2] and found.commits_checked == 2
    deep = client.find_safe_revision("org/many", max_commits=6)
    assert deep.commit_sha == repo.commits[-2] and first in repo.commits


@pytest.mark.quiet("MH602")
@pytest.mark.fires("MH602")
def test_auto_map_into_another_repository_is_noted_on_the_config(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    config = '{"auto_map": {"AutoModel": "org/code--modeling_x.XModel"}}'
    hub.repo("org/thin").commit({"config.json": config, "model.safetensors": b"\x02\x00\x00\x00\x00\x00\x00\x00{}"})
    scan = make_client().scan_repo("org/thin")
    assert scan.ships_code is True
    notes = [f for f in _file(scan, "config.json").findings if f.rule == "MH602"]
    assert (
        len(notes) == 1 and notes[0].evidence == "org/code:modeling_x.py" and "another repository" in notes[0].message
    )
    plain = hub.repo("org/plain")
    plain.commit({"config.json": '{"model_type": "bert"}', "train.py": "print('hi')\n"})
    plain_scan = make_client().scan_repo("org/plain")
    assert plain_scan.ships_code is False
    assert "MH602" not in _rules(plain_scan, "config.json")  # no auto_map: no code loaded from anywhere


def test_chat_template_file_is_checked_like_the_tokenizer_config_template(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    evil = "{% for m in messages %}{{ m.content }}{% endfor %}\n{{ cycler.__init__.__globals__.os.popen('echo malhug-sentinel-hub').read() }}\n"
    good = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    hub.repo("org/chat").commit({"chat_template.jinja": evil, "other/chat_template.jinja": good})
    scan = make_client().scan_repo("org/chat")
    bad = _file(scan, "chat_template.jinja")
    assert bad.format == "jinja" and bad.verdict is Verdict.MALICIOUS
    worst = max(bad.findings, key=lambda f: f.severity.rank)
    assert worst.rule.startswith("MH4") and worst.category is Category.TEMPLATE_INJECTION and worst.location.line == 2
    assert _file(scan, "other/chat_template.jinja").verdict is Verdict.CLEAN


def test_dataset_code_is_the_loading_script_and_its_imports_not_data_py_files(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    script = (
        "import datasets\n\nfrom .helpers import build\n\n\nclass Data(datasets.GeneratorBasedBuilder):\n    pass\n"
    )
    helper = 'import os\n\n\ndef build():\n    os.system("echo malhug-sentinel-hub")\n'
    sample = 'import os\nos.system("echo malhug-sentinel-hub")  # a code sample the dataset holds as data\n'
    hub.repo("org/code-data", "dataset").commit(
        {"code-data.py": script, "helpers.py": helper, "samples/s1.py": sample, "train.parquet": b"PAR1"}
    )
    hub.clear_log()
    scan = make_client().scan_repo("org/code-data", "dataset")
    assert {f.path for f in scan.files} == {"code-data.py", "helpers.py"}
    assert _file(scan, "helpers.py").verdict is Verdict.MALICIOUS
    assert "MH602" in _rules(scan, "code-data.py") and scan.ships_code
    assert not hub.requests(lambda r: "samples" in r.path)


def test_safe_revision_starts_at_the_default_branch_head(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    repo = hub.repo("org/trunk")
    good = repo.commit({"w.pkl": P.benign_pickle()})
    bad = repo.commit({"w.pkl": P.evil_pickle()})
    repo.branch("main", good)  # main points back at the first commit, as after a force-push
    found = make_client().find_safe_revision("org/trunk")
    assert (found.head_sha, found.commit_sha, found.is_head, found.commits_checked) == (good, good, True, 1)
    assert bad != found.commit_sha


def test_the_same_code_under_two_paths_keeps_two_verdicts(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    """Whether loading runs a file depends on its path, so the verdict cache keys code by path too:
    the copy in a training script must not lend its verdict to the copy in the model code."""
    code = 'import subprocess\n\n\ndef check():\n    subprocess.run(["nvidia-smi"])\n'
    hub.repo("org/gpu").commit({"train.py": code, "modeling_gpu.py": code, "config.json": "{}"})
    client = make_client()
    for _ in range(2):  # cold, then from the verdict cache
        scan = client.scan_repo("org/gpu")
        assert _file(scan, "train.py").verdict is Verdict.CLEAN
        assert _file(scan, "modeling_gpu.py").verdict is Verdict.MALICIOUS


def test_modules_imported_by_remote_code_are_load_time_code(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    """trust_remote_code runs the auto_map target (whatever its name) and every module it imports;
    a training script next to them only runs when someone runs it."""
    gpu = 'import subprocess\n\n\ndef check():\n    subprocess.run(["nvidia-smi"])\n'
    hub.repo("org/custom").commit(
        {
            "config.json": '{"auto_map": {"AutoModel": "custom_arch.CustomModel"}}',
            "custom_arch.py": "from .helpers import check\n\n\nclass CustomModel:\n    pass\n",
            "helpers.py": gpu,
            "train.py": gpu,
            "tools/unused.py": gpu,
        }
    )
    client = make_client()
    for _ in range(2):  # cold, then with the verdict cache filled
        scan = client.scan_repo("org/custom")
        assert _file(scan, "helpers.py").verdict is Verdict.MALICIOUS
        assert _file(scan, "train.py").verdict is Verdict.CLEAN
        assert _file(scan, "tools/unused.py").verdict is Verdict.CLEAN
        assert "MH602" in _rules(scan, "custom_arch.py")
