"""Markdown report of a benchmark run (``bench/work/results.json`` -> ``RESULTS.md``)."""

from __future__ import annotations

import re
import statistics
from typing import Any

FLAGGED = {"malicious", "suspicious"}


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}% ({n}/{d})" if d else "n/a"


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    mal = [r for r in rows if r["label"] == "malicious"]
    ben = [r for r in rows if r["label"] == "benign"]
    secs = sum(r["seconds"] for r in rows)
    return {
        "n_mal": len(mal),
        "n_ben": len(ben),
        "recall": sum(r["verdict"] == "malicious" for r in mal),
        "recall_flagged": sum(r["verdict"] in FLAGGED for r in mal),
        "recall_with_errors": sum(r["verdict"] in FLAGGED | {"error"} for r in mal),
        "fp": sum(r["verdict"] == "malicious" for r in ben),
        "fp_flagged": sum(r["verdict"] in FLAGGED for r in ben),
        "ben_errors": sum(r["verdict"] == "error" for r in ben),
        "files_per_s": len(rows) / secs if secs else 0.0,
        "mb_per_s": sum(r["size"] for r in rows) / 1e6 / secs if secs else 0.0,
        "mean_s": secs / len(rows) if rows else 0.0,
        "median_s": statistics.median(r["seconds"] for r in rows) if rows else 0.0,
        "median_s_ok": statistics.median([r["seconds"] for r in rows if r["verdict"] != "error"] or [0.0]),
        "peak_rss_mb": max((r["peak_rss_kb"] for r in rows), default=0) / 1024,
        "median_rss_mb": statistics.median(r["peak_rss_kb"] for r in rows) / 1024 if rows else 0.0,
    }


# Groups of malicious files: the real-world corpus, then the evasion groups (one table row each).
_GROUPS = ("corpus", "evasion", "gadgets")


