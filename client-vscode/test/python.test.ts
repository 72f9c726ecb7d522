import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { beforeEach, describe, it } from 'node:test';
import { EventEmitter, mock, Uri } from './vscode-mock';
import {
    checkMalhugImportable,
    DEFAULT_INTERPRETER,
    findInterpreter,
    getPythonApi,
    PYTHON_EXTENSION_ID,
    PythonEnvironmentsApi,
} from '../src/python';

function fakePythonApi(selected: Record<string, string | undefined>, fallback?: string) {
    const changed = new EventEmitter<unknown>();
    const asked: (string | undefined)[] = [];
    const api: PythonEnvironmentsApi = {
        getActiveEnvironmentPath(resource) {
            asked.push(resource?.fsPath);
            const p = (resource && selected[resource.fsPath]) ?? fallback ?? 'python';
            return { id: p, path: p };
        },
        async resolveEnvironment(env) {
            const p = typeof env === 'string' ? env : env.path;
            return p === 'unresolvable' ? undefined : { executable: { uri: Uri.file(p) as never } };
        },
        onDidChangeActiveEnvironmentPath: changed.event as never,
    };
    return { api, asked, changed };
}

describe('findInterpreter', () => {
    beforeEach(() => {
        mock.reset();
        mock.workspaceFolders = [{ uri: Uri.file('/ws'), name: 'ws', index: 0 }];
    });

    it('uses python3 when there is neither a setting nor the Python extension', async () => {
        const found = await findInterpreter({});
        assert.deepEqual(found, { command: [DEFAULT_INTERPRETER], source: 'default' });
    });

    it('uses the interpreter selected in the Python extension for the workspace folder', async () => {
        const { api, asked } = fakePythonApi({ '/ws': '/ws/.venv/bin/python' });
        const found = await findInterpreter({ pythonApi: api });
        assert.deepEqual(found, { command: ['/ws/.venv/bin/python'], source: 'python-extension' });
        assert.deepEqual(asked, ['/ws']);
    });

    it('prefers an explicit malhug.interpreter setting, with variables expanded', async () => {
        mock.configuration.malhug = { interpreter: ['${workspaceFolder}/.venv/bin/python', '-X', 'utf8'] };
        const { api, asked } = fakePythonApi({}, '/other/python');
        const found = await findInterpreter({ pythonApi: api });
        assert.deepEqual(found, { command: ['/ws/.venv/bin/python', '-X', 'utf8'], source: 'setting' });
        assert.deepEqual(asked, [], 'the Python extension is not asked when the setting is given');
    });

    it('accepts a plain string setting and ignores blank entries', async () => {
        mock.configuration.malhug = { interpreter: '/usr/bin/python3.11' };
        assert.deepEqual((await findInterpreter({})).command, ['/usr/bin/python3.11']);
        mock.configuration.malhug = { interpreter: ['  ', ''] };
        assert.equal((await findInterpreter({})).source, 'default');
    });

    it('falls back to python3 when the Python extension cannot resolve its environment', async () => {
        const { api } = fakePythonApi({}, 'unresolvable');
        const logs: string[] = [];
        const found = await findInterpreter({ pythonApi: api, log: (m) => logs.push(m) });
        assert.equal(found.source, 'default');
        assert.match(logs.join('\n'), /no interpreter selected/);
    });

    it('falls back to python3 when the Python extension throws', async () => {
        const api = {
            getActiveEnvironmentPath: () => {
                throw new Error('not ready');
            },
        } as unknown as PythonEnvironmentsApi;
        const logs: string[] = [];
        const found = await findInterpreter({ pythonApi: api, log: (m) => logs.push(m) });
        assert.equal(found.source, 'default');
        assert.match(logs.join('\n'), /not ready/);
    });
});

