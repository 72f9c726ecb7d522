"""The bounds on Hub answers, one by one (no server)."""

from __future__ import annotations

import pytest

from malhug.hub.bounded import (
    HubError,
    check_encoding,
    clean_text,
    content_length,
    content_range_start,
    next_page,
    parse_json,
    redirect_target,
    shown_path,
    unsafe_path,
)


def test_depth_counts_alternating_brackets_one_level_per_pass() -> None:
    """Found by tests/fuzz/test_fuzz_hubclient.py: ``{"a": []}`` nests 2 levels, not 1."""
    with pytest.raises(HubError) as err:
        parse_json(b'{"sha": "x", "private": []}', max_items=10, max_depth=1, what="info")
    assert err.value.kind == "limit"
    assert parse_json(b'{"sha": "x", "private": []}', max_items=10, max_depth=2, what="info") == {
        "sha": "x",
        "private": [],
    }


def test_values_and_depth_are_counted_outside_strings() -> None:
    assert parse_json(b'["a,b,c,[[[[", "]]]]"]', max_items=2, max_depth=1, what="x") == ["a,b,c,[[[[", "]]]]"]
    with pytest.raises(HubError, match="more than 2 values"):
        parse_json(b"[1,2,3]", max_items=2, max_depth=5, what="x")
    with pytest.raises(HubError, match="nests deeper than 3"):
        parse_json(b"[[[[1]]]]", max_items=9, max_depth=3, what="x")
    with pytest.raises(HubError, match="invalid JSON"):
        parse_json(b'{"a": "\\', max_items=9, max_depth=3, what="x")
    with pytest.raises(HubError, match="invalid JSON"):
        parse_json(b"1" * 5000, max_items=9, max_depth=3, what="x")  # beyond Python's int digit limit


@pytest.mark.parametrize("value", ["abc", "-1", "1e3", " 0x10", "٣", "1" * 20])
def test_malformed_content_length(value: str) -> None:
    with pytest.raises(HubError, match="invalid Content-Length"):
        content_length({"Content-Length": value}, "x")


def test_content_length_and_range() -> None:
    assert content_length({"Content-Length": "12"}, "x") == 12 and content_length({}, "x") is None
    assert content_range_start({"Content-Range": "bytes 4-7/10"}, "x") == 4
    for bad in ("", "bytes */10", "items 0-1/2", "bytes -3/10"):
        with pytest.raises(HubError):
            content_range_start({"Content-Range": bad}, "x")
    check_encoding({"Content-Encoding": "identity"}, "x")
    with pytest.raises(HubError):
        check_encoding({"Content-Encoding": "gzip"}, "x")


def test_redirects_and_pages() -> None:
    assert redirect_target("https://h/a", "https://cdn/b", "x") == "https://cdn/b"
    for bad in ("file:///etc/passwd", "ftp://h/x", "http://h/x", "data:,x"):
        with pytest.raises(HubError, match="refused"):
            redirect_target("https://h/a", bad, "x")
    for malformed in ("http://[::", "http://h:99999/", "http://h:x/"):  # found by the fuzz target
        with pytest.raises(HubError, match="malformed"):
            redirect_target("http://h/a", malformed, "x")
        with pytest.raises(HubError, match="malformed"):
            next_page("http://h/api/x", malformed, "http://h", "x")
    assert next_page("http://h/api/x", "/api/x?p=2", "http://h", "x") == "http://h/api/x?p=2"
    assert next_page("http://h/api/x", None, "http://h", "x") is None
    with pytest.raises(HubError, match="another server"):
        next_page("http://h/api/x", "http://evil/x", "http://h", "x")


@pytest.mark.parametrize(
    "path", ["../a.bin", "a/../../b.bin", "/etc/x.pkl", "C:/x.pkl", "a\\b.pkl", "a//b.pkl", "./a.pkl", "a\x00.py", ""]
)
def test_unsafe_names(path: str) -> None:
    assert unsafe_path(path) is not None


@pytest.mark.parametrize("path", ["a.bin", "sub/dir/model.safetensors", "..hidden/x.py", "a..b.pkl", "ünï/çødé.py"])
def test_safe_names(path: str) -> None:
    assert unsafe_path(path) is None


def test_server_text_is_made_printable() -> None:
    assert clean_text("bad\x1b[2J\r\nthing\u202e", 100) == "bad [2J thing"
    assert len(clean_text("x" * 1000, 10)) == 11
    assert shown_path("a\x1b.pkl") == "a\\x1b.pkl"