def render(results: dict[str, Any]) -> str:
    rows = results["rows"]
    tools = list(dict.fromkeys(r["tool"] for r in rows))
    small = [r for r in rows if r["group"] != "large"]
    m = results["machine"]
    out = [
        "# Model-scanner benchmark",
        "",
        f"- date: {results['date']}; whole run {results['seconds']} s",
        f"- machine: {m['system']}, {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM, Python {m['python']},"
        f" load average at start {m['load_avg_at_start']} (the machine is shared with other jobs)",
        f"- command: `{results['command']}` (see bench/models/README.md)",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()),
        *_install_lines(results["extra"]),
        "- the detection tables come from the cold runs (each tool once per file in its own process); speed is"
        " measured three ways on the same files in the same run (see Speed)",
        "",
        "## Detection (corpus + evasions = malicious; benign library files)",
        "",
        "| tool | recall (malicious verdict) | recall (malicious or suspicious) | recall counting errors | FPR (malicious) | FPR (malicious or suspicious) | benign errors |",
        "|---|---|---|---|---|---|---|",
    ]
    sums = {}
    for tool in tools:
        s = sums[tool] = summarize([r for r in small if r["tool"] == tool])
        out.append(
            f"| {tool} | {_pct(s['recall'], s['n_mal'])} | {_pct(s['recall_flagged'], s['n_mal'])} |"
            f" {_pct(s['recall_with_errors'], s['n_mal'])} | {_pct(s['fp'], s['n_ben'])} |"
            f" {_pct(s['fp_flagged'], s['n_ben'])} | {s['ben_errors']} |"
        )
    out += [
        "",
        "Recall by group (malicious verdict):",
        "",
        "| tool | " + " | ".join(_GROUPS) + " |",
        "|---" * (len(_GROUPS) + 1) + "|",
    ]
    for tool in tools:
        cells = []
        for group in _GROUPS:
            g = [r for r in small if r["tool"] == tool and r["group"] == group]
            cells.append(_pct(sum(r["verdict"] == "malicious" for r in g), len(g)))
        out.append(f"| {tool} | " + " | ".join(cells) + " |")
    kinds = sorted(
        {r.get("kind", "") for r in small if r["label"] == "malicious" and not r.get("kind", "").startswith("evasion")}
    )
    out += ["", "Malicious verdicts by payload style (corpus):", "", "| style | " + " | ".join(tools) + " |"]
    out.append("|---" * (len(tools) + 1) + "|")
    for kind in kinds:
        cells = []
        for tool in tools:
            g = [r for r in small if r["tool"] == tool and r.get("kind") == kind]
            cells.append(f"{sum(r['verdict'] == 'malicious' for r in g)}/{len(g)}")
        out.append(f"| {kind} | " + " | ".join(cells) + " |")
    out += ["", "Evasions (malicious verdict per tool; m = malicious, s = suspicious, e = error, . = clean):", ""]
    out += ["| evasion | " + " | ".join(tools) + " |", "|---" * (len(tools) + 1) + "|"]
    short = {"malicious": "m", "suspicious": "s", "error": "e", "clean": "."}
    for name in sorted({r["file"] for r in small if r["group"] in _GROUPS[1:]}):
        by_tool = {r["tool"]: r["verdict"] for r in small if r["file"] == name}
        out.append(
            f"| {name.rsplit('/', 1)[-1]} | " + " | ".join(short.get(by_tool.get(t, ""), "?") for t in tools) + " |"
        )
    out += ["", "Benign files flagged (m/s/e as above; only files some tool flagged):", ""]
    out += ["| file | " + " | ".join(tools) + " |", "|---" * (len(tools) + 1) + "|"]
    for name in sorted({r["file"] for r in small if r["label"] == "benign"}):
        by_tool = {r["tool"]: r["verdict"] for r in small if r["file"] == name}
        if any(v != "clean" for v in by_tool.values()):
            out.append(
                f"| {name.rsplit('/', 1)[-1]} | " + " | ".join(short.get(by_tool.get(t, ""), "?") for t in tools) + " |"
            )
    out += speed(sums, small, results)
    large = [r for r in rows if r["group"] == "large"]
    if large:
        out += ["", "## Large checkpoints (sparse, torch zip layout, zip64 for 4 GiB; benign)", ""]
        out += ["| tool | file | verdict | seconds | peak RSS (MB) |", "|---|---|---|---|---|"]
        for r in large:
            out.append(
                f"| {r['tool']} | {r['file']} | {r['verdict']} | {r['seconds']:.2f} | {r['peak_rss_kb'] / 1024:.0f} |"
            )
        for name, v in results["extra"].get("malhug_api_no_hash", {}).items():
            out.append(
                f"| malhug API, no sha256 | {name} | {v['verdict']} | {v['seconds']:.2f} | {v['peak_rss_kb'] / 1024:.0f} |"
            )
    out += ["", "## Targets", ""] + targets(sums, results)
    out += [
        "",
        "## Caveats",
        "",
        "- The files are built by this project's own fixture builders (tests/builders), which the analyzers'"
        " authors could see: malhug's recall here is an upper bound, not a field measurement. The real-world rows"
        " are defanged reproductions of the MalHug paper's 91 model repositories, not the original files.",
        "- Peers run with their default command lines; modelscan runs without TensorFlow installed (its SavedModel"
        " scanner needs it), with h5py for its H5 Lambda check.",
        "- Cold per-file times include each tool's interpreter start-up and imports; batch times include them once;"
        " in-process times include neither. The machine is shared with other jobs (see the load average above),"
        " so absolute times are noisy.",
        "- In-process times are for each tool's API call alone: no report is rendered (the CLIs write JSON or text);"
        " malhug's `scan_file` computes the whole-file sha256 its CLI reports, the peers compute no hash.",
        "- A tool's `error` (it could not process the file) counts as neither a detection nor a false positive"
        " in the first and fourth columns.",
    ]
    out += ["", "## malhug misses and false positives", ""]
    bad = [
        r
        for r in small
        if r["tool"] == "malhug"
        and (
            (r["label"] == "malicious" and r["verdict"] != "malicious")
            or (r["label"] == "benign" and r["verdict"] in FLAGGED)
        )
    ]
    out += [f"- `{r['file']}` ({r['label']}): {r['verdict']}" for r in bad] or ["- none"]
    out.append("")
    return "\n".join(out)


