"""The hub client against a hostile server (tests/fakehub/hostile.py), all on 127.0.0.1.

Every case: bounded bytes (counted by the client and by the server), a call that returns, a clear
error or a finding, a verdict that is never clean, and never a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from malhug.core.model import Verdict
from malhug.hub.bounded import Bounds
from malhug.hub.client import HubClient
from malhug.hub.http import HubError, HubHttp
from tests.fakehub import FakeHub
from tests.hub import payloads as P

pytestmark = pytest.mark.e2e  # they start the fake Hub's HTTP servers

SMALL = Bounds(api_bytes=256 * 1024, page_bytes=256 * 1024, deadline=1.0, error_bytes=4096)
MiB = 2**20


def _model(hub: FakeHub, files: dict[str, bytes] | None = None) -> str:
    return hub.repo("org/model").commit(files or {"config.json": b"{}", "w.pkl": P.benign_pickle()})


def _rules(scan_files: list) -> dict[str, set[str]]:  # type: ignore[type-arg]
    return {f.path: {x.rule for x in f.findings} for f in scan_files}


# --- API answers


def test_endless_api_body_stops_at_the_bound(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    _model(hub)
    hub.hostile("endless", match="/api/models/org/model", body=b'{"sha": "', fill=b"a" * 65536)
    scan = make_client(bounds=SMALL).scan_repo("org/model")
    assert scan.verdict is Verdict.ERROR and scan.error_kind == "limit"
    assert "larger than the bound of 262144 bytes" in scan.error
    with HubHttp(hub.endpoint, None, bounds=SMALL) as http:
        with pytest.raises(HubError) as err:
            http.api("GET", "/api/models/org/model", what="info")
        assert err.value.kind == "limit"
        assert SMALL.api_bytes < http.api_bytes <= SMALL.api_bytes + 2 * 65536


@pytest.mark.parametrize("length", [str(2**62), "99999999999999999999999"])
def test_absurd_content_length_on_the_api_is_refused_before_reading(
    hub: FakeHub, make_client: Callable[..., HubClient], length: str
) -> None:
    _model(hub)
    hub.hostile("endless", match="/api/models/org/model", headers={"Content-Length": length}, limit=8 * MiB)
    with HubHttp(hub.endpoint, None, bounds=SMALL) as http:
        with pytest.raises(HubError) as err:
            http.api("GET", "/api/models/org/model", what="info")
    assert err.value.kind in ("limit", "network") and http.api_bytes == 0
    scan = make_client(bounds=SMALL).scan_repo("org/model")
    assert scan.verdict is Verdict.ERROR and scan.error


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "12, 13"])
def test_malformed_content_length_is_an_error(hub: FakeHub, make_client: Callable[..., HubClient], length: str) -> None:
    _model(hub)
    hub.hostile("answer", match="/api/models/org/model", headers={"Content-Length": length}, body=b"{}")
    scan = make_client(bounds=SMALL).scan_repo("org/model")
    assert scan.verdict is Verdict.ERROR and scan.error_kind == "network"
    # The connection is dropped, not reused: the next request is served normally.
    hub.reset_faults()
    assert make_client(bounds=SMALL).scan_repo("org/model").verdict is Verdict.CLEAN


def test_a_million_siblings_are_refused_unparsed(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    head = _model(hub)
    body = b'{"sha": "' + head.encode() + b'", "siblings": [' + b",".join([b"{}"] * 10**6) + b"]}"
    hub.hostile("answer", match="/api/models/org/model", body=body)
    scan = make_client().scan_repo("org/model")  # default bounds: the bytes fit, the values do not
    assert scan.verdict is Verdict.ERROR and scan.error_kind == "limit" and "more than 600000 values" in scan.error


def test_deep_json_is_refused(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    _model(hub)
    hub.hostile("answer", match="/api/models/org/model", body=b"[" * 100_000 + b"]" * 100_000)
    scan = make_client().scan_repo("org/model")
    assert scan.verdict is Verdict.ERROR and scan.error_kind == "limit" and "nests deeper" in scan.error


def test_a_tree_page_of_a_million_entries_is_refused(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    _model(hub)
    entry = b'{"type":"file","path":"a.txt","size":1,"oid":"' + b"a" * 40 + b'"}'
    hub.hostile("answer", match="/tree/", body=b"[" + b",".join([entry] * 10**6) + b"]")
    scan = make_client().scan_repo("org/model")
    assert scan.verdict is Verdict.ERROR and scan.error_kind == "limit" and "file list" in scan.error
    assert "announces" in (scan.error or "")  # refused on its Content-Length, before reading the body


def _peak(run: Callable[[], object]) -> int:
    """Bytes of Python memory allocated at the peak of ``run`` (allocations counted, not time)."""
    import tracemalloc

    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_million_entry_tree_page_costs_bounded_memory(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    """The campaign's 10^6-entry tree page cost 656 MB; sent without a length (read until the bound)."""
    _model(hub)
    entry = b'{"type":"file","path":"a.txt","size":1,"oid":"' + b"a" * 40 + b'"}'
    page = b"[" + b",".join([entry] * 10**6) + b"]"
    hub.hostile("endless", match="/tree/", body=page, limit=len(page))  # no Content-Length: framed by close
    client = make_client(verdict_cache=None)
    client.scan_repo("org/model")  # warm: imports and the shared session are not the answer's cost
    scans = []
    peak = _peak(lambda: scans.append(client.scan_repo("org/model")))
    assert scans[0].verdict is Verdict.ERROR and "larger than the bound of 8388608 bytes" in (scans[0].error or "")
    assert peak < 3 * 8 * MiB, peak  # the 8 MiB page bound, with room for one copy (measured: ~9 MiB)


