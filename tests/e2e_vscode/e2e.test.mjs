// Real-editor end-to-end test: the demo workspace and fake Hub (demo/run.py --json), code-server with
// the MalHug .vsix installed, driven through Debian's chromium by playwright-core. Assertions are on
// what a user sees (the DOM) and on the file on disk after a quick fix.
//
// Run with `make e2e-vscode` (sets up everything). With MALHUG_SCREENSHOTS=DIR it also saves the
// pictures used in docs/EDITOR.md. On failure a screenshot and the editor logs go to test-artifacts/.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = process.env.MALHUG_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PYTHON = process.env.MALHUG_PYTHON ?? join(ROOT, '.venv/bin/python');
const CHROMIUM = process.env.MALHUG_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.MALHUG_SCREENSHOTS;
const ARTIFACTS = join(ROOT, 'test-artifacts');
const DIAGNOSTIC_TIMEOUT = 180_000; // cold: server start, first hub requests, scans on 2 busy cores

let demo; // the demo/run.py process (its own process group; it kills code-server's group on SIGTERM)
let info; // {url, endpoint, editor, manifest}
let browser;
let page;
let workdir;

/**
 * Starts demo/run.py --json (or, with `session`, tests/e2e_vscode/session.py and those arguments) and
 * resolves with its JSON line.
 */
function startDemo(interpreterPath = process.env.MALHUG_E2E_INTERPRETER, session = undefined) {
    workdir ??= mkdtempSync(join(tmpdir(), 'malhug-e2e-'));
    const interpreter = interpreterPath ? ['--interpreter', interpreterPath] : [];
    const script = session ? ['tests/e2e_vscode/session.py', ...session] : ['demo/run.py', '--json'];
    demo = spawn(PYTHON, [...script, '--workdir', workdir, ...interpreter], {
        cwd: ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    demo.stderr.on('data', (d) => {
        stderr += d;
        process.stderr.write(d);
    });
    return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => reject(new Error(`demo/run.py not ready in 180 s:\n${stderr}`)), 180_000);
        let buffer = '';
        demo.stdout.on('data', (d) => {
            buffer += d;
            const complete = buffer.split('\n').slice(0, -1); // the last piece may be half a line
            const line = complete.find((l) => l.startsWith('{'));
            if (line) {
                clearTimeout(timer);
                resolvePromise(JSON.parse(line));
            }
        });
        demo.on('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`demo/run.py exited with ${code}:\n${stderr}`));
        });
    });
}

async function stopDemo() {
    if (!demo || demo.exitCode !== null) {
        return;
    }
    const exited = new Promise((r) => demo.once('exit', r));
    process.kill(-demo.pid, 'SIGTERM');
    const timer = setTimeout(() => {
        try {
            process.kill(-demo.pid, 'SIGKILL');
        } catch (err) {
            console.error(`demo group already gone: ${err.message}`);
        }
    }, 20_000);
    await exited;
    clearTimeout(timer);
    // demo/run.py kills code-server's group on SIGTERM; if it had to be killed itself, do it here.
    if (info?.pgid) {
        try {
            process.kill(-info.pgid, 'SIGKILL');
        } catch (err) {
            if (err.code !== 'ESRCH') {
                throw err;
            }
        }
    }
}

/** Starts the demo (code-server + fake Hub), or a session.py one, and a browser page on it. */
async function openSession(interpreterPath, session) {
    info = await startDemo(interpreterPath, session);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
}

async function closeSession(extraDirs = []) {
    await browser?.close();
    await stopDemo();
    for (const d of [workdir, ...extraDirs]) {
        if (d) {
            rmSync(d, { recursive: true, force: true });
        }
    }
    workdir = undefined;
    info = undefined;
}

/** Opens the workbench on the demo workspace with `file` in the editor. */
async function openWorkbench(file) {
    await page.goto(info.url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await openFile(file);
}

/** Runs a command from the command palette (F1) by its title. */
async function runCommand(title) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill(`>${title}`);
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().click();
    return input;
}