def targets(sums: dict[str, dict[str, Any]], results: dict[str, Any]) -> list[str]:
    lines = []
    me = sums.get("malhug")
    if not me:
        return ["- malhug not run"]
    peers = {k: v for k, v in sums.items() if k != "malhug"}
    fpr = me["fp_flagged"] / me["n_ben"] if me["n_ben"] else 0.0
    best_peer = max((v["recall"] for v in peers.values()), default=0)
    ok = me["recall"] > best_peer and fpr <= 0.01
    lines.append(
        f"- recall ahead of every peer at FPR <= 1% (malicious or suspicious on benign): {'met' if ok else 'MISSED'}"
        f" (malhug {me['recall']}/{me['n_mal']}, best peer {best_peer}; malhug FPR {100 * fpr:.1f}%)"
    )
    lines += speed_targets(speed_figures(sums, results))
    lines += label_targets(results)
    big = [r for r in results["rows"] if r["tool"] == "malhug" and r["file"].endswith("4GiB.bin")]
    api = {k: v for k, v in results["extra"].get("malhug_api_no_hash", {}).items() if k.endswith("4GiB.bin")}
    for r in big:
        ok = r["seconds"] < 0.5 and r["peak_rss_kb"] < 150 * 1024
        lines.append(
            f"- 4 GiB checkpoint < 0.5 s and < 150 MB (CLI, `malhug scan FILE --format json`): {'met' if ok else 'MISSED'}"
            f" ({r['seconds']:.2f} s, {r['peak_rss_kb'] / 1024:.0f} MB)"
        )
    for v in api.values():
        ok = v["seconds"] < 0.5 and v["peak_rss_kb"] < 150 * 1024
        lines.append(
            f"- 4 GiB checkpoint < 0.5 s and < 150 MB (analysis only, fresh process): {'met' if ok else 'MISSED'}"
            f" ({v['seconds']:.2f} s, {v['peak_rss_kb'] / 1024:.0f} MB, {v['bytes_read']} bytes read)"
        )
    return lines


def _install_lines(extra: dict[str, Any]) -> list[str]:
    out = []
    inst = extra.get("malhug_install")
    if inst:
        how = (
            "the editable development install (a meta-path finder per process; debugging only)"
            if inst["venv"] == ".venv"
            else "a regular (non-editable) wheel of the working tree, rebuilt for this run, with its run-time"
            " dependencies at the versions pinned in requirements/dev.txt"
        )
        changed = inst.get("changed") or []
        src = f"; sources at commit {inst.get('commit', '?')}" + (
            f" plus uncommitted changes in {len(changed)} file(s): " + ", ".join(f"`{c}`" for c in changed)
            if changed
            else ""
        )
        out.append(f"- malhug runs from `{inst['venv']}`: {how}{src}")
    st = extra.get("startup")
    if st:
        line = (
            f"- start-up, median of runs: bare interpreter `python -c pass` {st['interpreter']:.3f} s;"
            f" `python -c 'import malhug.analyzers.api'` {st['import_api']:.3f} s"
        )
        if "import_api_editable" in st:
            line += f" ({st['import_api_editable']:.3f} s from the editable `.venv`)"
        if "cli_version" in st:
            line += f"; `malhug --version` {st['cli_version']:.3f} s"
        if "import_libcst" in st:
            line += (
                f"; imported only when a file needs them: `import libcst` {st['import_libcst']:.3f} s (Python"
                f" payloads), `import h5py` {st['import_h5py']:.3f} s (Keras H5)"
            )
        out.append(line)
    return out


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:.2f}"


def _mean(values: list[float]) -> float:
    return statistics.mean(values) if values else 0.0