def test_compressed_api_answers_are_refused(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    _model(hub)
    hub.hostile("answer", match="/api/models/org/model", headers={"Content-Encoding": "gzip"}, body=b"\x1f\x8b")
    scan = make_client().scan_repo("org/model")
    assert scan.verdict is Verdict.ERROR and "Content-Encoding 'gzip'" in scan.error


def test_slow_api_body_is_cut_by_the_deadline(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    _model(hub)
    hub.hostile("slow", match="/api/models/org/model", body=b'{"sha": "' + b"0" * 200 + b'"}', interval=0.05)
    with HubHttp(hub.endpoint, None, bounds=SMALL) as http:
        with pytest.raises(HubError) as err:
            http.api("GET", "/api/models/org/model", what="info")
    assert err.value.kind == "timeout" and "took longer than 1s" in err.value.message
    assert 0 < http.api_bytes < 100  # ~20 bytes at 20 per second; the body has 212
    scan = make_client(bounds=SMALL).scan_repo("org/model")
    assert scan.verdict is Verdict.ERROR and scan.error_kind == "timeout"


def test_slow_headers_are_cut_by_the_deadline(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    """Headers trickled one byte every 50 ms: each read is quick, the request is not."""
    _model(hub)
    hub.hostile("slow-headers", match="/api/models/org/model", interval=0.05)
    scan = make_client(bounds=SMALL, timeout=10.0).scan_repo("org/model")
    assert scan.verdict is Verdict.ERROR and scan.error_kind == "timeout"
    assert "took longer than 1s" in (scan.error or "")


def test_the_deadline_wraps_the_pinned_transport() -> None:
    from malhug.hub.deadline import _Backend
    from malhug.hub.http import new_session

    with new_session(1.0) as session:
        assert isinstance(session._transport._pool._network_backend, _Backend)  # type: ignore[attr-defined]


def test_next_page_on_another_server_is_refused(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    _model(hub)
    hub.hostile(
        "answer", match="/tree/", body=b"[]", headers={"Link": f'<{hub.cdn_endpoint}/steal?cursor=1>; rel="next"'}
    )
    scan = make_client(token="hf_ok").scan_repo("org/model")
    assert scan.verdict is Verdict.ERROR and "points to another server" in scan.error
    assert not hub.requests(lambda r: r.server == "cdn")


@pytest.mark.fires("MH605")
def test_endless_empty_pages_stop_at_the_page_bound(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    _model(hub)
    hub.hostile(
        "answer", match="/tree/", body=b"[]", headers={"Link": '</api/models/org/model/tree/x?c=1>; rel="next"'}
    )
    scan = make_client(bounds=Bounds(max_pages=20)).scan_repo("org/model")
    assert scan.verdict is Verdict.SUSPICIOUS
    listing = next(f for f in scan.files if f.path == "(file listing)")
    assert [x.rule for x in listing.findings] == ["MH605"] and "more than 20 pages" in listing.findings[0].message
    assert len(hub.requests(lambda r: "/tree/" in r.path)) == 20


# --- file reads


def test_range_ignored_with_an_endless_body(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    """A big legacy pickle is read by ranges; a server answering 200 with an endless body to a range
    from offset 0 is read up to what was asked, and one from a later offset is refused."""
    big = P.big_legacy_pickle(2 * MiB)
    _model(hub, {"w.pkl": big})
    hub.hostile("endless", match="/w.pkl", status=200, headers={"Content-Length": str(2**62)})
    scan = make_client(max_download=MiB).scan_repo("org/model")
    (report,) = scan.files
    assert report.verdict is not Verdict.CLEAN
    assert scan.bytes_read <= MiB + 65536
    served = hub.bytes_served(file_only=True)
    assert served < 64 * MiB  # the client hung up; the server stopped at its socket buffers


@pytest.mark.parametrize("length", ["abc", "-1", str(2**62)])
def test_bad_content_length_on_a_file(hub: FakeHub, make_client: Callable[..., HubClient], length: str) -> None:
    _model(hub, {"w.pkl": P.evil_pickle()})
    hub.hostile("endless", match="/w.pkl", headers={"Content-Length": length}, body=P.evil_pickle(), limit=8 * MiB)
    scan = make_client().scan_repo("org/model")
    (report,) = scan.files
    assert report.verdict is not Verdict.CLEAN and scan.bytes_read <= len(P.evil_pickle()) + 1 + 65536


def test_range_answered_from_the_wrong_offset_is_refused(hub: FakeHub) -> None:
    _model(hub)
    hub.hostile("answer", match="/w.pkl", status=206, headers={"Content-Range": "bytes 0-3/10"}, body=b"abcd")
    with HubHttp(hub.endpoint, None, bounds=SMALL) as http:
        with pytest.raises(HubError) as err:
            http.get_bytes(f"{hub.endpoint}/org/model/resolve/main/w.pkl", what="w.pkl", start=4, end=7)
    assert "from byte 0, asked 4" in err.value.message


def test_endless_small_file_is_read_to_its_listed_size(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    _model(hub, {"w.pkl": P.evil_pickle()})
    hub.hostile("endless", match="/w.pkl", body=P.benign_pickle(), limit=64 * MiB)
    scan = make_client().scan_repo("org/model")
    (report,) = scan.files
    assert "MH604" in {f.rule for f in report.findings} and report.verdict is not Verdict.CLEAN
    assert scan.bytes_read <= len(P.evil_pickle()) + 1 + 65536  # what was asked, plus one network read


def test_slow_file_body_is_cut_by_the_deadline(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    _model(hub, {"w.pkl": P.evil_pickle()})
    hub.hostile("slow", match="/w.pkl", body=P.benign_pickle(), interval=0.05)
    scan = make_client(bounds=SMALL).scan_repo("org/model")
    (report,) = scan.files
    assert report.verdict is Verdict.ERROR and "took longer than 1s" in (report.error or "")
    assert scan.bytes_read < len(P.benign_pickle())


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "ftp://127.0.0.1/w.pkl", "gopher://127.0.0.1:70/x", "javascript:alert(1)"]
)
def test_redirects_to_other_schemes_are_refused(
    hub: FakeHub, make_client: Callable[..., HubClient], location: str
) -> None:
    _model(hub, {"w.pkl": P.evil_pickle()})
    hub.hostile("redirect", match="/resolve/", location=location)
    scan = make_client().scan_repo("org/model")
    (report,) = scan.files
    assert report.verdict is Verdict.ERROR and "refused" in (report.error or "")


@pytest.mark.parametrize("mode", ["redirect-loop", "redirect"])
def test_redirect_loop_ends(hub: FakeHub, make_client: Callable[..., HubClient], mode: str) -> None:
    _model(hub, {"w.pkl": P.evil_pickle()})
    hub.hostile(mode, match="/resolve/", location="//")  # "//" resolves to the same URL
    scan = make_client().scan_repo("org/model")
    (report,) = scan.files
    assert report.verdict is Verdict.ERROR and "too many redirects" in (report.error or "")
    assert len(hub.requests(lambda r: "/resolve/" in r.path)) == 6


def test_https_to_http_downgrade_is_refused() -> None:
    from malhug.hub.bounded import redirect_target

    with pytest.raises(HubError):
        redirect_target("https://127.0.0.1/a", "http://127.0.0.1/b", "f")
    assert redirect_target("http://127.0.0.1/a", "/b", "f") == "http://127.0.0.1/b"


# --- listings


@pytest.mark.fires("MH606")
@pytest.mark.parametrize(
    "name",
    ["../../outside-escape.bin", "/tmp/abs-escape.py", "sub/../../x.pkl", "a\\..\\b.pkl", "C:/w.pkl", "x\x00.py"],
)
def test_names_outside_the_repository_are_findings_and_never_fetched(
    hub: FakeHub, make_client: Callable[..., HubClient], name: str, tmp_path: Path
) -> None:
    _model(hub)
    hub.add_tree_entries([{"type": "file", "path": name, "size": 10, "oid": "a" * 40}])
    before = set(tmp_path.parent.iterdir())
    scan = make_client().scan_repo("org/model")
    assert scan.verdict is Verdict.MALICIOUS
    bad = [f for f in scan.files if "MH606" in {x.rule for x in f.findings}]
    assert len(bad) == 1 and bad[0].path.encode("ascii", "backslashreplace") and "\x00" not in bad[0].path
    assert not hub.requests(lambda r: "escape" in r.path or "x.pkl" in r.path or "b.pkl" in r.path)
    assert set(tmp_path.parent.iterdir()) == before
    assert not Path("/tmp/abs-escape.py").exists()


@pytest.mark.quiet("MH606")
@pytest.mark.parametrize("name", ["a..b.pkl", "sub/..w.pkl", "sub/.hidden/w.pkl", "dots.../x.pkl"])
def test_names_with_dots_that_stay_inside_the_repository(
    hub: FakeHub, make_client: Callable[..., HubClient], name: str
) -> None:
    _model(hub, {"config.json": b"{}", name: P.benign_pickle()})
    scan = make_client().scan_repo("org/model")
    assert "MH606" not in _rules(scan.files)[name]
    assert scan.verdict is Verdict.CLEAN


@pytest.mark.quiet("MH605")
@pytest.mark.fires("MH605")
def test_listing_cut_at_the_file_limit_is_never_clean(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    """100,000 padding entries, then the payload: the payload is never seen, and the scan says so."""
    _model(hub, {"pytorch_model.bin": P.torch_zip(P.evil_pickle())})
    hub.pad_tree(100_000)
    scan = make_client(verdict_cache=None).scan_repo("org/model")
    assert scan.verdict is Verdict.SUSPICIOUS and scan.files_listed == 100_000
    listing = next(f for f in scan.files if f.path == "(file listing)")
    (note,) = listing.findings
    assert note.rule == "MH605" and "only 100000 entries" in note.message and "never seen" in note.message
    assert not hub.requests(lambda r: "/resolve/" in r.path)
    # One entry fewer of padding: the whole listing is read and the payload is found.
    hub.pad_tree(99_999)
    whole = make_client(verdict_cache=None).scan_repo("org/model")
    assert whole.verdict is Verdict.MALICIOUS
    assert "MH605" not in {rule for rules in _rules(whole.files).values() for rule in rules}


def test_listing_cut_by_a_small_bound(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    _model(hub, {"w.pkl": P.evil_pickle()})
    hub.pad_tree(30)
    hub.state.tree_page_size = 7
    scan = make_client(bounds=Bounds(listing_files=20)).scan_repo("org/model")
    assert scan.verdict is Verdict.SUSPICIOUS and "MH605" in _rules(scan.files)["(file listing)"]
    assert len(hub.requests(lambda r: "/tree/" in r.path)) == 3  # 21 entries in 3 pages; no fourth page


# --- the token


TOKEN = "hf_FAKEtokenMALHUGtest0123456789"


def test_token_echoed_by_the_server_never_shows(
    hub: FakeHub,
    make_client: Callable[..., HubClient],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    hub.repo("org/model", private=True, tokens=[TOKEN]).commit({"w.pkl": P.evil_pickle()})
    hub.hostile("echo-token", match="/tree/", status=403)
    scan = make_client(token=TOKEN).scan_repo("org/model")
    assert scan.verdict is Verdict.ERROR and scan.error_kind == "unauthorized"
    assert "denied for Bearer hf_***" in scan.error and TOKEN not in scan.error
    hub.reset_faults()
    hub.hostile("echo-token", match="/resolve/", status=500)  # a file answer: the body is never shown
    scan = make_client(token=TOKEN, verdict_cache=None).scan_repo("org/model")
    assert scan.verdict is Verdict.ERROR and TOKEN not in json.dumps(scan.to_dict())

    from malhug.cli import main

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub.reset_faults()
    hub.hostile("echo-token", match="/tree/", status=403)
    for fmt in ("text", "json", "sarif"):
        code = main(["scan", "hf:org/model", "--endpoint", hub.endpoint, "--format", fmt, "--no-cache"])
        out, err = capsys.readouterr()
        assert code == 2 and "hf_***" in out + err
        assert TOKEN not in out + err
    assert any(r.authorization == f"Bearer {TOKEN}" for r in hub.requests())  # the server had it to echo
    # Nothing MalHug logs, and nothing any library logs at INFO or above, holds the token. (httpcore's
    # DEBUG trace prints raw response headers, which is what this server chose to echo.)
    shown = [r for r in caplog.records if r.name.startswith("malhug") or r.levelno >= logging.INFO]
    assert shown and not [r for r in shown if TOKEN in r.getMessage()]


def test_cut_listing_in_text_json_and_sarif(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    from malhug.cli import main

    head = _model(hub, {"pytorch_model.bin": P.torch_zip(P.evil_pickle())})
    hub.pad_tree(100_000)
    shown = f"hf:org/model@{head}"
    outputs = {}
    for fmt in ("json", "sarif", "text"):  # the first run lists; the others answer from the verdict cache
        code = main(["scan", "hf:org/model", "--endpoint", hub.endpoint, "--format", fmt])
        out, err = capsys.readouterr()
        assert code == 1 and "Traceback" not in err
        outputs[fmt] = out
    report = json.loads(outputs["json"])
    assert report["verdict"] == "suspicious"
    (listing,) = [f for f in report["files"] if f["path"] == shown]
    assert [f["rule"] for f in listing["findings"]] == ["MH605"] and listing["verdict"] == "suspicious"
    assert report["hub"]["hf:org/model"]["files_listed"] == 100_000
    sarif = json.loads(outputs["sarif"])
    results = [r for run in sarif["runs"] for r in run["results"] if r["ruleId"] == "MH605"]
    assert results and "only 100000 entries" in results[0]["message"]["text"]
    assert "MH605" in outputs["text"] and "SUSPICIOUS" in outputs["text"] and "never seen" in outputs["text"]


def test_traversal_name_in_text_output(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    from malhug.cli import main

    _model(hub)
    hub.add_tree_entries([{"type": "file", "path": "../../evil\x1b[2J.pkl", "size": 10, "oid": "a" * 40}])
    code = main(["scan", "hf:org/model", "--endpoint", hub.endpoint, "--format", "text"])
    out, err = capsys.readouterr()
    assert code == 1 and "MH606" in out and "MALICIOUS" in out
    assert "\x1b" not in out + err and "\\x1b[2J" in out  # shown escaped, never interpreted by the terminal


def test_a_config_too_deep_to_parse_is_a_finding_not_a_crash(
    hub: FakeHub, make_client: Callable[..., HubClient]
) -> None:
    """config.json of 200,000 nested arrays made Python's parser overflow and the whole scan 'internal'."""
    _model(hub, {"config.json": b"[" * 200_000 + b"]" * 200_000, "w.pkl": P.evil_pickle()})
    scan = make_client().scan_repo("org/model")
    assert scan.error is None and scan.verdict is Verdict.MALICIOUS
    config = next(f for f in scan.files if f.path == "config.json")
    assert any(x.rule == "MH902" and "auto_map was not read" in x.message for x in config.findings)


def test_hub_status_is_asked_only_for_the_files_scanned(hub: FakeHub, make_client: Callable[..., HubClient]) -> None:
    """A listing of 3,000 weights files: paths-info is asked for the 2,000 that are scanned (40 requests)."""
    _model(hub)
    hub.add_tree_entries(
        [{"type": "file", "path": f"w{i:05d}.bin", "size": 1, "oid": f"{i:040x}"} for i in range(3000)]
    )
    hub.hostile("answer", match="/resolve/", status=404, body=b"{}")  # the padding files do not exist
    scan = make_client(verdict_cache=None).scan_repo("org/model")
    assert scan.verdict is not Verdict.CLEAN and len(scan.skipped) > 1000
    assert len(hub.requests(lambda r: "/paths-info/" in r.path)) == 40


@pytest.mark.parametrize("sha", ['main"); __import__("os").system("echo x', "\x1b[2J" + "0" * 36, "abc"])
def test_malformed_commit_shas_are_refused(hub: FakeHub, make_client: Callable[..., HubClient], sha: str) -> None:
    """A sha is printed and written into code by the editor's pin-revision fix: only 40 hex digits pass."""
    _model(hub)
    hub.hostile("answer", match="/api/models/org/model", body=json.dumps({"sha": sha}).encode(), remaining=1)
    scan = make_client().scan_repo("org/model")
    assert scan.verdict is Verdict.ERROR and "malformed commit" in (scan.error or "")
    hub.reset_faults()
    commits = json.dumps([{"id": sha}, {"id": "1" * 40}]).encode()
    hub.hostile("answer", match="/commits/", body=commits)
    safe = make_client().find_safe_revision("org/model")
    assert safe.head_sha == "1" * 40  # the malformed id was dropped