/** Runs one step; on failure keeps a screenshot and the editor logs in test-artifacts/. */
async function step(name, fn) {
    try {
        await fn();
    } catch (err) {
        mkdirSync(ARTIFACTS, { recursive: true });
        if (page) {
            await page.screenshot({ path: join(ARTIFACTS, `e2e-vscode-${name}.png`) }).catch((e) => console.error(e));
        }
        if (info && existsSync(join(info.editor, 'user-data', 'logs'))) {
            cpSync(join(info.editor, 'user-data', 'logs'), join(ARTIFACTS, 'e2e-vscode-logs'), { recursive: true });
            cpSync(join(info.editor, 'code-server.log'), join(ARTIFACTS, 'e2e-vscode-code-server.log'));
        }
        throw err;
    }
}

/** With MALHUG_SCREENSHOTS=DIR: the window as a user sees it, for docs/EDITOR.md. */
async function shot(name) {
    if (SHOTS) {
        mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: join(SHOTS, `${name}.png`) });
    }
}

// The extension's output channel as code-server logged it (user-data/logs/SESSION/exthostN/malhug.malhug/MalHug.log).
function extensionLog() {
    const found = readdirSync(join(info.editor, 'user-data', 'logs'), { recursive: true }).filter((f) =>
        String(f).endsWith(join('malhug.malhug', 'MalHug.log')),
    );
    return found.map((f) => readFileSync(join(info.editor, 'user-data', 'logs', String(f)), 'utf8')).join('\n');
}

const workspaceFile = (name) => join(info.manifest.workspace, name);
const lineOf = (file, needle) => readFileSync(workspaceFile(file), 'utf8').split('\n').findIndex((l) => l.includes(needle)) + 1;

/** The rendered editor line (a `.view-line`) that contains `needle`, with its box. */
async function viewLine(needle) {
    const line = page.locator('.monaco-editor .view-lines .view-line', { hasText: needle }).first();
    await line.waitFor({ state: 'visible', timeout: 30_000 });
    return line;
}

/** Squiggles (`.squiggly-<kind>`) whose vertical centre lies on the editor line containing `needle`. */
async function squigglesOn(needle, kind = 'error') {
    const box = await (await viewLine(needle)).boundingBox();
    // Read every squiggle's box in one step in the page: squiggles that a new set of diagnostics
    // removes between listing them and measuring one would otherwise leave a locator waiting for an
    // element that is gone (the workbench is in the top document, so these are page coordinates).
    const boxes = await page
        .locator(`.monaco-editor .squiggly-${kind}`)
        .evaluateAll((els) =>
            els.map((e) => {
                const r = e.getBoundingClientRect();
                return { x: r.x, y: r.y, width: r.width, height: r.height };
            }),
        );
    return boxes.filter((b) => b.width > 0 && b.y + b.height / 2 >= box.y && b.y + b.height / 2 <= box.y + box.height);
}

/**
 * Opens the quick-fix menu at `needle` and returns its row matching `title`. A Ctrl+. that lands
 * while the editor is still taking focus back (after a previous menu was dismissed) opens nothing,
 * so the key is pressed again, within 30 s in all.
 */
async function openQuickFixMenu(needle, title) {
    const item = page.locator('.action-widget .monaco-list-row', { hasText: title }).first();
    const deadline = Date.now() + 30_000;
    for (;;) {
        await clickInside(needle);
        await page.keyboard.press('Control+.');
        try {
            await item.waitFor({ timeout: 5_000 });
            return item;
        } catch (err) {
            if (Date.now() > deadline) throw err;
            await page.keyboard.press('Escape');
        }
    }
}

/** Applies the quick fix whose title matches `title` at the text `needle`, saves, and returns the file text. */
async function applyQuickFix(file, needle, title, expected) {
    const item = await openQuickFixMenu(needle, title);
    await item.click();
    await page.locator('.monaco-editor .view-line', { hasText: expected }).first().waitFor({ timeout: 30_000 });
    await page.keyboard.press('Control+s');
    const path = workspaceFile(file);
    const deadline = Date.now() + 30_000;
    let text = readFileSync(path, 'utf8');
    while (!text.includes(expected) && Date.now() < deadline) {
        await page.waitForTimeout(500);
        text = readFileSync(path, 'utf8');
    }
    return text;
}

