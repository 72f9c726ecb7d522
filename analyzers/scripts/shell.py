"""Shell command analysis: what a command line passed to ``os.system``/``subprocess`` would do.

Heuristic and bounded: the command is split into pipeline segments, each segment's program and
arguments are classified, and embedded payloads (``python -c``, ``bash -c``, PowerShell
``-EncodedCommand``, ``echo … | base64 -d | sh``) are decoded and analyzed again up to ``depth``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable

from malhug.analyzers.scripts import patterns
from malhug.analyzers.scripts.indicators import Indicator, clip
from malhug.analyzers.scripts.rules import (
    BULK_DESTRUCTION,
    COLLECTION_ENDPOINT,
    FIXED_PATH_WRITE,
    OBFUSCATED_PAYLOAD,
    PERSISTENCE,
    READS_SECRETS,
    RECON,
    REVERSE_SHELL,
    RUNS_COMMAND,
    RUNS_FETCHED_CODE,
    SENDS_DATA,
)
from malhug.analyzers.shared import deobf
from malhug.analyzers.shared.embedded import most_specific
from malhug.core.model import Category, Severity

MAX_DEPTH = 6
MAX_COMMAND = 64 * 1024

PythonAssessor = Callable[[str, int], list[Indicator]]

_REVERSE = [
    (re.compile(r"/dev/(?:tcp|udp)/[^/\s]+/\d+"), "redirects a shell to a /dev/tcp socket"),
    (
        re.compile(r"\b(?:nc|ncat|netcat|nc\.exe)\b[^|;&]*\s-[a-z]*[ec]\b", re.I),
        "netcat with -e/-c hands a shell to a socket",
    ),
    (re.compile(r"\b(?:ba|z|k|c)?sh\s+-i\b[^|;]*[<>]&", re.I), "interactive shell with redirected stdio"),
    (re.compile(r"\bmkfifo\b.*\b(?:nc|ncat|netcat|telnet)\b", re.I | re.S), "named pipe shell over netcat"),
    (re.compile(r"\bsocat\b.*\bexec:", re.I), "socat exec: hands a program to a socket"),
    (
        re.compile(r"\b(?:nc|ncat|netcat|telnet)\b[^|;&]*\|\s*/?(?:bin/)?(?:ba)?sh\b", re.I),
        "network data piped into a shell",
    ),
]
_SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "fish", "csh", "tcsh"}
_PYTHONS = re.compile(r"^(?:python|python\d(?:\.\d+)?|py|pypy\d?)(?:\.exe)?$", re.I)
_POWERSHELL = re.compile(r"^(?:powershell|pwsh)(?:\.exe)?$", re.I)
_RECON = {
    "whoami",
    "id",
    "uname",
    "hostname",
    "ifconfig",
    "ipconfig",
    "ip",
    "ps",
    "ls",
    "dir",
    "pwd",
    "netstat",
    "ss",
    "systeminfo",
    "w",
    "who",
    "last",
    "lscpu",
    "lsb_release",
    "arp",
    "route",
    "env",
    "printenv",
    "nvidia-smi",
    "df",
    "mount",
    "tasklist",
}
_READERS = {
    "cat",
    "less",
    "more",
    "head",
    "tail",
    "cp",
    "scp",
    "base64",
    "xxd",
    "strings",
    "grep",
    "tar",
    "zip",
    "type",
    "od",
    "sed",
    "awk",
    "tac",
    "nl",
}
_DOWNLOADERS = {"curl", "wget", "fetch", "aria2c", "invoke-webrequest", "iwr", "certutil", "bitsadmin"}
_DESTRUCTIVE_CMDS = {"shred", "mkfs", "wipefs", "rmdir"}
_PS_DOWNLOAD_EXEC = re.compile(
    r"(?:iex|invoke-expression)\b.*(?:downloadstring|invoke-webrequest|iwr|net\.webclient)"
    r"|(?:downloadstring|downloadfile|invoke-webrequest|iwr)\b.*\|\s*(?:iex|invoke-expression)",
    re.I | re.S,
)


def _split_top(text: str, pipes: bool) -> list[str]:
    """Split at unquoted command separators (``;``, ``&&``, ``||``, ``&``, newlines) or at pipes."""
    parts: list[str] = []
    buf: list[str] = []
    quote = ""
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"' and i + 1 < n:
                buf.append(text[i : i + 2])
                i += 2
                continue
            if ch == quote:
                quote = ""
            buf.append(ch)
        elif ch in "'\"":
            quote = ch
            buf.append(ch)
        elif ch == "\\" and i + 1 < n:
            buf.append(text[i : i + 2])
            i += 2
            continue
        elif pipes and ch == "|" and text[i : i + 2] != "||" and (i == 0 or text[i - 1] != "|"):
            parts.append("".join(buf))
            buf = []
        elif not pipes and (text[i : i + 2] in ("&&", "||")):
            parts.append("".join(buf))
            buf = []
            i += 2
            continue
        elif not pipes and (
            ch in ";\n" or (ch == "&" and text[i - 1 : i] not in (">", "<") and text[i + 1 : i + 2] != ">")
        ):
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return [p for p in parts if p.strip()]


def _split_commands(text: str) -> list[str]:
    return _split_top(text, pipes=False)


def _split_pipes(line: str) -> list[str]:
    return _split_top(line, pipes=True)


def _tokens(segment: str) -> list[str]:
    try:
        return shlex.split(segment, posix=True)
    except ValueError:
        return segment.split()


def _program(tokens: list[str]) -> tuple[str, list[str]]:
    """Skip env assignments and wrappers (sudo, nohup, timeout N, exec, env) to the real program."""
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        base = tok.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lower()
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tok) or base in {
            "sudo",
            "nohup",
            "exec",
            "command",
            "nice",
            "setsid",
            "env",
            "time",
            "builtin",
            "start",
            "call",
        }:
            if base == "env" and i == len(tokens) - 1:
                return "env", []
            i += 1
            continue
        if base == "timeout" and i + 1 < len(tokens):
            i += 2
            continue
        return base.strip("()"), tokens[i + 1 :]
    return "", []


class ShellAnalysis:
    def __init__(self, assess_python: PythonAssessor | None, depth: int):
        self.assess_python = assess_python
        self.depth = depth
        self.found: list[Indicator] = []

    def add(self, rule: str, category: Category, severity: Severity, message: str, evidence: str) -> None:
        self.found.append(Indicator(rule, category, severity, message, clip(evidence)))

    def run(self, command: str) -> list[Indicator]:
        command = command[:MAX_COMMAND]
        text = command.replace("\\n", "\n") if "\n" not in command else command
        for regex, why in _REVERSE:
            m = regex.search(text)
            if m:
                self.add(REVERSE_SHELL, Category.REVERSE_SHELL, Severity.CRITICAL, f"reverse shell: {why}", m.group(0))
        self._pipelines(text)
        if _PS_DOWNLOAD_EXEC.search(text):
            self.add(
                RUNS_FETCHED_CODE,
                Category.DOWNLOAD_EXEC,
                Severity.CRITICAL,
                "PowerShell downloads and executes a script",
                text,
            )
        if not self.found and text.strip():
            prog = _program(_tokens((_split_commands(text) or [text])[0]))[0]
            self.add(
                RUNS_COMMAND,
                Category.COMMAND_EXEC,
                Severity.HIGH,
                f"runs the program {prog or text.split()[0]!r}",
                text,
            )
        return self.found

    def _pipelines(self, text: str) -> None:
        # Pipelines: `curl … | sh`, `… | base64 -d | sh`, `… | curl --data-binary @-`.
        for line in _split_commands(text):
            stages = [s for s in _split_pipes(line) if s.strip()]
            progs = [_program(_tokens(s))[0] for s in stages]
            for i, stage in enumerate(stages):
                prog, args = _program(_tokens(stage))
                later = progs[i + 1 :]
                self._segment(prog, args, stage, piped_in=i > 0, piped_out=bool(later))
                if prog in _DOWNLOADERS and any(
                    p in _SHELLS or _PYTHONS.match(p) or p in {"iex", "perl", "ruby", "node"} for p in later
                ):
                    self.add(
                        RUNS_FETCHED_CODE,
                        Category.DOWNLOAD_EXEC,
                        Severity.CRITICAL,
                        f"downloads with {prog} and pipes into an interpreter",
                        line,
                    )
                if prog == "echo" and "base64" in later and any(p in _SHELLS or _PYTHONS.match(p) for p in later):
                    self._decoded_echo(args, line)

    def _decoded_echo(self, args: list[str], line: str) -> None:
        for arg in args:
            raw = deobf.b64decode(arg)
            decoded = deobf.as_text(raw) if raw else None
            if decoded:
                inner = self._nested_shell(decoded)
                cat = _most_specific(inner) or Category.OBFUSCATION
                self.add(
                    OBFUSCATED_PAYLOAD,
                    cat,
                    Severity.CRITICAL if cat is not Category.OBFUSCATION else Severity.HIGH,
                    f"runs a base64-decoded command: {clip(decoded, 80)}",
                    line,
                )

    def _nested_shell(self, command: str) -> list[Indicator]:
        if self.depth + 1 > MAX_DEPTH:
            return []
        inner = ShellAnalysis(self.assess_python, self.depth + 1).run(command)
        self.found.extend(inner)
        return inner

    def _segment(self, prog: str, args: list[str], segment: str, *, piped_in: bool, piped_out: bool) -> None:
        joined = " ".join(args)
        low_args = [a.lower() for a in args]
        if prog in _SHELLS and "-c" in args:
            idx = args.index("-c")
            if idx + 1 < len(args):
                self._nested_shell(args[idx + 1])
        elif _PYTHONS.match(prog) and "-c" in args:
            idx = args.index("-c")
            if idx + 1 < len(args) and self.assess_python is not None and self.depth + 1 <= MAX_DEPTH:
                code = args[idx + 1]
                inner = self.assess_python(code, self.depth + 1)
                if not inner and '\\"' in code:  # quotes escaped for an outer layer that is gone
                    inner = self.assess_python(code.replace('\\"', '"'), self.depth + 1)
                self.found.extend(inner)
        elif _PYTHONS.match(prog) and len(args) >= 3 and args[0] == "-m" and args[1] == "pip" and "install" in args:
            self.add(
                RUNS_FETCHED_CODE, Category.DOWNLOAD_EXEC, Severity.HIGH, "installs Python packages with pip", segment
            )
        elif _POWERSHELL.match(prog):
            self._powershell(args, segment)
        if prog in {"pip", "pip3", "pip.exe", "conda", "npm", "gem"} and "install" in low_args:
            self.add(
                RUNS_FETCHED_CODE, Category.DOWNLOAD_EXEC, Severity.HIGH, f"installs packages with {prog}", segment
            )
        if prog in _DOWNLOADERS:
            self._downloader(prog, args, segment, piped_in=piped_in, piped_out=piped_out)
        if prog in {"huggingface-cli", "hf"} and "upload" in low_args:
            self.add(
                SENDS_DATA,
                Category.EXFILTRATION,
                Severity.CRITICAL,
                "uploads local files to the Hugging Face Hub",
                segment,
            )
        if prog in {"scp", "rsync", "ftp", "sftp"} and any(re.match(r"^[^/\s]+@?[^/\s]*:", a) for a in args):
            self.add(
                SENDS_DATA, Category.EXFILTRATION, Severity.HIGH, f"copies files to a remote host with {prog}", segment
            )
        if prog in {"nc", "ncat", "netcat"} and "<" in segment:
            self.add(SENDS_DATA, Category.EXFILTRATION, Severity.HIGH, "sends a file over netcat", segment)
        self._reads(prog, args, segment)
        self._destructive(prog, low_args, segment)
        if prog in _RECON and not (prog == "ip" and not args):
            wide_ps = prog == "ps" and any("ww" in a for a in args)
            if wide_ps:
                self.add(
                    READS_SECRETS,
                    Category.CREDENTIAL_THEFT,
                    Severity.HIGH,
                    "lists every process's full command line (secrets passed as arguments)",
                    segment,
                )
            elif prog in {"env", "printenv"} and not args:
                self.add(
                    READS_SECRETS,
                    Category.CREDENTIAL_THEFT,
                    Severity.HIGH,
                    "dumps the environment (tokens and keys)",
                    segment,
                )
            else:
                self.add(RECON, Category.RECON, Severity.HIGH, f"gathers system information with {prog}", segment)
        self._writes(prog, args, segment)
        if prog in {"chmod"} and any("+x" in a or re.match(r"^[0-7]*[157]$", a) for a in args):
            self.add(RUNS_COMMAND, Category.COMMAND_EXEC, Severity.HIGH, "makes a file executable", segment)
        if prog in {
            "open",
            "xdg-open",
            "start",
            "explorer",
            "explorer.exe",
            "calc",
            "calc.exe",
        } or joined.lower().endswith((".exe", ".app")):
            self.add(RUNS_COMMAND, Category.COMMAND_EXEC, Severity.HIGH, f"launches a program ({prog})", segment)
        if prog in {"echo", "printf", "sleep", "true", "false", ":"} or not prog:
            return

    def _downloader(self, prog: str, args: list[str], segment: str, *, piped_in: bool, piped_out: bool) -> None:
        urls = [a for a in args if re.match(r"^(?:https?|ftp)://", a, re.I)] or patterns.urls_in(segment)
        uploads = any(
            a
            in {
                "-F",
                "--form",
                "-T",
                "--upload-file",
                "--data-binary",
                "-d",
                "--data",
                "--data-raw",
                "--data-urlencode",
                "--post-file",
                "--post-data",
                "--body-file",
            }
            or a.startswith(("-d@", "--data=@", "-F", "--form="))
            for a in args
        )
        saves = piped_out or any(
            a in {"-o", "-O", "--output", "--output-document", "-P"} or a.startswith(("-o", "--output")) for a in args
        )
        for url in urls:
            endpoint = patterns.exfil_endpoint(url)
            host = patterns.url_host(url)
            if uploads or piped_in:
                self.add(
                    SENDS_DATA,
                    Category.EXFILTRATION,
                    Severity.CRITICAL,
                    f"{prog} sends local data to {host or url}",
                    segment,
                )
            elif endpoint:
                self.add(
                    COLLECTION_ENDPOINT,
                    Category.EXFILTRATION,
                    Severity.HIGH,
                    f"{prog} contacts the data-collection endpoint {endpoint}",
                    segment,
                )
            elif patterns.is_ip_literal(host) and not saves:
                self.add(
                    COLLECTION_ENDPOINT,
                    Category.EXFILTRATION,
                    Severity.HIGH,
                    f"{prog} contacts the bare IP address {host}",
                    segment,
                )
            elif "$(" in url or "`" in url:
                self.add(
                    SENDS_DATA, Category.EXFILTRATION, Severity.HIGH, f"{prog} sends command output in the URL", segment
                )

    def _reads(self, prog: str, args: list[str], segment: str) -> None:
        if prog not in _READERS and prog not in _DOWNLOADERS and prog not in {"huggingface-cli", "hf"}:
            return
        for arg in args:
            if arg.startswith("-") and "@" not in arg:
                continue
            target = arg.lstrip("@")
            if patterns.is_credential_path(target) or patterns.is_browser_store(target):
                self.add(
                    READS_SECRETS,
                    Category.CREDENTIAL_THEFT,
                    Severity.HIGH,
                    f"reads the credential store {target}",
                    segment,
                )
            elif prog in _READERS and patterns.is_secret_file_word(target.rsplit("/", 1)[-1]):
                self.add(
                    READS_SECRETS, Category.CREDENTIAL_THEFT, Severity.HIGH, f"reads the secret file {target}", segment
                )
            elif prog in _READERS and re.search(r"/proc/[^/]+/cmdline", target):
                self.add(RECON, Category.RECON, Severity.HIGH, f"reads {target}", segment)

    def _destructive(self, prog: str, low_args: list[str], segment: str) -> None:
        flags = "".join(a[1:] for a in low_args if a.startswith("-") and not a.startswith("--"))
        recursive = "r" in flags or "--recursive" in low_args
        if prog in {"rm", "del", "erase", "rd", "rmdir", "remove-item"} and (
            recursive or "/s" in low_args or "-recurse" in low_args
        ):
            self.add(
                BULK_DESTRUCTION, Category.DESTRUCTIVE, Severity.HIGH, f"deletes files recursively ({prog})", segment
            )
        elif prog in _DESTRUCTIVE_CMDS or prog.startswith("mkfs"):
            self.add(BULK_DESTRUCTION, Category.DESTRUCTIVE, Severity.HIGH, f"destroys data with {prog}", segment)
        elif prog == "dd" and any(a.startswith("of=/dev/") for a in low_args):
            self.add(
                BULK_DESTRUCTION, Category.DESTRUCTIVE, Severity.CRITICAL, "overwrites a block device with dd", segment
            )
        elif prog == "find" and ("-delete" in low_args or any(a in {"rm", "shred"} for a in low_args)):
            self.add(BULK_DESTRUCTION, Category.DESTRUCTIVE, Severity.HIGH, "deletes files found by find", segment)

    def _writes(self, prog: str, args: list[str], segment: str) -> None:
        targets: list[str] = []
        if prog == "touch":
            targets = [a for a in args if not a.startswith("-")]
        elif prog == "tee":
            targets = [a for a in args if not a.startswith("-")]
        for m in re.finditer(r"(?<![0-9&])>{1,2}\s*([^\s&|;>]+)", segment):
            if m.group(1) not in {"/dev/null", "nul", "NUL"} and not m.group(1).startswith("&"):
                targets.append(m.group(1))
        for target in targets:
            if patterns.is_persistence_path(target):
                self.add(
                    PERSISTENCE,
                    Category.FILE_WRITE,
                    Severity.CRITICAL,
                    f"writes the persistence location {target}",
                    segment,
                )
            else:
                self.add(
                    FIXED_PATH_WRITE,
                    Category.FILE_WRITE,
                    Severity.HIGH,
                    f"creates or writes the file {target}",
                    segment,
                )
        if prog == "crontab" and args and args[0] != "-l":
            self.add(PERSISTENCE, Category.FILE_WRITE, Severity.CRITICAL, "installs a crontab", segment)

    def _powershell(self, args: list[str], segment: str) -> None:
        for i, arg in enumerate(args):
            if arg.lower() in {"-enc", "-e", "-encodedcommand", "-ec"} and i + 1 < len(args):
                decoded = deobf.utf16le_b64(args[i + 1])
                if decoded:
                    inner = self._nested_shell(decoded)
                    cat = _most_specific(inner) or Category.OBFUSCATION
                    self.add(
                        OBFUSCATED_PAYLOAD,
                        cat,
                        Severity.HIGH,
                        f"runs an encoded PowerShell command: {clip(decoded, 80)}",
                        segment,
                    )


def _most_specific(indicators: list[Indicator]) -> Category | None:
    cats: list[Category] = [i.category for i in indicators if i.category is not Category.COMMAND_EXEC]
    return most_specific(cats) if cats else None


def analyze_shell(command: str, *, depth: int = 0, assess_python: PythonAssessor | None = None) -> list[Indicator]:
    """The behaviours of a shell command line (empty for an empty command)."""
    if not command.strip():
        return []
    return ShellAnalysis(assess_python, depth).run(command)
