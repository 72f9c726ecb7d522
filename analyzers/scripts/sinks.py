"""Sinks and sources with side effects: processes, code execution, network, files, sockets."""

from __future__ import annotations

import shlex
from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst

from malhug.analyzers.scripts import knowledge as K
from malhug.analyzers.scripts import patterns
from malhug.analyzers.scripts.findings import pending
from malhug.analyzers.scripts.indicators import Indicator, clip, worst_severity
from malhug.analyzers.scripts.shell import analyze_shell
from malhug.analyzers.scripts.values import HOLE, Step, Taint, Val, merge_taints, taints_of
from malhug.analyzers.shared.embedded import most_specific
from malhug.core.model import Category, Severity

if TYPE_CHECKING:
    from malhug.analyzers.scripts.calls import Calls
    from malhug.analyzers.scripts.engine import Engine, Frame

# Labels that are secret or identifying wherever they appear in a request; "file" only in a body.
_SENSITIVE = {"secret-env", "environ", "credential", "browser", "sysinfo", "cmd-output"}
_CREDENTIAL_LABELS = {"secret-env", "environ", "credential", "browser"}
_BODY_ROLES = {"data", "json", "files", "body", "content", "message", "msg"}
_DATA_TOOLS = {
    "tar",
    "unzip",
    "gunzip",
    "gzip",
    "7z",
    "7za",
    "git",
    "git-lfs",
    "wget",
    "unrar",
    "xz",
    "bzip2",
    "ffmpeg",
    "sox",
    "zstd",
    "curl",
}
_SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "cmd", "cmd.exe", "powershell", "powershell.exe", "pwsh"}
_INTERPRETERS = {
    "sh",
    "bash",
    "zsh",
    "dash",
    "python",
    "python3",
    "perl",
    "ruby",
    "node",
    "powershell",
    "pwsh",
    "cmd",
    "source",
    ".",
}
_PRECEDENCE_LABELS = ("credential", "browser", "secret-env", "environ", "cmd-output", "sysinfo", "file")