async function waitForSquiggle(needle, kind = 'error', timeout = DIAGNOSTIC_TIMEOUT) {
    const deadline = Date.now() + timeout;
    const failed = page.locator('.statusbar-item', { hasText: 'MalHug' }).locator('.codicon-error');
    while (Date.now() < deadline) {
        if ((await failed.count()) > 0) {
            throw new Error('the MalHug status-bar item shows an error: the language server is not running');
        }
        const hits = await squigglesOn(needle, kind);
        if (hits.length > 0) {
            return hits[0];
        }
        await page.waitForTimeout(1000);
    }
    throw new Error(`no .squiggly-${kind} on the line with ${needle} after ${timeout / 1000} s`);
}

async function openFile(name) {
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
    await row.waitFor({ state: 'visible', timeout: 60_000 });
    await row.dblclick();
    await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: 30_000 });
}

/** Puts the text cursor inside the string literal `id` on its line (a click on the text itself). */
async function clickInside(needle) {
    const line = await viewLine(needle);
    const span = line.locator('span > span', { hasText: needle }).first();
    const b = await span.boundingBox();
    await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2);
    return b;
}

describe('MalHug in a real VS Code (code-server)', () => {
    before(() => openSession());
    after(() => closeSession());

    it('opens the demo workspace with the extension installed', () =>
        step('open', async () => {
            await openWorkbench('load_models.py');
            const status = page.locator('.statusbar-item', { hasText: 'MalHug' }).first();
            await status.waitFor({ timeout: 60_000 });
        }));

    it('underlines the poisoned model id, and not the clean one', () =>
        step('squiggle', async () => {
            const { pinnable, reverse_shell: reverseShell, clean } = info.manifest;
            await waitForSquiggle(`"${pinnable}"`);
            await waitForSquiggle(`"${reverseShell}"`);
            // Every reference has been answered once both poisoned ones are; give a late publish a moment.
            await page.waitForTimeout(2000);
            assert.deepEqual(await squigglesOn(`"${clean}"`, 'error'), [], 'the clean id has an error squiggle');
            assert.deepEqual(await squigglesOn(`"${clean}"`, 'warning'), [], 'the clean id has a warning squiggle');
            // The squiggle covers the id literal, not the whole line.
            const id = await (await viewLine(`"${pinnable}"`)).locator('span > span', { hasText: pinnable }).first().boundingBox();
            const [sq] = await squigglesOn(`"${pinnable}"`);
            assert.ok(sq.x >= id.x - 12 && sq.x + sq.width <= id.x + id.width + 12, `squiggle ${JSON.stringify(sq)} is not on the id ${JSON.stringify(id)}`);
            await shot('squiggle');
            // The server's $/progress reached the extension's status-bar hook (it logs begin and end).
            const log = extensionLog();
            assert.match(log, /interpreter \(setting\): /, log.slice(0, 2000));
            assert.match(log, /progress malhug-\d+ begin: /, log.slice(-3000));
            assert.match(log, /progress malhug-\d+ end/, log.slice(-3000));
        }));

    it('lists the finding in the Problems panel with MalHug as its source', () =>
        step('problems', async () => {
            const { pinnable } = info.manifest;
            await page.locator('#status\\.problems, .statusbar-item[id="status.problems"]').first().click();
            const rows = page.locator('.markers-panel .monaco-list-row');
            await rows.first().waitFor({ timeout: 30_000 });
            const line = lineOf('load_models.py', pinnable);
            const row = page.locator('.markers-panel .monaco-list-row', { hasText: `[Ln ${line},` }).first();
            await row.waitFor({ timeout: 30_000 });
            const text = await row.innerText();
            assert.match(text, /malhug/i, `Problems row: ${text}`);
            assert.ok(text.includes(`${pinnable}@`) && /is malicious/.test(text), `not MalHug's message: ${text}`);
            assert.match(text, /MH\d{3}/, `Problems row has no rule id: ${text}`);
            const texts = await rows.allInnerTexts();
            const all = texts.join('\n');
            assert.doesNotMatch(all, new RegExp(`\\[Ln ${lineOf('load_models.py', info.manifest.clean)},`), 'a clean id is listed');
            // The status-bar item counts the same MalHug diagnostics as the Problems panel lists.
            const status = await page.locator('.statusbar-item', { hasText: 'MalHug:' }).first().innerText();
            const listed = texts.filter((t) => /malhug\W*MH\d{3}/i.test(t)).length;
            assert.ok(listed >= 3, `only ${listed} MalHug problems listed:\n${all}`);
            assert.equal(status.trim(), `MalHug: ${listed}`);
            await shot('problems');
            await page.keyboard.press('Escape');
        }));

    it('explains the finding on hover, naming the attack category', () =>
        step('hover', async () => {
            const { pinnable, reverse_shell: reverseShell } = info.manifest;
            for (const [needle, category] of [
                [pinnable, /command[- ]exec/i],
                [reverseShell, /reverse[- ]shell/i],
            ]) {
                await page.mouse.move(10, 10);
                await page.locator('.monaco-hover').first().waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
                const b = await (await viewLine(`"${needle}"`)).locator('span > span', { hasText: needle }).first().boundingBox();
                await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
                const hover = page.locator('.monaco-hover:visible').first();
                await hover.waitFor({ timeout: 30_000 });
                await page.waitForFunction(
                    (re) => [...document.querySelectorAll('.monaco-hover')].some((h) => new RegExp(re, 'i').test(h.textContent)),
                    category.source,
                    { timeout: 30_000 },
                );
                const text = (await page.locator('.monaco-hover').allInnerTexts()).join('\n');
                assert.match(text, category, `hover on ${needle}: ${text}`);
                assert.match(text, /malicious/i, `hover on ${needle} has no verdict: ${text}`);
                if (needle === pinnable) {
                    await shot('hover');
                } else {
                    assert.match(text, /Full report: command MalHug: Show Report/, `the cut hover does not point to the report: ${text}`);
                }
            }
            await page.mouse.move(10, 10);
        }));

    it('underlines a dataset whose loading script downloads and runs code', () =>
        step('dataset', async () => {
            const { dataset, clean_dataset: cleanDataset } = info.manifest;
            await openFile('load_data.py');
            await waitForSquiggle(`"${dataset}"`);
            assert.deepEqual(await squigglesOn(`"${cleanDataset}"`, 'error'), [], 'the clean dataset is underlined');
            assert.deepEqual(await squigglesOn(`"${cleanDataset}"`, 'warning'), [], 'the clean dataset is underlined');
            const b = await (await viewLine(`"${dataset}"`)).locator('span > span', { hasText: dataset }).first().boundingBox();
            await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
            await page.waitForFunction(
                () => [...document.querySelectorAll('.monaco-hover')].some((h) => /download-exec/.test(h.textContent)),
                undefined,
                { timeout: 30_000 },
            );
            const text = (await page.locator('.monaco-hover').allInnerTexts()).join('\n');
            assert.match(text, /squad-extended\.py/, `the hover does not name the loading script: ${text}`);
            await shot('dataset');
            await page.mouse.move(10, 10);
        }));

    it('shows the full report of a reference from the command palette', () =>
        step('report', async () => {
            const { reverse_shell: reverseShell } = info.manifest;
            const input = await runCommand('MalHug: Show Report');
            await page.locator('.quick-input-widget', { hasText: 'Model or dataset reference' }).waitFor({ timeout: 10_000 });
            await input.fill(reverseShell);
            await input.press('Enter');
            // The report opens as a Markdown preview (a webview: nested iframes).
            const preview = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
            const heading = preview.locator('body', { hasText: reverseShell });
            await heading.waitFor({ timeout: 60_000 });
            const report = await preview.locator('body').innerText();
            assert.match(report, /is malicious/i, report);
            assert.match(report, /reverse-shell/, report);
            assert.match(report, /revision/i, report);
            assert.match(report, /pytorch_model\.bin/, report);
            // The reverse shell's payload is not cut before its socket code (the hover's cut is at 160 characters).
            for (const part of ['s=socket.socket();s.connect((RHOST,RPORT))', 'pty.spawn("/bin/sh")']) {
                assert.ok(report.includes(part), `the report lacks ${part}:\n${report}`);
            }
            assert.doesNotMatch(report, /Full report: command/, report);
            await shot('report');
            await page.keyboard.press('Control+w'); // close the preview (a file: no save prompt)
        }));

    it('runs MalHug: Scan Workspace from the command palette', () =>
        step('scan-workspace', async () => {
            await runCommand('MalHug: Scan Workspace');
            const deadline = Date.now() + 120_000;
            while (!/workspace scan finished: /.test(extensionLog()) && Date.now() < deadline) {
                await page.waitForTimeout(1000);
            }
            const line = extensionLog().split('\n').find((l) => l.includes('workspace scan finished: ')) ?? '';
            assert.match(line, /"modelFiles":\s*2\b/, `the scan did not count the 2 model files: ${line}`);
            assert.doesNotMatch(line, /"error"/, line);
            // The result as a notification (models/checkpoint.pt is poisoned, encoder.safetensors is not).
            const summary = '2 model files scanned: 1 malicious, 0 suspicious, 0 errors';
            const toast = page.locator('.notifications-toasts .notification-toast', { hasText: summary }).first();
            await toast.waitFor({ timeout: 30_000 });
            await toast.locator('.monaco-button', { hasText: 'Show Problems' }).first().waitFor({ timeout: 5_000 });
            await shot('scan-workspace');
            await toast.locator('.codicon-notifications-clear, .codicon-close').first().click().catch(() => page.keyboard.press('Escape'));
            // The server's progress reached the extension with its counts, and its log lines carry one prefix.
            const log = extensionLog();
            assert.match(log, /\[info\] server\.workspace: workspace scan: 2 model files scanned: 1 malicious/, log.slice(-3000));
            assert.doesNotMatch(log, /\] (INFO|WARNING|DEBUG) malhug\./, 'a server line with two prefixes');
            assert.doesNotMatch(log, /Cancel notification for unknown message id/, 'cancel warnings in the output');
        }));

    it('sends changed settings to the server (severityThreshold)', () =>
        step('settings', async () => {
            const { reverse_shell: reverseShell } = info.manifest;
            await openFile('load_models.py');
            await waitForSquiggle('trust_remote_code', 'warning', 30_000);
            // Workspace settings, as a user would set them for this project.
            const folder = workspaceFile('.vscode');
            mkdirSync(folder, { recursive: true });
            writeFileSync(join(folder, 'settings.json'), JSON.stringify({ 'malhug.severityThreshold': 'critical' }));
            try {
                const deadline = Date.now() + 60_000;
                while ((await squigglesOn('trust_remote_code', 'warning')).length > 0 && Date.now() < deadline) {
                    await page.waitForTimeout(500);
                }
                assert.deepEqual(await squigglesOn('trust_remote_code', 'warning'), [], 'medium findings still shown');
                assert.equal((await squigglesOn(`"${reverseShell}"`)).length, 1, 'the critical finding went away too');
                assert.match(extensionLog(), /sending changed settings: .*"severityThreshold":"critical"/);
            } finally {
                rmSync(folder, { recursive: true, force: true });
            }
            await waitForSquiggle('trust_remote_code', 'warning', 60_000);
        }));

    it('pins a clean revision with the quick fix and writes it to disk', () =>
        step('quickfix', async () => {
            const { pinnable, pinnable_clean_sha: sha } = info.manifest;
            await openFile('load_models.py');
            const item = await openQuickFixMenu(pinnable, /revision/i);
            assert.match(await item.innerText(), new RegExp(`Pin revision="${sha}"`));
            await shot('quickfix');
            await page.keyboard.press('Escape');
            const text = await applyQuickFix('load_models.py', pinnable, /Pin revision/, `revision="${sha}"`);
            const line = text.split('\n').find((l) => l.includes(pinnable));
            assert.match(line, new RegExp(`from_pretrained\\("${pinnable}", revision="${sha}"\\)`), line);
            // A pinned clean revision is not reported any more.
            const deadline = Date.now() + 60_000;
            while ((await squigglesOn(`"${pinnable}"`)).length > 0 && Date.now() < deadline) {
                await page.waitForTimeout(1000);
            }
            assert.deepEqual(await squigglesOn(`"${pinnable}"`), [], 'the pinned clean revision is still underlined');
        }));

    it('marks torch.load of a poisoned local checkpoint as an error and offers weights_only=True', () =>
        step('weights-only', async () => {
            await openFile('train.py');
            // models/checkpoint.pt is poisoned: the load site carries the file's verdict (an error), not
            // only MH701's information note about torch < 2.6
            await waitForSquiggle('torch.load', 'error');
            const text = await applyQuickFix('train.py', 'torch.load', /weights_only=True/, 'weights_only=True');
            const line = text.split('\n').find((l) => l.includes('torch.load'));
            assert.equal(line.trim(), 'state = torch.load("models/checkpoint.pt", weights_only=True)');
        }));

    it('restarts on an interpreter change, offers to install MalHug where it is missing, and recovers', () =>
        step('interpreter', async () => {
            const { reverse_shell: reverseShell } = info.manifest;
            // The project's Python with -S (no site-packages): `import malhug` fails there.
            const python = join(workdir, 'python-without-malhug');
            writeFileSync(python, `#!/bin/sh\nexec "${PYTHON}" -S "$@"\n`, { mode: 0o755 });
            const folder = workspaceFile('.vscode');
            mkdirSync(folder, { recursive: true });
            writeFileSync(join(folder, 'settings.json'), JSON.stringify({ 'malhug.interpreter': [python] }));
            try {
                const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'MalHug cannot start' }).first();
                await toast.waitFor({ timeout: 60_000 });
                const text = await toast.innerText();
                assert.match(text, /import malhug/, text);
                assert.match(text, /own environment \(no global interpreter is changed\)/, text);
                await toast.locator('.monaco-button', { hasText: 'Install MalHug' }).first().waitFor({ timeout: 5_000 });
                await page.locator('.statusbar-item', { hasText: 'MalHug' }).locator('.codicon-error').first().waitFor({ timeout: 10_000 });
                assert.match(extensionLog(), /malhug is not importable with .*python-without-malhug/);
                // The old server's diagnostics went with it.
                assert.equal(await page.locator('.monaco-editor .squiggly-error').count(), 0, 'stale squiggles');
                await toast.locator('.codicon-notifications-clear, .codicon-close').first().click().catch(() => page.keyboard.press('Escape'));
            } finally {
                rmSync(folder, { recursive: true, force: true });
            }
            // Back to the project's interpreter: the server restarts and the findings return.
            await page.locator('.statusbar-item', { hasText: 'MalHug:' }).first().waitFor({ timeout: 60_000 });
            await openFile('load_models.py');
            await waitForSquiggle(`"${reverseShell}"`);
        }));
});

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The extension's output channel lines that match `re`, waiting up to `timeout` for the first. */
async function waitForLog(re, timeout = 60_000) {
    const deadline = Date.now() + timeout;
    while (!re.test(extensionLog()) && Date.now() < deadline) {
        await page.waitForTimeout(1000);
    }
    const log = extensionLog();
    assert.match(log, re, log.slice(-4000));
    return log;
}