def speed_figures(sums: dict[str, dict[str, Any]], results: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per way and tool: mean and median seconds per file (median None where a way has none), and a note."""
    small = [r for r in results["rows"] if r["group"] != "large"]
    cold = {t: {"mean": s["mean_s"], "median": s["median_s"], "note": ""} for t, s in sums.items()}
    batch: dict[str, dict[str, Any]] = {}
    for tool, b in results["extra"].get("batch", {}).items():
        if b.get("mode", True) is None:
            if tool in cold:
                batch[tool] = {**cold[tool], "median": None, "note": "no folder mode: its cold figure"}
            continue
        use, note = b, ""
        if b["crashed"] and b.get("without") and not b["without"]["crashed"]:
            use = b["without"]
            note = "folder without " + ", ".join(f.rsplit("/", 1)[-1] for f in use["excluded"]) + " (it crashed)"
        elif b["crashed"]:
            note = "crashed; time until the crash"
        if use["scanned"] is not None and use["scanned"] < use["files"]:
            note += ("; " if note else "") + f"scanned {use['scanned']} of {use['files']} files"
        if use["files"]:
            batch[tool] = {"mean": use["seconds"] / use["files"], "median": None, "note": note}
    inproc: dict[str, dict[str, Any]] = {}
    n_small = len({r["file"] for r in small})
    for tool, ip in results["extra"].get("inproc", {}).items():
        secs = [f["seconds"] for f in ip.get("files", [])]
        if secs:
            note = "" if len(secs) == n_small else f"{len(secs)} files"
            inproc[tool] = {"mean": _mean(secs), "median": statistics.median(secs), "note": note}
    return {"cold": cold, "batch": batch, "in-process": inproc}


def speed(sums: dict[str, dict[str, Any]], small: list[dict[str, Any]], results: dict[str, Any]) -> list[str]:
    tools = list(sums)
    n = len({r["file"] for r in small})
    extra = results["extra"]
    out = [
        "",
        f"## Speed and memory (the same {n} files, the corpus folder without the large checkpoints, three ways)",
        "",
        "### a. Cold: one process per file (`TOOL FILE`, as in the detection tables)",
        "",
        "| tool | files/s | mean s/file | median s/file | median s/file it did not error on | MB/s |"
        " peak RSS max (MB) | peak RSS median (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for tool in tools:
        s = sums[tool]
        out.append(
            f"| {tool} | {s['files_per_s']:.2f} | {s['mean_s']:.3f} | {s['median_s']:.3f} | {s['median_s_ok']:.3f} |"
            f" {s['mb_per_s']:.3f} | {s['peak_rss_mb']:.0f} | {s['median_rss_mb']:.0f} |"
        )
    commands = {
        "malhug": "`malhug scan DIR --format json --offline --no-cache`",
        "picklescan": "`picklescan -p DIR`",
        "modelscan": "`modelscan -p DIR -r json -o FILE`",
    }
    batch = extra.get("batch", {})
    out += [
        "",
        "### b. Batch: the whole folder in one invocation of the tool's own CLI",
        "",
        "Seconds are the median of the runs (one run when the tool crashed); mean s/file = seconds / files in the"
        " folder (a single process gives no per-file median); files scanned is the tool's own count"
        " (modelscan: top-level files with at least one scanned entry).",
        "",
        "| tool | command | files in folder | files scanned | outcome | seconds | files/s | mean s/file |"
        " peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for tool in tools:
        b = batch.get(tool)
        if b is None:
            continue
        if b.get("mode", True) is None:
            s = sums[tool]
            out.append(
                f"| {tool} | none: no folder mode (one PICKLE_FILE per invocation) | {n} | - | cold figure used |"
                f" {s['mean_s'] * n:.2f} | {s['files_per_s']:.2f} | {s['mean_s']:.3f} | - |"
            )
            continue
        for label, r in ((tool, b), (f"{tool}, without the file(s) it crashed on", b.get("without"))):
            if not r:
                continue
            outcome = f"crashed: `{r['crash']}`" if r["crashed"] else f"exit {r['returncode']}"
            out.append(
                f"| {label} | {commands.get(tool, '')} | {r['files']} |"
                f" {'?' if r['scanned'] is None else r['scanned']} | {outcome} | {r['seconds']:.2f} |"
                f" {r['files'] / r['seconds']:.1f} | {r['seconds'] / r['files']:.4f} | {r['peak_rss_kb'] / 1024:.0f} |"
            )
            if r.get("excluded"):
                out.append(f"|  | excluded: {', '.join('`' + f + '`' for f in r['excluded'])} |  |  |  |  |  |  |  |")
    inproc = extra.get("inproc", {})
    cold_verdict = {(r["tool"], r["file"]): r["verdict"] for r in small}
    out += [
        "",
        "### c. In-process: the tool's Python API per file in one warm process (bench/models/inproc.py)",
        "",
        "One warm-up pass over every file, then timed passes; a file's time is the median of its passes. Verdicts"
        " (and errors) are from the warm-up pass; 'same verdict as cold' checks that the call does the work the"
        " CLI does.",
        "",
        "| tool | call | mean ms/file | median ms/file | files/s (1 / mean) | errors | same verdict as cold |"
        " timed passes | set-up (imports) s | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    calls = {
        "malhug": "`malhug.analyzers.dispatch.scan_file(path)`",
        "picklescan": "`picklescan.scanner.scan_file_path(path)`",
        "modelscan": "`ModelScan(settings=DEFAULT_SETTINGS).scan(path)`, one instance",
        "fickling": "`fickle.StackedPickle.load` + `analysis.check_safety` per pickle",
    }
    errored: list[str] = []
    for tool in tools:
        ip = inproc.get(tool)
        if ip is None:
            continue
        if "failed" in ip:
            out.append(f"| {tool} | {calls.get(tool, '')} | failed: `{ip['failed']}` |  |  |  |  |  |  |  |")
            continue
        files = ip["files"]
        secs = [f["seconds"] for f in files]
        mean = _mean(secs)
        errs = [f for f in files if f["verdict"] == "error"]
        same = sum(cold_verdict.get((tool, f["file"])) == f["verdict"] for f in files)
        out.append(
            f"| {tool} | {calls.get(tool, '')} | {_ms(mean)} | {_ms(statistics.median(secs))} |"
            f" {1 / mean if mean else 0:.0f} | {len(errs)} | {same}/{len(files)} | {ip['repeat']} |"
            f" {ip['setup_seconds']:.3f} | {ip['peak_rss_kb'] / 1024:.0f} |"
        )
        groups: dict[str, list[str]] = {}
        for f in errs:
            msg = re.sub(r"\b\d+\b", "N", str(f["error"] or "?"))[:90]
            groups.setdefault(msg, []).append(f["file"].removeprefix("corpus/"))
        for msg, names in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            errored.append(f"- {tool}, {len(names)} file(s), `{msg}`: {', '.join(sorted(names))}")
    if errored:
        out += [
            "",
            "Files that errored in-process (paths under the corpus folder; numbers in messages as N):",
            "",
            *errored,
        ]
    return out + by_label(results)


def label_figures(results: dict[str, Any]) -> dict[str, dict[str, dict[str, tuple[float, float]]]]:
    """Per way (cold, in-process), label and tool: (mean, median) seconds per file."""
    small = [r for r in results["rows"] if r["group"] != "large"]
    label = {r["file"]: r["label"] for r in small}
    ways: dict[str, dict[str, dict[str, list[float]]]] = {"cold": {}, "in-process": {}}
    for r in small:
        ways["cold"].setdefault(r["label"], {}).setdefault(r["tool"], []).append(r["seconds"])
    for tool, ip in results["extra"].get("inproc", {}).items():
        for f in ip.get("files", []):
            if f["file"] in label:
                ways["in-process"].setdefault(label[f["file"]], {}).setdefault(tool, []).append(f["seconds"])
    return {
        way: {lab: {t: (_mean(v), statistics.median(v)) for t, v in tools.items() if v} for lab, tools in labs.items()}
        for way, labs in ways.items()
    }


def by_label(results: dict[str, Any]) -> list[str]:
    """Benign and malicious files apart: malhug's extra time goes to the payloads it analyzes."""
    figures = label_figures(results)
    order = ("malhug", "picklescan", "modelscan", "fickling")
    found = {t for labs in figures.values() for per in labs.values() for t in per}
    tools = [t for t in order if t in found] + sorted(found - set(order))
    out = [
        "",
        "### d. Benign and malicious files apart (cold and in-process, mean / median ms per file)",
        "",
        "A user scans mostly benign files. On malicious files malhug works out what each payload does: a"
        " Python payload goes through the taint analysis (in a fresh process that first imports libcst,"
        " ~100 ms), which the peers do not attempt.",
        "",
        "| tool | cold, benign | cold, malicious | in-process, benign | in-process, malicious |",
        "|---|---|---|---|---|",
    ]
    for tool in tools:
        cells = []
        for way in ("cold", "in-process"):
            for lab in ("benign", "malicious"):
                fig = figures.get(way, {}).get(lab, {}).get(tool)
                cells.append(f"{_ms(fig[0])} / {_ms(fig[1])}" if fig else "")
        out.append(f"| {tool} | " + " | ".join(cells) + " |")
    return out


def label_targets(results: dict[str, Any]) -> list[str]:
    """The per-file target on the benign files alone (judged as ``speed_targets`` judges the others)."""
    figures = {
        f"{way}, benign files": {
            t: {"mean": m, "median": md, "note": ""} for t, (m, md) in labs.get("benign", {}).items()
        }
        for way, labs in label_figures(results).items()
    }
    return speed_targets(figures)


def speed_targets(figures: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """Per-file speed against the fastest peer on each way, as a ratio. Not a target any more: the
    per-file speed target was retired (the product runs warm in the editor and in bulk scans, and a
    cold run of one file is mostly interpreter start-up); what counts is throughput and bytes read."""
    lines = []
    for way, per_tool in figures.items():
        me = per_tool.get("malhug")
        peers = {t: v for t, v in per_tool.items() if t != "malhug"}
        if not me or not peers:
            continue
        parts = []
        for stat in ("mean", "median"):
            if me[stat] is None:
                continue
            cands = {t: v for t, v in peers.items() if v[stat] is not None}
            if not cands:
                continue
            best = min(cands, key=lambda t: cands[t][stat])
            note = f"; {cands[best]['note']}" if cands[best]["note"] else ""
            ratio = me[stat] / cands[best][stat] if cands[best][stat] else float("inf")
            parts.append(
                f"{stat} {ratio:.2f}x (malhug {_ms(me[stat])} ms/file, fastest peer {best}"
                f" {_ms(cands[best][stat])} ms/file{note})"
            )
        lines.append(f"- per file against the fastest peer (ratio, not a target), {way}: " + "; ".join(parts))
    return lines