class Sinks:
    def __init__(self, engine: Engine, calls: Calls):
        self.engine = engine
        self.calls = calls

    # -- severities by mode ----------------------------------------------------------------------
    def sev_dynamic(self) -> Severity:
        return Severity.HIGH if self.engine.embedded else Severity.MEDIUM

    def _report(self, rule: str, node: cst.CSTNode, message: str, frame: Frame | None, **kw: object) -> None:
        self.engine.report(pending(self.engine, rule, node, message, frame=frame, **kw))  # type: ignore[arg-type]

    # -- by qualified name -----------------------------------------------------------------------
    def by_name(self, qn: str, node: cst.Call, args: list[Val], kwargs: dict[str, Val], frame: Frame) -> Val | None:
        if qn in K.COMMANDS or qn.startswith(K.EXEC_PREFIXES):
            return self.command(qn, node, args, kwargs, frame)
        if qn in K.BROWSER:
            url = args[0].approx() if args else HOLE
            self._report(
                "MH505",
                node,
                f"opens a web browser at {url}",
                frame,
                category=Category.COMMAND_EXEC,
                severity=Severity.HIGH,
            )
            return Val()
        if qn in K.CODE_EXEC:
            return self.code_exec(qn, node, args, kwargs, frame)
        if qn in K.DESERIALIZERS or qn in K.MODEL_LOADERS:
            return self.deserialize(qn, node, args, kwargs, frame)
        if qn in K.DOWNLOAD_CODE:
            low = qn == "torch.hub.load_state_dict_from_url"
            what = "downloads weights from a URL" if low else f"fetches and runs code from the network ({qn})"
            self._report("MH504", node, what, frame, severity=Severity.LOW if low else Severity.HIGH)
            return Val(
                taints=(Taint("network", f"data downloaded by {qn}", (self.engine.step(f"downloaded by {qn}", node),)),)
            )
        if qn in K.SYSINFO_STRONG or qn in K.SYSINFO_WEAK:
            step = self.engine.step(f"reads {qn}()", node)
            if qn in K.SYSINFO_STRONG:
                sev = Severity.HIGH if self.engine.embedded else Severity.MEDIUM
                self._report("MH509", node, f"gathers system identity with {qn}()", frame, severity=sev)
            return Val(taints=(Taint("sysinfo", f"the system identity from {qn}()", (step,)),))
        if qn in K.SOCKETS:
            sock = Val(kind="socket")
            if qn == "socket.create_connection" and args:
                self.engine.event("connect", self.engine.step(f"connects a socket to {args[0].approx()}", node))
            return sock
        if qn in K.DNS:
            self.network(node, frame, url=None, carriers=[("host", a) for a in args], what=qn)
            return Val()
        if qn in K.HTTP_SESSION or qn in K.MAIL_FTP:
            kind = "session" if qn in K.HTTP_SESSION and "Connection" not in qn else "conn"
            if kind == "conn" and args:
                self.network(node, frame, url=args[0], carriers=[], what=qn)
            return Val(kind=kind, text=args[0].approx() if args else None)
        if qn.startswith(K.HTTP_MODULES) and qn.rsplit(".", 1)[-1] in K.HTTP_FUNCS:
            return self.http(qn.rsplit(".", 1)[-1], node, args, kwargs, frame)
        if qn in ("urllib.request.Request", "requests.Request", "httpx.Request"):
            return Val(
                kind="request",
                text=(args[0].approx() if args else kwargs.get("url", Val()).approx()),
                taints=merge_taints(taints_of(args), taints_of(list(kwargs.values()))),
            )
        if qn == "os.dup2" and args:
            fd = args[0]
            if fd.kind in ("sockfd", "socket") or "socket" in fd.labels:
                self.engine.event("dup2", self.engine.step("duplicates the socket onto stdin/stdout/stderr", node))
            return Val()
        if qn in K.FILE_OPENERS:
            return self.open_file(node, args, kwargs, frame)
        if qn in K.COPIERS:
            self.credential_access(qn, node, args[:1], {}, frame, Val())
            if len(args) > 1:
                self.file_write(node, args[1], frame)
            return Val()
        if qn in K.DELETERS:
            if "walk" in frame.loops:
                self._report("MH508", node, f"deletes every file found while walking a folder ({qn})", frame)
            return Val()
        if qn in K.TREE_DELETERS:
            target = args[0] if args else Val()
            text = target.approx()
            if _is_top_folder(text) or "walk" in frame.loops:
                self._report("MH508", node, f"deletes the folder tree {text}", frame)
            return Val()
        if qn in K.WALKERS:
            recursive = qn in K.RECURSIVE_WALKERS or "**" in (args[0].approx() if args else "")
            listing = Val(kind="walk" if recursive else "listing", taints=taints_of(args))
            return self.credential_access(qn, node, args, {}, frame, listing)
        if qn in K.CIPHERS:
            return Val(kind="cipher")
        if qn == "sqlite3.connect":
            return self.credential_access(qn, node, args, kwargs, frame, Val(kind="db"))
        if qn in ("pathlib.Path.home",):
            return Val(kind="path", text="~")
        return None

    # -- methods on objects ----------------------------------------------------------------------
    def on_object(
        self, base: Val, method: str, node: cst.Call, args: list[Val], kwargs: dict[str, Val], frame: Frame
    ) -> Val | None:
        kind = base.kind
        if kind == "socket":
            if method in ("connect", "connect_ex"):
                address = _address(args[0]) if args else HOLE
                self.engine.event("connect", self.engine.step(f"connects a socket to {address}", node))
                owner = node.func.value if isinstance(node.func, cst.Attribute) else None
                if isinstance(owner, cst.Name) and owner.value in frame.locals:
                    frame.locals[owner.value] = replace(base, text=address)
                return Val()
            if method in ("send", "sendall", "sendto", "sendmsg"):
                peer = (
                    args[1]
                    if method == "sendto" and len(args) > 1
                    else Val(text=f"tcp://{base.text}")
                    if base.text
                    else None
                )
                self.network(
                    node,
                    frame,
                    url=peer,
                    carriers=[("data", a) for a in args[:1]],
                    what=f"socket.{method}",
                )
                return Val()
            if method in ("recv", "recvfrom", "recv_into", "recvmsg", "makefile", "read"):
                return Val(
                    taints=(
                        Taint(
                            "socket",
                            "data received from a socket",
                            (self.engine.step("receives data from the socket", node),),
                        ),
                    ),
                    kind="socket-data",
                )
            if method == "fileno":
                return Val(kind="sockfd")
            if method == "accept":
                return Val(kind="socket")
        if kind in ("session",) and method in K.HTTP_FUNCS:
            return self.http(method, node, args, kwargs, frame)
        if kind == "conn" and method in (
            "request",
            "putrequest",
            "sendmail",
            "send_message",
            "storbinary",
            "storlines",
            "send",
            "write",
        ):
            self.network(
                node,
                frame,
                url=Val(text=base.text),
                carriers=[("data", a) for a in args] + list(kwargs.items()),
                what=method,
            )
            return Val()
        if kind == "wfile" and method in ("write", "writelines") and base.text:
            for t in taints_of(args):
                if t.label == "network":
                    step = self.engine.step(f"saves {t.detail} to {clip(base.text, 80)}", node)
                    self.engine.note_download(Val(text=base.text), step, frame)
            return Val()
        if kind == "pipe-stdin" and method in ("write", "writelines"):
            if any("socket" in a.labels for a in args):
                self.reverse_shell(node, frame, "feeds data received from a socket into a process's stdin", args)
            return Val()
        if kind == "cipher" and method in ("encrypt", "encrypt_at_time"):
            if "walk" in frame.loops or any("file" in a.labels for a in args):
                self._report("MH508", node, "encrypts file contents (ransomware pattern)", frame)
            return Val(taints=taints_of(args))
        if kind == "path":
            if method in ("read_text", "read_bytes", "open"):
                mode = args[0].const if method == "open" and args and isinstance(args[0].const, str) else "r"
                if any(c in mode for c in "wax+"):
                    self.file_write(node, base, frame)
                    return Val(kind="file")
                return self.read_file(node, base, frame)
            if method in ("write_text", "write_bytes"):
                self.file_write(node, base, frame)
                return Val()
            if method == "unlink" and "walk" in frame.loops:
                self._report("MH508", node, "deletes every file found while walking a folder", frame)
                return Val()
            if method in ("rglob", "glob", "iterdir", "walk"):
                return Val(kind="walk" if method in ("rglob", "walk") else "listing")
            if method in ("expanduser", "resolve", "absolute", "joinpath", "with_suffix", "with_name"):
                text = base.approx() + "".join("/" + a.approx() for a in args)
                return Val(kind="path", text=text, taints=merge_taints(base.taints, taints_of(args)))
        if kind in ("response",) or "network" in base.labels:
            return Val(taints=base.taints, kind="response" if method in ("raise_for_status",) else None)
        return None

    # -- processes -------------------------------------------------------------------------------
    def command(self, qn: str, node: cst.Call, args: list[Val], kwargs: dict[str, Val], frame: Frame) -> Val:
        if qn.startswith(("os.exec", "os.spawn", "os.posix_spawn")):
            parts = args[1:] if qn.startswith("os.spawn") else args
            cmd = Val(items=tuple(p for a in parts for p in (a.items if a.items is not None else (a,))), kind="list")
        else:
            cmd = args[0] if args else kwargs.get("args") or kwargs.get("cmd") or kwargs.get("command") or Val()
        text, exact = _command_text(cmd)
        labels = merge_taints(cmd.taints, taints_of(list(kwargs.values())))
        program = _program_of(cmd, text)
        stdio = [kwargs[k] for k in ("stdin", "stdout", "stderr") if k in kwargs]
        is_shell = qn == "pty.spawn" or program in _SHELLS or " -i" in f" {text}"
        result_kind = (
            "popen"
            if qn
            in (
                "subprocess.Popen",
                "asyncio.create_subprocess_exec",
                "asyncio.create_subprocess_shell",
                "pexpect.spawn",
            )
            else None
        )
        if any(v.kind in ("socket", "sockfd") for v in stdio) or (
            is_shell and "dup2" in self.engine.events and "connect" in self.engine.events
        ):
            self.reverse_shell(node, frame, f"spawns a shell ({clip(text, 60)}) on a connected socket", [])
            return Val(kind=result_kind)
        by_label = {t.label: t for t in labels}
        if "socket" in by_label:
            self.reverse_shell(node, frame, "runs commands received from a socket", [cmd])
            return self._output(result_kind, [], tuple(by_label.values()), node)
        if "network" in by_label:
            t = by_label["network"]
            self._report(
                "MH504",
                node,
                "runs a command downloaded from the network",
                frame,
                steps=_steps(t, node, "runs it as a command"),
            )
            return self._output(result_kind, [], tuple(by_label.values()), node)
        ran = self._runs_downloaded(cmd, program, frame)
        if ran is not None:
            message = f"runs a file downloaded from the network (`{clip(text, 80)}`)"
            self._report("MH504", node, message, frame, steps=_steps(ran, node, "runs it"))
            return self._output(result_kind, [], labels, node)
        if program in ("wget", "curl"):
            self._note_command_download(cmd, text, program, node, frame)
        fetched = self._downloaded_in(text)
        if fetched is not None:
            message = f"runs a file downloaded from the network (`{clip(text, 80)}`)"
            self._report("MH504", node, message, frame, steps=((fetched.message, fetched.node), ("runs it", node)))
            return self._output(result_kind, [], labels, node)
        indicators = (
            analyze_shell(text, depth=self.engine.depth, assess_python=self._python) if text.strip(HOLE + " ") else []
        )
        specific = [i for i in indicators if i.category is not Category.COMMAND_EXEC]
        category = most_specific([i.category for i in specific]) if specific else Category.COMMAND_EXEC
        assert category is not None
        rules = {i.rule for i in indicators}
        rule = "MH501" if "MH501" in rules else "MH504" if "MH504" in rules else "MH507" if cmd.decoded else "MH505"
        severity = max([Severity.HIGH, worst_severity(indicators)], key=lambda s: s.rank)
        reasons = "; ".join(dict.fromkeys(i.message for i in specific)) or (indicators[0].message if indicators else "")
        shown = clip(text, 100)
        if exact:
            message = f"runs `{shown}`" + (f": {reasons}" if reasons else "")
        else:
            message = f"runs a command built at run time (`{shown}`)" + (f": {reasons}" if specific else "")
        if cmd.decoded:
            message += f" (decoded from {cmd.decoded})"
            if not specific:
                category = Category.OBFUSCATION
        if not self.engine.embedded and not specific and program in _DATA_TOOLS:
            severity, message = Severity.MEDIUM, f"runs the data tool {program} ({shown})"
        steps: tuple[tuple[str, cst.CSTNode], ...] = ()
        traced = [t for t in labels if t.label != "downloaded"]  # a downloaded argument is not run
        if traced:
            steps = _steps(traced[0], node, "used in the command")
        self._report(rule, node, message, frame, category=category, severity=severity, steps=steps)
        return self._output(result_kind, indicators, labels, node)

    def _output(
        self, kind: str | None, indicators: list[Indicator], taints: tuple[Taint, ...], node: cst.CSTNode
    ) -> Val:
        out = [
            Taint("cmd-output", "the output of a command", (self.engine.step("captures the command's output", node),))
        ]
        for ind in indicators:
            if ind.category is Category.CREDENTIAL_THEFT:
                out.insert(
                    0,
                    Taint(
                        "credential",
                        f"secrets read by the command ({ind.message})",
                        (self.engine.step(ind.message, node),),
                    ),
                )
            elif ind.category is Category.RECON:
                out.append(
                    Taint("sysinfo", f"system information ({ind.message})", (self.engine.step(ind.message, node),))
                )
        return Val(kind=kind, taints=merge_taints(tuple(out), taints))

    def _runs_downloaded(self, cmd: Val, program: str, frame: Frame) -> Taint | None:
        """The ``downloaded`` taint of the program this command runs, or of an interpreter's script."""
        if cmd.items is None or not cmd.items:
            return None
        runs = cmd.items[:2] if program in _INTERPRETERS else cmd.items[:1]
        return next((t for t in map(lambda v: self._downloaded_file(v, frame), runs) if t is not None), None)

    def _note_command_download(self, cmd: Val, text: str, program: str, node: cst.CSTNode, frame: Frame) -> None:
        """``wget URL -O path`` / ``curl URL -o path``: the file at ``path`` holds network data."""
        words = list(cmd.items) if cmd.items is not None else [Val(text=w) for w in text.split()]
        flags = {"-O", "--output-document"} if program == "wget" else {"-o", "--output"}
        url = next((w.approx() for w in words if "://" in w.approx()), HOLE)
        for i, word in enumerate(words):
            arg = word.approx()
            target: Val | None = None
            if arg in flags and i + 1 < len(words):
                target = words[i + 1]
            elif arg.startswith(tuple(f + "=" for f in flags if f.startswith("--"))):
                target = Val(text=arg.split("=", 1)[1])
            if target is not None and target.approx() != "-":
                step = self.engine.step(
                    f"downloads {clip(url, 80)} to {clip(target.approx(), 80)} with {program}", node
                )
                self.engine.note_download(target, step, frame)

    def _downloaded_in(self, text: str, *, command: bool = True) -> Step | None:
        """The download step of a file that this command runs (as the program or an interpreter's
        script) or that this code path is, if any. ``unzip <downloaded file>`` does not count."""
        words = text.split()
        if not words:
            return None
        if command:
            program = words[0].rsplit("/", 1)[-1].lower()
            runs = [words[0]] + (words[1:2] if program in _INTERPRETERS else [])
        else:
            runs = [text.strip()]
        for path, step in self.engine.downloads.items():
            if HOLE not in path and any(r.strip("'\"") in (path, f"./{path}") for r in runs):
                return step
        return None

    def _python(self, code: str, depth: int) -> list[Indicator]:
        from malhug.analyzers.scripts.embedded import python_indicators

        return python_indicators(code, depth, self.engine.budget)

    def reverse_shell(self, node: cst.CSTNode, frame: Frame, why: str, carriers: list[Val]) -> None:
        steps: tuple[tuple[str, cst.CSTNode], ...] = tuple(
            (s.message, s.node) for s in self.engine.events.get("connect", [])[:1]
        )
        steps += tuple((s.message, s.node) for s in self.engine.events.get("dup2", [])[:1])
        for val in carriers:
            for t in val.taints:
                if t.label == "socket":
                    steps += tuple((s.message, s.node) for s in t.steps)
                    break
        steps += ((why, node),)
        self._report("MH501", node, f"reverse shell: {why}", frame, steps=steps)

    def finish_pass(self) -> None:
        events = self.engine.events
        if (
            "dup2" in events
            and "connect" in events
            and not any(p.rule == "MH501" for p in self.engine.findings.values())
        ):
            node = events["dup2"][0].node
            steps = ((events["connect"][0].message, events["connect"][0].node), (events["dup2"][0].message, node))
            self._report(
                "MH501",
                node,
                "reverse shell: duplicates a connected socket onto stdin/stdout/stderr",
                None,
                steps=steps,
            )

    # -- code execution --------------------------------------------------------------------------
    def code_exec(self, qn: str, node: cst.Call, args: list[Val], kwargs: dict[str, Val], frame: Frame) -> Val:
        payload = args[0] if args else (next(iter(kwargs.values())) if kwargs else Val())
        short = qn.replace("builtins.", "")
        if qn in ("pdb.set_trace", "builtins.breakpoint"):
            self._report(
                "MH506",
                node,
                f"starts the debugger ({short})",
                frame,
                severity=Severity.HIGH if self.engine.embedded else Severity.LOW,
            )
            return Val()
        if payload.kind == "code":
            return Val(kind="code")
        by_label = {t.label: t for t in payload.taints}
        if "socket" in by_label:
            self.reverse_shell(node, frame, f"executes code received from a socket with {short}", [payload])
            return Val()
        fetched_taint = by_label.get("network") or self._downloaded_file(payload, frame)
        if fetched_taint is not None:
            what = "code downloaded" if fetched_taint.label == "network" else "code from a file downloaded"
            self._report(
                "MH504",
                node,
                f"executes {what} from the network with {short}",
                frame,
                steps=_steps(fetched_taint, node, f"executed by {short}"),
            )
            return Val()
        fetched = self._downloaded_in(payload.approx(), command=False) if qn.startswith("runpy.") else None
        if fetched is not None:
            message = f"runs a Python file downloaded from the network with {short}"
            self._report(
                "MH504", node, message, frame, steps=((fetched.message, fetched.node), (f"executed by {short}", node))
            )
            return Val()
        source = payload.str_const()
        if qn in K.TAKES_SOURCE and source is not None:
            from malhug.analyzers.scripts.embedded import python_indicators

            inner = (
                python_indicators(source, self.engine.depth + 1, self.engine.budget)
                if self.engine.depth + 1 <= 6
                else []
            )
            risky = [i for i in inner if i.severity > Severity.INFO and i.category is not Category.CODE_EXEC]
            category = (
                most_specific([i.category for i in risky])
                if risky
                else (Category.OBFUSCATION if payload.decoded else Category.CODE_EXEC)
            )
            assert category is not None
            severity = max([Severity.HIGH, worst_severity(inner)], key=lambda s: s.rank)
            rule = "MH507" if payload.decoded else "MH506"
            reasons = "; ".join(dict.fromkeys(i.message for i in risky))
            message = f"{short} runs " + (
                f"code decoded from {payload.decoded}" if payload.decoded else "a constant code string"
            )
            if reasons:
                message += f" that {reasons}"
            self._report(
                rule,
                node,
                message,
                frame,
                category=category,
                severity=severity,
                evidence=f"{short}({clip(source, 160)!r})",
            )
            return Val(kind="code" if qn == "builtins.compile" else None)
        if qn in ("types.FunctionType", "types.CodeType", "types.LambdaType", "marshal.loads", "marshal.load"):
            self._report("MH506", node, f"builds executable code at run time ({short})", frame, severity=Severity.HIGH)
            return Val(kind="code")
        steps = _steps(payload.taints[0], node, f"executed by {short}") if payload.taints else ()
        self._report(
            "MH506", node, f"{short} runs code built at run time", frame, severity=self.sev_dynamic(), steps=steps
        )
        return Val(kind="code" if qn == "builtins.compile" else None)

    def deserialize(self, qn: str, node: cst.Call, args: list[Val], kwargs: dict[str, Val], frame: Frame) -> Val:
        payload = args[0] if args else kwargs.get("filepath") or kwargs.get("f") or kwargs.get("file") or Val()
        taint = next((t for t in payload.taints if t.label in ("network", "socket")), None)
        what = f"deserializes data downloaded from the network with {qn}"
        if taint is None or qn not in K.DESERIALIZERS:
            # numpy.load without allow_pickle reads plain arrays: no code runs.
            plain = qn == "numpy.load" and kwargs.get("allow_pickle", Val()).const is not True
            taint = None if plain else self._downloaded_file(payload, frame)
            what = f"loads a file downloaded from the network with {qn} (loading can run code)"
        if taint is not None:
            self._report("MH504", node, what, frame, steps=_steps(taint, node, f"loaded by {qn}"))
        return Val()

    def _downloaded_file(self, val: Val, frame: Frame) -> Taint | None:
        """The ``downloaded`` taint of ``val`` when it is (or was read from) a downloaded file."""
        return next((t for t in self.engine.mark_downloaded(val, frame).taints if t.label == "downloaded"), None)

    # -- network ---------------------------------------------------------------------------------
    def http(self, verb: str, node: cst.Call, args: list[Val], kwargs: dict[str, Val], frame: Frame) -> Val:
        url = kwargs.get("url") or (args[1] if verb == "request" and len(args) > 1 else args[0] if args else Val())
        if url.kind == "request":
            url = Val(text=url.text, taints=url.taints)
        carriers: list[tuple[str, Val]] = [(k, v) for k, v in kwargs.items() if k != "url"]
        rest = args[2:] if verb == "request" else args[1:]
        carriers += [("data", v) for v in rest]
        self.network(node, frame, url=url, carriers=carriers, what=verb)
        if verb == "urlretrieve" and len(args) > 1:
            target = args[1].approx()
            self.engine.note_download(
                args[1], self.engine.step(f"downloads {clip(url.approx(), 80)} to {clip(target, 80)}", node), frame
            )
        return Val(
            kind="response",
            taints=(
                Taint(
                    "network",
                    f"data downloaded from {url.approx()}",
                    (self.engine.step(f"downloads {clip(url.approx(), 80)}", node),),
                ),
            ),
        )

    def network(
        self, node: cst.CSTNode, frame: Frame, *, url: Val | None, carriers: list[tuple[str, Val]], what: str
    ) -> None:
        url_text = url.approx() if url is not None else ""
        to_hub = patterns.is_data_host(url_text)
        found: list[tuple[Taint, str]] = []
        for role, val in ([("url", url)] if url is not None else []) + carriers:
            for t in val.taints:
                if t.label == "secret-env" and (to_hub or _own_service(t.name, url_text) or not _known_host(url_text)):
                    continue
                if t.label in _SENSITIVE or (t.label == "file" and role in _BODY_ROLES):
                    found.append((t, role))
        host = patterns.url_host(url_text) or (
            clip(url_text, 60) if url_text and url_text != HOLE else "an address built at run time"
        )
        if found:
            found.sort(key=lambda f: _PRECEDENCE_LABELS.index(f[0].label) if f[0].label in _PRECEDENCE_LABELS else 99)
            taint, role = found[0]
            cred = taint.label in _CREDENTIAL_LABELS
            category = Category.CREDENTIAL_THEFT if cred else Category.EXFILTRATION
            self._report(
                "MH503",
                node,
                f"sends {taint.detail} to {host} (in the {role})",
                frame,
                category=category,
                severity=Severity.CRITICAL if cred or taint.label == "cmd-output" else Severity.HIGH,
                steps=_steps(taint, node, f"sent over the network ({what})"),
            )
            return
        endpoint = patterns.exfil_endpoint(url_text) if url_text else None
        if endpoint:
            self._report(
                "MH513", node, f"contacts the data-collection endpoint {endpoint} ({clip(url_text, 80)})", frame
            )
        elif self.engine.embedded and url is not None and url.known:
            ip = patterns.url_host(url_text)
            if patterns.is_ip_literal(ip) and not patterns.is_local_host(ip):
                self._report("MH513", node, f"contacts the bare IP address {ip}", frame)

    # -- files -----------------------------------------------------------------------------------
    def open_file(self, node: cst.Call, args: list[Val], kwargs: dict[str, Val], frame: Frame) -> Val:
        path = args[0] if args else kwargs.get("file", Val())
        mode_val = args[1] if len(args) > 1 else kwargs.get("mode")
        mode = mode_val.const if mode_val is not None and isinstance(mode_val.const, str) else "r"
        if isinstance(mode_val, Val) and isinstance(mode_val.const, int):
            mode = "w" if mode_val.const & 0o3 else "r"
        if any(c in mode for c in "wax+"):
            self.file_write(node, path, frame)
            if "+" not in mode:
                return Val(kind="wfile", text=path.approx())
        return self.read_file(node, path, frame)

    def read_file(self, node: cst.CSTNode, path: Val, frame: Frame) -> Val:
        path = self.engine.mark_downloaded(path, frame)
        cred = self.credential_access("open", node, [path], {}, frame, Val(kind="file"))
        if cred.taints:
            return cred
        text = path.approx()
        step = self.engine.step(f"reads {clip(text, 80)}", node)
        return Val(
            kind="file",
            taints=merge_taints(path.taints, (Taint("file", f"the contents of {clip(text, 80)}", (step,)),)),
        )

    def file_write(self, node: cst.CSTNode, path: Val, frame: Frame) -> None:
        text = path.approx()
        if path.kind == "modfile":
            self._report("MH510", node, f"overwrites the source file of an installed module ({path.ref})", frame)
        elif patterns.is_persistence_path(text):
            self._report("MH510", node, f"writes the persistence location {clip(text, 80)}", frame)
        elif isinstance(path.const, str) and path.const and not path.taints and not path.const.startswith("/dev/"):
            sev = Severity.HIGH if self.engine.embedded else Severity.MEDIUM
            self._report("MH511", node, f"writes the file {clip(path.const, 80)}", frame, severity=sev)

    def credential_access(
        self, name: str, node: cst.CSTNode, args: list[Val], kwargs: dict[str, Val], frame: Frame, result: Val
    ) -> Val:
        """Any call that touches a credential store with one of its arguments reads it."""
        if name in K.COMMANDS or name in K.PATH_BUILDERS:
            return result
        for val in list(args) + list(kwargs.values()):
            text = val.approx()
            if text == HOLE or len(text) > 400 or "\n" in text or not _path_like(text):
                continue
            if patterns.is_browser_store(text):
                label, what = "browser", "the browser password/cookie store"
            elif patterns.is_credential_path(text):
                label, what = "credential", "the credential file"
            else:
                continue
            shown = clip(text, 100)
            self._report(
                "MH502",
                node,
                f"reads {what} {shown}",
                frame,
                steps=_steps(val.taints[0], node, "opened here") if val.taints else (),
            )
            taint = Taint(label, f"{what} {shown}", (self.engine.step(f"reads {shown}", node),))
            return Val(kind=result.kind, taints=merge_taints((taint,), result.taints))
        return result