describe('MalHug in Restricted Mode (workspace trust on, the folder not trusted)', () => {
    let marker;
    let evil;
    before(() => {
        workdir = mkdtempSync(join(tmpdir(), 'malhug-e2e-'));
        // What a hostile repository would set: an "interpreter" that runs its own code.
        marker = join(workdir, 'workspace-interpreter-ran');
        evil = join(workdir, 'workspace-python');
        writeFileSync(evil, `#!/bin/sh\ntouch "${marker}"\nexec "${PYTHON}" "$@"\n`, { mode: 0o755 });
        return openSession(undefined, ['--untrusted', '--workspace-setting', `malhug.interpreter=${JSON.stringify([evil])}`]);
    });
    after(() => closeSession());

    it('runs the extension, shows diagnostics, and ignores the workspace interpreter', () =>
        step('restricted', async () => {
            await openWorkbench('load_models.py');
            // The folder really is untrusted: the workbench says so in the status bar.
            await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 60_000 });
            const { reverse_shell: reverseShell } = info.manifest;
            await waitForSquiggle(`"${reverseShell}"`);
            await shot('restricted-mode');
            const log = extensionLog();
            assert.match(log, /Restricted Mode: the folder is not trusted/, log.slice(0, 3000));
            // The user's interpreter runs the server; the workspace's never ran.
            assert.ok(log.includes(`interpreter (setting): ${PYTHON}`), log.slice(0, 3000));
            assert.ok(!log.includes(evil), log.slice(0, 3000));
            assert.ok(!existsSync(marker), 'the workspace-level interpreter was run');
        }));

    it('uses the workspace interpreter once the user trusts the folder', () =>
        step('trust-granted', async () => {
            await runCommand('Workspaces: Manage Workspace Trust');
            const trust = page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first();
            await trust.waitFor({ timeout: 30_000 });
            await trust.click();
            await waitForLog(/\(re\)starting the MalHug server: the folder is now trusted/);
            await waitForLog(new RegExp(escapeRegExp(`interpreter (setting): ${evil}`)));
            const deadline = Date.now() + 30_000;
            while (!existsSync(marker) && Date.now() < deadline) {
                await page.waitForTimeout(500);
            }
            assert.ok(existsSync(marker), 'the trusted workspace interpreter did not run');
        }));
});

