"""The store-word prefilter (patterns.may_name_a_store) never says no where the store patterns say yes.

The pruner skips the regular expressions on a unit's strings when the prefilter says no, so a word
missing from its list would let a credential read be pruned away unseen.
"""

from __future__ import annotations

import random
import re

import pytest

from malhug.analyzers.scripts import patterns, relevance

# One path per alternative of _CREDENTIAL and _BROWSER.
STORES = [
    "~/.ssh/",
    "~/.ssh",
    "/root/id_rsa",
    "x/id_ed25519",
    "x/id_ecdsa",
    "x/id_dsa",
    "~/authorized_keys",
    "~/.aws/",
    "~/.aws",
    "x/aws/credentials",
    "~/.azure/x",
    "~/.config/gcloud",
    "/application_default_credentials.json",
    "~/.netrc",
    "C:/_netrc",
    "~/.git-credentials",
    "~/.pgpass",
    "~/.docker/config.json",
    "~/.kube/config",
    "~/huggingface/token",
    "~/.huggingface/token",
    "~/.cache/huggingface/stored_tokens",
    "/etc/shadow",
    "/etc/passwd",
    "/etc/sudoers",
    "/etc/gshadow",
    "/proc/self/environ",
    "Chrome/User Data/Default/Login Data",
    "Chrome/Default/Cookies",
    "chrome/Local State",
    "firefox/profiles/x/logins.json",
    "firefox/profiles/x/key4.db",
    "mozilla/key3.db",
    "firefox/profiles/x/cookies.sqlite",
    "Chrome/Default/Web Data",
]
# What IGNORECASE also matches to an ASCII letter (checked by test_fold_covers_ignorecase).
ODD_LETTERS = {"i": ["\u0130", "\u0131"], "k": ["\u212a"], "s": ["\u017f"]}


def _matches(text: str) -> bool:
    return patterns.is_credential_path(text) or patterns.is_browser_store(text)


def _variants(text: str) -> list[str]:
    out = [text, text.upper(), text.swapcase(), text.replace("/", "\\"), text.replace("/", "\\\\")]
    for letter, odd in ODD_LETTERS.items():
        out += [text.replace(letter, o) for o in odd]
    return out


@pytest.mark.parametrize("store", STORES)
def test_every_alternative_passes_the_prefilter(store: str) -> None:
    for text in _variants(store):
        if not _matches(text):  # a variant the patterns themselves do not accept
            continue
        assert patterns.may_name_a_store(text), text
        assert patterns.may_name_a_store("prefix " + text[::-1] + " suffix"), text


def test_the_samples_match_the_patterns() -> None:
    # A sample that no longer matches would make the test above vacuous for its alternative.
    assert [s for s in STORES if not _matches(s)] == []


def test_fold_covers_ignorecase() -> None:
    """Every non-ASCII character IGNORECASE takes for an ASCII letter of a store word is folded."""
    letters = sorted({c for w in patterns._STORE_WORDS for c in w if c.isalpha()})
    for letter in letters:
        pattern = re.compile(re.escape(letter), re.I)
        # The basic plane; a scan of all of Unicode finds no more (and takes ~20 s).
        odd = [chr(cp) for cp in range(0x80, 0x10000) if pattern.fullmatch(chr(cp))]
        assert sorted(odd) == sorted(ODD_LETTERS.get(letter, [])), letter
        for c in odd:
            assert dict(patterns._FOLD)[c] == letter


def test_random_texts_never_disagree() -> None:
    """Strings assembled from the patterns' own fragments: a no from the prefilter is a no."""
    source = patterns._CREDENTIAL.pattern + "|" + patterns._BROWSER.pattern
    fragments = [f for f in re.split(r"[^A-Za-z0-9_ ]+", source) if f.strip()] + ["/", "~", ".", "\\", " ", "'"]
    rng = random.Random(7)
    checked = 0
    for _ in range(20000):
        parts = [rng.choice(fragments) for _ in range(rng.randint(1, 6))]
        text = "".join(p.upper() if rng.random() < 0.3 else p for p in parts)
        if rng.random() < 0.5:
            text = text[::-1]
        if not patterns.may_name_a_store(text):
            checked += 1
            assert not _matches(text) and not _matches(text[::-1]), text
    assert checked > 1000  # the prefilter does say no on most of them


def test_the_pruner_still_finds_split_and_reversed_stores() -> None:
    texts = [(1, 0, "~/.s"), (1, 5, "sh/id_"), (2, 0, "rsa")]
    assert relevance.names_a_secret_store(texts)
    assert relevance.names_a_secret_store([(1, 0, "atad nigoL/tluafeD/emorhc")])
    assert not relevance.names_a_secret_store([(1, 0, "train.csv"), (2, 0, "https://example.org/data.zip")])


def test_texts_naming_a_store_maps_hits_back_to_their_texts() -> None:
    # Folding shortens "\\\\" runs and lengthens nothing here; hits must still land on the right text.
    texts = ["a\\\\b\\\\c", "plain", "C:\\\\Users\\\\x\\\\.ſsh", "more", "\u0130D_rsa", "/hss./~", "tail"]
    assert patterns.texts_naming_a_store(texts) == [texts[2], texts[4], texts[5]]
    assert patterns.texts_naming_a_store(["x" * 50, "y"]) == []
    for i in range(len(texts)):
        assert (texts[i] in patterns.texts_naming_a_store(texts)) == patterns.may_name_a_store(texts[i])