def _path_like(text: str) -> bool:
    """A path, not prose that mentions one (``"ssh … -i ~/.ssh/id_rsa"`` in a help text)."""
    stripped = text.strip().strip("'\"")
    return (
        " " not in stripped or stripped.startswith(("~", "/", ".", "$", HOLE, "\\")) or stripped[1:3] in (":/", ":\\")
    )


def _is_top_folder(path: str) -> bool:
    """A home or root folder, or one directly below (``~``, ``/``, ``~/Documents``, ``C:/Users``)."""
    norm = patterns.norm_path(path).rstrip("/")
    if norm in ("", "~", "$HOME", "C:"):
        return True
    for root in ("~", "$HOME", "C:"):
        if norm.startswith(root + "/"):
            return norm.count("/") <= 1
    if norm.startswith(("/tmp", "/var/tmp")):
        return False
    return norm.startswith("/") and norm.count("/") <= 2


def _known_host(url: str) -> bool:
    """Whether the destination is fixed in the code (a run-time endpoint may be the service's own)."""
    host = patterns.url_host(url)
    return bool(host) and HOLE not in host


def _own_service(name: str, url: str) -> bool:
    """A service's key sent to that service (``OPENAI_API_KEY`` to api.openai.com) is how APIs work."""
    service = name.split("_")[0].lower()
    host = patterns.url_host(url)
    return len(service) >= 3 and service in host


def _address(val: Val) -> str:
    """``("10.0.0.1", 4444)`` -> ``10.0.0.1:4444``."""
    if val.items is not None and len(val.items) == 2:
        return f"{val.items[0].approx()}:{val.items[1].approx()}"
    return val.approx()


def _steps(taint: Taint, node: cst.CSTNode, last: str) -> tuple[tuple[str, cst.CSTNode], ...]:
    return tuple((s.message, s.node) for s in taint.steps) + ((last, node),)


def _command_text(cmd: Val) -> tuple[str, bool]:
    """The command line as text, and whether it is fully known."""
    if isinstance(cmd.const, str):
        return cmd.const, True
    if isinstance(cmd.const, bytes):
        return cmd.const.decode("latin-1"), True
    if cmd.items is not None:
        parts = [i.approx() for i in cmd.items]
        exact = all(isinstance(i.const, str | bytes) for i in cmd.items)
        return (shlex.join(parts) if exact else " ".join(parts)), exact
    return cmd.approx(), False


def _program_of(cmd: Val, text: str) -> str:
    first = cmd.items[0].approx() if cmd.items else (text.split()[0] if text.split() else "")
    return first.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lower()