describe('getPythonApi', () => {
    beforeEach(() => mock.reset());

    it('returns undefined when the Python extension is not installed', async () => {
        assert.equal(await getPythonApi(() => undefined), undefined);
    });

    it('activates the Python extension and returns its environments API', async () => {
        const { api } = fakePythonApi({});
        let activated = 0;
        mock.extensions[PYTHON_EXTENSION_ID] = {
            isActive: false,
            exports: undefined,
            activate: async () => {
                activated++;
                return { environments: api };
            },
        };
        assert.equal(await getPythonApi(() => undefined), api);
        assert.equal(activated, 1);
    });

    it('logs and returns undefined when activation fails', async () => {
        mock.extensions[PYTHON_EXTENSION_ID] = {
            isActive: false,
            exports: undefined,
            activate: async () => {
                throw new Error('boom');
            },
        };
        const logs: string[] = [];
        assert.equal(await getPythonApi((m) => logs.push(m)), undefined);
        assert.match(logs[0], /boom/);
    });
});

describe('checkMalhugImportable', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'malhug-client-'));
    const script = (name: string, body: string) => {
        const p = path.join(dir, name);
        fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        return p;
    };

    it('reports the version when the import succeeds', async () => {
        const py = script('good-python', 'printf 9.8.7');
        const check = await checkMalhugImportable([py]);
        assert.deepEqual(check, { ok: true, version: '9.8.7', detail: 'malhug 9.8.7' });
    });

    it('reports the last error line when the import fails', async () => {
        const py = script(
            'bad-python',
            "echo 'Traceback...' >&2; echo \"ModuleNotFoundError: No module named 'malhug'\" >&2; exit 1",
        );
        const check = await checkMalhugImportable([py]);
        assert.equal(check.ok, false);
        assert.equal(check.detail, "ModuleNotFoundError: No module named 'malhug'");
    });

    it('passes the import check code after the leading arguments', async () => {
        const py = script('args-python', 'printf "%s|" "$@"');
        const check = await checkMalhugImportable([py, '-X', 'utf8']);
        assert.equal(check.ok, true);
        assert.match(
            check.version ?? '',
            /^-X\|utf8\|-c\|import sys; sys.path\[:\] = \[p for p in sys.path if p not in \("", "."\)\]; import malhug;/,
        );
    });

    it('does not throw for a missing interpreter', async () => {
        const check = await checkMalhugImportable([path.join(dir, 'no-such-python')]);
        assert.equal(check.ok, false);
        assert.match(check.detail, /ENOENT/);
    });
});

describe('Restricted Mode', () => {
    beforeEach(() => {
        mock.reset();
        mock.workspaceFolders = [{ uri: Uri.file('/ws'), name: 'ws', index: 0 }];
    });

    it('ignores a workspace interpreter until the folder is trusted, and uses the user one', async () => {
        mock.layers.malhug = {
            interpreter: { defaultValue: [], globalValue: ['/home/me/py'], workspaceValue: ['./evil-python'] },
        };
        const logs: string[] = [];
        const untrusted = await findInterpreter({ trusted: false, log: (m) => logs.push(m) });
        assert.deepEqual(untrusted, { command: ['/home/me/py'], source: 'setting' });
        assert.match(logs.join('\n'), /Restricted Mode: the workspace value of malhug.interpreter is ignored/);
        const trusted = await findInterpreter({ trusted: true });
        assert.deepEqual(trusted, { command: ['./evil-python'], source: 'setting' });
    });

    it('ignores a folder-level interpreter too, falling back to the default', async () => {
        mock.layers.malhug = { interpreter: { defaultValue: [], workspaceFolderValue: ['/ws/bin/python'] } };
        assert.deepEqual(await findInterpreter({ trusted: false }), {
            command: [DEFAULT_INTERPRETER],
            source: 'default',
        });
    });

    it('does not ask the Python extension (its selection may come from the workspace)', async () => {
        const { api, asked } = fakePythonApi({ '/ws': '/ws/.venv/bin/python' });
        const logs: string[] = [];
        const found = await findInterpreter({ pythonApi: api, trusted: false, log: (m) => logs.push(m) });
        assert.deepEqual(found, { command: [DEFAULT_INTERPRETER], source: 'default' });
        assert.deepEqual(asked, []);
        assert.match(logs.join('\n'), /Python extension's interpreter is not used until the folder is trusted/);
    });
});
