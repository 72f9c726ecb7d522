import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, it } from 'node:test';
import {
    BasePython,
    bundleFits,
    candidatePythons,
    describeProbes,
    envPython,
    findBasePython,
    installSteps,
    offlineEnv,
    outputTail,
    Probe,
    probePython,
    readBundle,
    versionAtLeast,
} from '../src/privateenv';

const BASE: BasePython = { command: ['/usr/bin/python3.11'], executable: '/usr/bin/python3.11', version: '3.11.2' };

describe('finding a Python >= 3.11 for the private environment', () => {
    it('compares versions by major and minor', () => {
        assert.ok(versionAtLeast('3.11.0') && versionAtLeast('3.13.1') && versionAtLeast('4.0.0'));
        assert.ok(!versionAtLeast('3.10.12') && !versionAtLeast('2.7.18'));
    });

    it('tries the preferred interpreter first, then the usual names, each once', () => {
        const c = candidatePythons([['/opt/py', '-X', 'utf8'], ['python3']]);
        assert.deepEqual(c.slice(0, 2), [['/opt/py', '-X', 'utf8'], ['python3']]);
        assert.equal(c.filter((x) => x.join(' ') === 'python3').length, 1);
        assert.ok(c.some((x) => x[0] === 'python3.11'));
    });

    it('skips what is missing or too old, and names each for the user', async () => {
        const answers: Record<string, Probe> = {
            '/opt/py': { command: ['/opt/py'], error: 'spawn /opt/py ENOENT' },
            python3: { command: ['python3'], executable: '/usr/bin/python3.9', version: '3.9.2' },
            'python3.12': { command: ['python3.12'], executable: '/usr/local/bin/python3.12', version: '3.12.4' },
        };
        const probe = async (c: string[]) => answers[c[0]] ?? { command: c, error: 'spawn x ENOENT' };
        const { found, tried } = await findBasePython([['/opt/py'], ['python3'], ['python3.12']], probe);
        assert.deepEqual(found, {
            command: ['python3.12'],
            executable: '/usr/local/bin/python3.12',
            version: '3.12.4',
        });
        assert.equal(
            describeProbes(tried),
            '/opt/py: not found; python3 3.9.2 (/usr/bin/python3.9); python3.12 3.12.4 (/usr/local/bin/python3.12)',
        );
        const none = await findBasePython([['/opt/py'], ['python3']], probe);
        assert.equal(none.found, undefined);
        assert.equal(none.tried.length, 2);
    });

    it('asks a real interpreter for its full path and version', async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'malhug-probe-'));
        const fake = path.join(dir, 'python');
        fs.writeFileSync(fake, `#!/bin/sh\nprintf '%s\\n3.12.1' "${fake}"\n`, { mode: 0o755 });
        assert.deepEqual(await probePython([fake]), { command: [fake], executable: fake, version: '3.12.1' });
        const missing = await probePython([path.join(dir, 'nope')]);
        assert.match(missing.error ?? '', /ENOENT/);
    });
});

describe('the bundled wheels', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'malhug-ext-'));
    const wheels = path.join(dir, 'bundled', 'wheels');

    it('are read from bundled/wheels/manifest.json, and absent without one', () => {
        assert.equal(readBundle(dir), undefined);
        fs.mkdirSync(wheels, { recursive: true });
        fs.writeFileSync(
            path.join(wheels, 'manifest.json'),
            JSON.stringify({
                python: '3.11',
                platform: 'linux-x64',
                malhug: '0.1.0',
                pip: 'pip-23.2.1-py3-none-any.whl',
            }),
        );
        assert.deepEqual(readBundle(dir), {
            dir: wheels,
            python: '3.11',
            platform: 'linux-x64',
            malhug: '0.1.0',
            pip: 'pip-23.2.1-py3-none-any.whl',
        });
    });

    it('fit only the same Python minor version and platform', () => {
        const bundle = readBundle(dir);
        assert.ok(bundleFits(bundle, BASE, 'linux-x64'));
        assert.ok(!bundleFits(bundle, { ...BASE, version: '3.12.0' }, 'linux-x64'));
        assert.ok(!bundleFits(bundle, BASE, 'linux-arm64'));
        assert.ok(!bundleFits(undefined, BASE, 'linux-x64'));
    });

    it('install offline into a fresh venv, with pip from the bundle and no index or pip configuration', () => {
        const bundle = readBundle(dir);
        const env = { PATH: '/bin', PIP_INDEX_URL: 'http://127.0.0.1:9/simple', pip_find_links: '/x' };
        const [create, install] = installSteps({
            base: BASE,
            dir: '/s/env',
            bundle,
            fromBundle: true,
            version: '0.1.0',
            env,
        });
        assert.deepEqual(
            [create.command, ...create.args],
            ['/usr/bin/python3.11', '-m', 'venv', '--clear', '--without-pip', '/s/env'],
        );
        assert.equal(install.command, envPython('/s/env'));
        assert.deepEqual(install.args, [
            path.join(wheels, 'pip-23.2.1-py3-none-any.whl', 'pip'),
            '--isolated',
            'install',
            '--no-input',
            '--disable-pip-version-check',
            '--no-index',
            '--find-links',
            wheels,
            'malhug',
        ]);
        assert.equal(install.env?.PIP_INDEX_URL, undefined);
        assert.equal(install.env?.pip_find_links, undefined);
        assert.equal(install.env?.PIP_CONFIG_FILE, '/dev/null');
        assert.equal(install.env?.PATH, '/bin');
        assert.match(create.title, /Python 3\.11\.2 \(\/usr\/bin\/python3\.11\)/);
    });

    it('install from the index (after consent) pins the extension version, never into the base Python', () => {
        const [create, install] = installSteps({
            base: BASE,
            dir: '/s/env',
            fromBundle: false,
            version: '0.1.0',
            env: {},
        });
        assert.deepEqual(create.args, ['-m', 'venv', '--clear', '/s/env']);
        assert.equal(install.command, envPython('/s/env'));
        assert.notEqual(install.command, BASE.executable);
        assert.deepEqual(install.args.slice(-1), ['malhug==0.1.0']);
        assert.ok(!install.args.includes('--no-index'));
    });

    it('keeps the pip configuration out of the offline path only', () => {
        assert.deepEqual(offlineEnv({ A: '1', PIP_X: '2' }), {
            A: '1',
            PIP_CONFIG_FILE: '/dev/null',
            PIP_DISABLE_PIP_VERSION_CHECK: '1',
        });
    });
});

describe('outputTail', () => {
    it('keeps the last non-empty lines of pip', () => {
        const lines = ['Collecting malhug', '', 'ERROR: No matching distribution found for malhug', '  '];
        assert.equal(outputTail(lines, 2), 'Collecting malhug\nERROR: No matching distribution found for malhug');
    });
});
