// "Install MalHug…" as the user meets it: the message without a Python >= 3.11, the consent before the
// package index, pip's output tail on failure.
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { beforeEach, describe, it } from 'node:test';
import { ui } from './vscode-mock';
import { installPrivateEnv, InstallContext } from '../src/install';
import { Probe } from '../src/privateenv';

function output() {
    const lines: string[] = [];
    const at = (level: string) => (text: string) => lines.push(`[${level}] ${text}`);
    const channel = { info: at('info'), warn: at('warn'), error: at('error'), show: () => undefined };
    return { lines, channel: channel as unknown as InstallContext['output'] };
}

function context(probe: (c: string[]) => Promise<Probe>, extensionPath: string): InstallContext & { lines: string[] } {
    const { lines, channel } = output();
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'malhug-storage-'));
    return {
        output: channel,
        storage,
        extensionPath,
        version: '0.1.0',
        preferred: [],
        probe,
        platform: 'linux-x64',
        lines,
    };
}

function extensionWithBundle(python: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'malhug-ext-'));
    const wheels = path.join(dir, 'bundled', 'wheels');
    fs.mkdirSync(wheels, { recursive: true });
    const manifest = { python, platform: 'linux-x64', malhug: '0.1.0', pip: 'pip-23.2.1-py3-none-any.whl' };
    fs.writeFileSync(path.join(wheels, 'manifest.json'), JSON.stringify(manifest));
    return dir;
}

const missing = async (c: string[]): Promise<Probe> => ({ command: c, error: `spawn ${c[0]} ENOENT` });

describe('installPrivateEnv', () => {
    beforeEach(() => ui.reset());

    it('names every Python it found and the next step when none is 3.11 or newer', async () => {
        const old = async (c: string[]): Promise<Probe> =>
            c[0] === 'python3' ? { command: c, executable: '/usr/bin/python3.9', version: '3.9.2' } : missing(c);
        const ctx = context(old, extensionWithBundle('3.11'));
        assert.equal(await installPrivateEnv(ctx), false);
        const [error] = ui.shown;
        assert.equal(error.kind, 'error');
        assert.match(error.message, /needs Python 3\.11 or newer and found none/);
        assert.match(error.message, /python3 3\.9\.2 \(\/usr\/bin\/python3\.9\)/);
        assert.match(error.message, /python3\.11: not found/);
        assert.match(error.message, /Install Python 3\.11\+ .*or set malhug\.interpreter/);
        assert.deepEqual(error.items, ['Open Settings', 'Show Output']);
        assert.deepEqual(ui.progress, [], 'nothing was run');
    });

    it('asks in a modal dialog before using the package index, and does nothing when declined', async () => {
        const py312 = async (c: string[]): Promise<Probe> =>
            c[0] === 'python3.12' ? { command: c, executable: '/opt/bin/python3.12', version: '3.12.1' } : missing(c);
        const ctx = context(py312, extensionWithBundle('3.11'));
        assert.equal(await installPrivateEnv(ctx), false);
        const [ask] = ui.shown;
        assert.equal(ask.kind, 'warning');
        assert.deepEqual(ask.items, ['Install from the Index']);
        const options = ask.options as { modal: boolean; detail: string };
        assert.equal(options.modal, true);
        assert.match(options.detail, /for Python 3\.11 on linux-x64, not Python 3\.12\.1 on linux-x64/);
        assert.ok(
            options.detail.includes(`into ${path.join(ctx.storage, 'env')}, using Python 3.12.1 (/opt/bin/python3.12)`),
        );
        assert.match(options.detail, /malhug==0\.1\.0/);
        assert.deepEqual(ui.progress, [], 'nothing was run without consent');
        assert.match(ctx.lines.join('\n'), /installation from the package index declined/);
    });

    it("shows pip's last lines when a step fails, not only the exit code", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'malhug-base-'));
        // A "Python" whose `-m venv DIR` makes DIR/bin/python a pip that cannot find malhug.
        const base = path.join(dir, 'python3.11');
        const pip =
            '#!/bin/sh\\necho "Looking in links: bundled"\\necho "ERROR: No matching distribution found for malhug" >&2\\nexit 1\\n';
        fs.writeFileSync(
            base,
            `#!/bin/sh\nfor last; do :; done\nmkdir -p "$last/bin"\nprintf '${pip}' > "$last/bin/python"\nchmod +x "$last/bin/python"\n`,
            { mode: 0o755 },
        );
        const probe = async (c: string[]): Promise<Probe> =>
            c[0] === 'python3.11' ? { command: c, executable: base, version: '3.11.4' } : missing(c);
        const ctx = context(probe, extensionWithBundle('3.11'));
        assert.equal(await installPrivateEnv(ctx), false);
        assert.deepEqual(ui.progress.slice(0, 1), [`Installing MalHug (Python 3.11.4, ${base})`]);
        const error = ui.shown.find((s) => s.kind === 'error');
        assert.ok(error, JSON.stringify(ui.shown));
        assert.match(
            error.message,
            /failed while installing MalHug 0\.1\.0 from the wheels in the extension \(offline\) \(exit 1\)/,
        );
        assert.match(error.message, /ERROR: No matching distribution found for malhug/);
        assert.ok(!ui.shown.some((s) => s.kind === 'warning'), 'the offline path asked for consent');
    });
});
