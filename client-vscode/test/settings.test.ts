import assert from 'node:assert/strict';
import * as os from 'os';
import * as path from 'path';
import { beforeEach, describe, it } from 'node:test';
import * as vscode from 'vscode';
import { changeEvent, mock } from './vscode-mock';
import {
    actionForChange,
    DEFAULTS,
    expandVariables,
    initializationOptions,
    isOffline,
    readServerSettings,
    serverEnvironment,
} from '../src/settings';

const config = () => vscode.workspace.getConfiguration('malhug');

describe('readServerSettings', () => {
    beforeEach(() => mock.reset());

    it('returns the defaults when nothing is set', () => {
        assert.deepEqual(readServerSettings(config()), DEFAULTS);
    });

    it('ignores a workspace hubEndpoint in Restricted Mode (it decides where the token goes)', () => {
        mock.layers.malhug = {
            hubEndpoint: { defaultValue: '', globalValue: 'http://127.0.0.1:9/', workspaceValue: 'http://10.0.0.1:8/' },
        };
        assert.equal(readServerSettings(config(), false).hubEndpoint, 'http://127.0.0.1:9');
        assert.equal(readServerSettings(config(), true).hubEndpoint, 'http://10.0.0.1:8');
        mock.layers.malhug = { hubEndpoint: { defaultValue: '', workspaceValue: 'http://10.0.0.1:8/' } };
        assert.equal(readServerSettings(config(), false).hubEndpoint, DEFAULTS.hubEndpoint);
    });

    it('passes every server setting through under the malhug section', () => {
        mock.configuration.malhug = {
            hubEndpoint: ' http://127.0.0.1:8123/ ',
            offline: true,
            severityThreshold: 'high',
            trustedRepos: ['acme/*', ' bert/base ', '', 7],
            maxDownload: 1024,
            historyDepth: 3,
            logLevel: 'debug',
            analyzeAllScripts: true,
            maxDocumentBytes: 4096,
            interpreter: ['/opt/py'],
        };
        const opts = initializationOptions(readServerSettings(config()));
        assert.deepEqual(opts, {
            malhug: {
                hubEndpoint: 'http://127.0.0.1:8123',
                offline: true,
                severityThreshold: 'high',
                trustedRepos: ['acme/*', 'bert/base'],
                maxDownload: 1024,
                historyDepth: 3,
                logLevel: 'debug',
                analyzeAllScripts: true,
                maxDocumentBytes: 4096,
            },
        });
        assert.equal('interpreter' in opts.malhug, false, 'the interpreter is the client’s business');
    });

    it('falls back to defaults for values of the wrong type or out of range', () => {
        mock.configuration.malhug = {
            offline: 'yes',
            severityThreshold: 'catastrophic',
            trustedRepos: 'acme/x',
            maxDownload: -5,
            historyDepth: 0,
            hubEndpoint: 'ftp://example.invalid',
            logLevel: 'TRACE',
            maxDocumentBytes: 64 * 1024 * 1024,
        };
        const s = readServerSettings(config());
        assert.equal(s.offline, false);
        assert.equal(s.hubEndpoint, '');
        assert.equal(s.severityThreshold, 'info');
        assert.deepEqual(s.trustedRepos, []);
        assert.equal(s.maxDownload, DEFAULTS.maxDownload);
        assert.equal(s.historyDepth, 20);
        assert.equal(s.logLevel, 'info');
        assert.equal(s.maxDocumentBytes, 8 * 1024 * 1024, 'over the 32 MiB maximum');
    });

    it('keeps integers inside the range package.json states, both ends included', () => {
        mock.configuration.malhug = { historyDepth: 1000, maxDocumentBytes: 1024, maxDownload: 2 ** 40 + 1 };
        const s = readServerSettings(config());
        assert.equal(s.historyDepth, 1000);
        assert.equal(s.maxDocumentBytes, 1024);
        assert.equal(s.maxDownload, DEFAULTS.maxDownload, 'over the 1 TiB maximum');
        mock.configuration.malhug = { historyDepth: 1001, maxDocumentBytes: 1023 };
        assert.equal(readServerSettings(config()).historyDepth, 20);
        assert.equal(readServerSettings(config()).maxDocumentBytes, DEFAULTS.maxDocumentBytes);
    });
});

describe('serverEnvironment', () => {
    it('sets HF_ENDPOINT and HF_HUB_OFFLINE from the settings and keeps the rest', () => {
        const env = serverEnvironment(
            { ...DEFAULTS, hubEndpoint: 'http://127.0.0.1:9', offline: true },
            { PATH: '/bin' },
        );
        assert.equal(env.HF_ENDPOINT, 'http://127.0.0.1:9');
        assert.equal(env.HF_HUB_OFFLINE, '1');
        assert.equal(env.PATH, '/bin');
    });

    it('leaves an inherited HF_ENDPOINT alone when the setting is empty', () => {
        const env = serverEnvironment(DEFAULTS, { HF_ENDPOINT: 'http://127.0.0.1:7' });
        assert.equal(env.HF_ENDPOINT, 'http://127.0.0.1:7');
        assert.equal(env.HF_HUB_OFFLINE, undefined);
    });
});

describe('isOffline', () => {
    it('follows the setting or HF_HUB_OFFLINE', () => {
        assert.equal(isOffline(DEFAULTS, {}), false);
        assert.equal(isOffline({ ...DEFAULTS, offline: true }, {}), true);
        assert.equal(isOffline(DEFAULTS, { HF_HUB_OFFLINE: '1' }), true);
        assert.equal(isOffline(DEFAULTS, { HF_HUB_OFFLINE: ' True ' }), true);
        assert.equal(isOffline(DEFAULTS, { HF_HUB_OFFLINE: '0' }), false);
    });
});

describe('actionForChange', () => {
    it('restarts on interpreter, endpoint and offline changes', () => {
        for (const key of ['malhug.interpreter', 'malhug.hubEndpoint', 'malhug.offline']) {
            assert.equal(actionForChange(changeEvent([key]) as never), 'restart', key);
        }
    });

    it('only notifies the server for the other malhug settings', () => {
        for (const key of [
            'malhug.severityThreshold',
            'malhug.trustedRepos',
            'malhug.logLevel',
            'malhug.historyDepth',
        ]) {
            assert.equal(actionForChange(changeEvent([key]) as never), 'notify', key);
        }
    });

    it('ignores other sections', () => {
        assert.equal(actionForChange(changeEvent(['python.defaultInterpreterPath']) as never), 'none');
    });
});

describe('expandVariables', () => {
    it('expands workspaceFolder, userHome, env and a leading tilde', () => {
        assert.equal(expandVariables('${workspaceFolder}/.venv/bin/python', '/ws', {}), '/ws/.venv/bin/python');
        assert.equal(expandVariables('${userHome}/py', undefined, {}), `${os.homedir()}/py`);
        assert.equal(expandVariables('${env:VENV}/bin/python', undefined, { VENV: '/v' }), '/v/bin/python');
        assert.equal(expandVariables('~/x/python', undefined, {}), path.join(os.homedir(), 'x/python'));
    });

    it('keeps ${workspaceFolder} when there is no folder and does not touch other text', () => {
        assert.equal(expandVariables('${workspaceFolder}/p', undefined, {}), '${workspaceFolder}/p');
        assert.equal(expandVariables('/a~b/${other}', '/ws', {}), '/a~b/${other}');
    });
});
