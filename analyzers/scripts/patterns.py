"""Shared knowledge: which paths are credential stores or persistence places, which hosts collect
callbacks, which environment variable names hold secrets. Pure functions over strings."""

from __future__ import annotations

import bisect
import ipaddress
import re
from urllib.parse import urlsplit

# Credential stores read by stealers (matched on normalised, forward-slash paths).
_CREDENTIAL = re.compile(
    r"(?:^|[/~\s'\"])(?:"
    r"\.ssh(?:/|$)|id_rsa|id_ed25519|id_ecdsa|id_dsa|authorized_keys"
    r"|\.aws(?:/|$)|aws/credentials|\.azure/|\.config/gcloud|application_default_credentials\.json"
    r"|\.netrc|_netrc|\.git-credentials|\.pgpass|\.docker/config\.json|\.kube/config"
    r"|huggingface/token|\.huggingface/token|\.cache/huggingface/stored_tokens"
    r"|etc/shadow|etc/passwd|etc/sudoers|etc/gshadow"
    r"|proc/[^/\s]+/environ"
    r")",
    re.IGNORECASE,
)
# Words that make a file read by `cat` a secret even outside the usual stores (`~/aws/temp_secrets`).
_SECRET_FILE_WORDS = re.compile(r"secret|credential|passw|token|\.pem\b|\.key\b|\.p12\b|\.pfx\b|keychain|wallet", re.I)
_BROWSER = re.compile(
    r"(?:Login Data|Cookies|Local State|logins\.json|key4\.db|key3\.db|cookies\.sqlite|Web Data)(?:\.db)?(?:$|['\"/\s])",
    re.IGNORECASE,
)
# Every match of _CREDENTIAL or _BROWSER contains one of these words (after norm_path and _FOLD), so
# text without any of them, read forwards or backwards, names no store: one cheap test before the
# regular expressions run on each of many strings (test_patterns checks every alternative).
_CREDENTIAL_WORDS = "ssh id_ authorized_keys aws azure gcloud netrc git-credentials pgpass docker kube huggingface"
_CREDENTIAL_WORDS += " etc/ environ application_default_credentials"
_STORE_WORDS = (*_CREDENTIAL_WORDS.split(), "login", "cookies", "local state", "key", "web data")  # + _BROWSER
_STORE_WORD = re.compile("|".join(re.escape(w) for w in _STORE_WORDS + tuple(w[::-1] for w in _STORE_WORDS)))
# IGNORECASE also matches these non-ASCII letters to ASCII ones; str.lower alone does not map them.
_FOLD = (("\u0130", "i"), ("\u0131", "i"), ("\u212a", "k"), ("\u017f", "s"))
_BROWSER_HINT = re.compile(r"chrome|chromium|edge|brave|opera|firefox|mozilla|user data|profiles?/", re.I)
_PERSISTENCE = re.compile(
    r"(?:\.bashrc|\.bash_profile|\.bash_login|\.profile|\.zshrc|\.zprofile|\.config/fish/config\.fish"
    r"|crontab|/etc/cron|/var/spool/cron|authorized_keys|\.pth$|sitecustomize\.py|usercustomize\.py"
    r"|/etc/rc\.local|/etc/init\.d/|systemd/(?:user|system)/|LaunchAgents|LaunchDaemons"
    r"|Start Menu/Programs/Startup|CurrentVersion\\\\Run|/etc/profile|/etc/ld\.so\.preload|site-packages/)",
    re.IGNORECASE,
)
_SECRET_ENV = re.compile(r"TOKEN|SECRET|PASSW|(?:^|_)KEY(?:$|_)|API_?KEY|CREDENTIAL|PRIVATE|AUTH", re.I)
# Variables that name places or settings, never secrets, even when a word above matches.
_NOT_SECRET_ENV = re.compile(r"^(?:HF_HUB_DISABLE_\w+|\w*_PATH|\w*_DIR|\w*_HOME|\w*_FILE|\w*_ENDPOINT)$", re.I)

_EXFIL_HOSTS = (
    "webhook.site",
    "pipedream.net",
    "pipedream.com",
    "requestbin",
    "requestcatcher.com",
    "hookbin.com",
    "beeceptor.com",
    "ngrok.io",
    "ngrok-free.app",
    "ngrok.app",
    "ngrok.dev",
    "interact.sh",
    "interactsh",
    "oast.fun",
    "oast.live",
    "oast.me",
    "oast.pro",
    "oast.site",
    "oast.online",
    "burpcollaborator.net",
    "oastify.com",
    "canarytokens.com",
    "workers.dev",
    "lambda-url.",
    "execute-api.",
    "dnslog.cn",
    "ceye.io",
    "trycloudflare.com",
    "serveo.net",
    "localhost.run",
    "transfer.sh",
    "api.telegram.org",
    "discord.com/api/webhooks",
    "discordapp.com/api/webhooks",
)
_DATA_HOSTS = (
    "huggingface.co",
    "hf.co",
    "hf-mirror.com",
)
URL_RE = re.compile(r"\b(?:https?|ftp|wss?)://[^\s'\"<>`|;)]+", re.I)


def norm_path(text: str) -> str:
    return text.replace("\\\\", "/").replace("\\", "/")


def is_credential_path(text: str) -> bool:
    return bool(_CREDENTIAL.search(norm_path(text)))


def is_browser_store(text: str) -> bool:
    path = norm_path(text)
    return bool(_BROWSER.search(path + " ")) and bool(_BROWSER_HINT.search(path) or path.rstrip().endswith((".db",)))


def may_name_a_store(text: str) -> bool:
    """False only when neither ``text`` nor any part of it, forwards or reversed, can be a
    credential or browser store for is_credential_path / is_browser_store."""
    return _STORE_WORD.search(_fold(text)) is not None


def texts_naming_a_store(texts: list[str]) -> list[str]:
    """The ones of ``texts`` may_name_a_store keeps, found in one pass over all of them."""
    folded_texts = [_fold(text) for text in texts]  # folding can change a text's length
    bounds, total = [], 0
    for text in folded_texts:
        total += len(text) + 1
        bounds.append(total)
    folded = "\0".join(folded_texts)  # no store word holds a NUL: no match spans two texts
    hits = {bisect.bisect_right(bounds, m.start()) for m in _STORE_WORD.finditer(folded)}
    return [texts[i] for i in sorted(hits)]


def _fold(text: str) -> str:
    folded = norm_path(text)
    if not folded.isascii():
        for odd, letter in _FOLD:
            folded = folded.replace(odd, letter)
    return folded.lower()


def is_secret_file_word(text: str) -> bool:
    return bool(_SECRET_FILE_WORDS.search(text))


def is_persistence_path(text: str) -> bool:
    return bool(_PERSISTENCE.search(norm_path(text)))


def is_secret_env(name: str) -> bool:
    return bool(_SECRET_ENV.search(name)) and not _NOT_SECRET_ENV.match(name)


def url_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_local_host(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.is_loopback or addr.is_private or addr.is_unspecified


def exfil_endpoint(url: str) -> str | None:
    """The collector service a URL points at (``"pipedream.net"``), or ``None``."""
    low = url.lower()
    host = url_host(url) or low
    for marker in _EXFIL_HOSTS:
        if "/" in marker:
            if marker in low:
                return marker
        elif marker in host:
            return marker
    return None


def is_data_host(url: str) -> bool:
    host = url_host(url)
    return any(host == h or host.endswith("." + h) for h in _DATA_HOSTS)


def urls_in(text: str) -> list[str]:
    return URL_RE.findall(text)