describe('Install MalHug into a private environment, from a fresh profile', () => {
    let bare;
    before(async () => {
        workdir = mkdtempSync(join(tmpdir(), 'malhug-e2e-'));
        // A Python >= 3.11 without MalHug: a bare virtual environment.
        bare = join(workdir, 'bare-venv');
        const made = spawnSync(PYTHON, ['-m', 'venv', bare], { encoding: 'utf8' });
        assert.equal(made.status, 0, made.stderr);
        return openSession(join(bare, 'bin', 'python'));
    });
    after(() => closeSession());

    it('offers the installation, installs offline with one click, and shows diagnostics', () =>
        step('install', async () => {
            await openWorkbench('load_models.py');
            const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'MalHug cannot start' }).first();
            await toast.waitFor({ timeout: 60_000 });
            if (SHOTS) {
                await page.waitForTimeout(1500); // let the toast finish sliding in
            }
            await shot('install-offer');
            await toast.locator('.monaco-button', { hasText: 'Install MalHug' }).first().click();
            const { reverse_shell: reverseShell } = info.manifest;
            const log = await waitForLog(/found malhug \S+ with \S+\/env\/bin\/python \(private-env\)/, 300_000);
            await waitForSquiggle(`"${reverseShell}"`);
            const env = join(info.editor, 'user-data', 'User', 'globalStorage', 'malhug.malhug', 'env');
            assert.ok(log.includes(`private environment ${env} from Python `), log.slice(-4000));
            assert.match(log, /offline, from \S+bundled\/wheels/, log.slice(-4000));
            assert.match(log, /Successfully installed .*malhug-/, log.slice(-4000));
            // Nothing went into the interpreter the user gave.
            const check = spawnSync(join(bare, 'bin', 'python'), ['-c', 'import malhug'], { encoding: 'utf8' });
            assert.notEqual(check.status, 0, 'malhug was installed into the bare interpreter');
            await page.locator('.notifications-toasts .notification-toast', { hasText: 'MalHug is installed in its own environment' }).first().waitFor({ timeout: 30_000 });
        }));
});

describe('MalHug in a multi-root workspace', () => {
    before(() => openSession(undefined, ['--second-folder']));
    after(() => closeSession());

    it('scans the model files of both folders and reports them in one summary', () =>
        step('multi-root', async () => {
            await page.goto(info.url);
            await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
            await page.locator('.statusbar-item', { hasText: 'MalHug:' }).first().waitFor({ timeout: 120_000 });
            await runCommand('MalHug: Scan Workspace');
            // models/checkpoint.pt and models/encoder.safetensors in the demo folder, weights/extra.pkl in the second.
            const summary = '3 model files scanned: 2 malicious, 0 suspicious, 0 errors';
            await page.locator('.notifications-toasts .notification-toast', { hasText: summary }).first().waitFor({ timeout: 120_000 });
            const log = await waitForLog(/server\.workspace: extra\.pkl: malicious/);
            assert.match(log, /workspace scan finished: .*"modelFiles":3/, log.slice(-3000));
        }));
});
