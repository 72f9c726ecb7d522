// The `malhug.*` settings: what the language server receives (initializationOptions and
// workspace/didChangeConfiguration) and which changes need a restart of the server.
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { BOUNDS, CHOICES, DEFAULTS, type ServerSettings } from './generated/settings';
import { OFFLINE_VALUES } from './generated/server';

export const SECTION = 'malhug';

// The settings the server understands, their defaults, values and ranges: generated from package.json
// (contributes.configuration) by `make lists`; tests/lists checks package.json against server/settings.py.
export { DEFAULTS, type ServerSettings };
export type Severity = ServerSettings['severityThreshold'];
export type LogLevel = ServerSettings['logLevel'];

function pick<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
    return typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

function intIn(value: unknown, bounds: { minimum: number; maximum: number }, fallback: number): number {
    return typeof value === 'number' && Number.isInteger(value) && value >= bounds.minimum && value <= bounds.maximum
        ? value
        : fallback;
}

/** Settings that choose what runs (or where the token goes): their workspace values wait for trust. */
export const RESTRICTED_SETTINGS = ['interpreter', 'hubEndpoint'];

/**
 * The value of a setting as it applies: all levels in a trusted workspace; in Restricted Mode only
 * the user's (global) value or the default for the restricted settings, whatever the workspace says.
 */
export function effectiveSetting(config: vscode.WorkspaceConfiguration, key: string, trusted: boolean): unknown {
    if (trusted || !RESTRICTED_SETTINGS.includes(key)) {
        return config.get<unknown>(key);
    }
    const layers = config.inspect<unknown>(key);
    return layers?.globalValue ?? layers?.defaultValue;
}

/** True when a workspace or folder value of `key` is being ignored because the folder is not trusted. */
export function ignoredWorkspaceValue(config: vscode.WorkspaceConfiguration, key: string, trusted: boolean): boolean {
    if (trusted) {
        return false;
    }
    const layers = config.inspect<unknown>(key);
    return layers?.workspaceValue !== undefined || layers?.workspaceFolderValue !== undefined;
}

/**
 * Reads and validates the server settings; a wrong type falls back to the default, never to garbage.
 * `trusted` false (Restricted Mode): the workspace's hubEndpoint is ignored.
 */
export function readServerSettings(config: vscode.WorkspaceConfiguration, trusted = true): ServerSettings {
    const trustedRepos = config.get<unknown>('trustedRepos');
    const endpoint = effectiveSetting(config, 'hubEndpoint', trusted);
    const url = typeof endpoint === 'string' ? endpoint.trim().replace(/\/+$/, '') : '';
    return {
        hubEndpoint: /^https?:\/\//.test(url) ? url : DEFAULTS.hubEndpoint,
        offline: config.get<unknown>('offline') === true,
        severityThreshold: pick(
            config.get<unknown>('severityThreshold'),
            CHOICES.severityThreshold,
            DEFAULTS.severityThreshold,
        ),
        trustedRepos: Array.isArray(trustedRepos)
            ? trustedRepos.filter((r): r is string => typeof r === 'string' && r.trim() !== '').map((r) => r.trim())
            : [],
        maxDownload: intIn(config.get<unknown>('maxDownload'), BOUNDS.maxDownload, DEFAULTS.maxDownload),
        historyDepth: intIn(config.get<unknown>('historyDepth'), BOUNDS.historyDepth, DEFAULTS.historyDepth),
        logLevel: pick(config.get<unknown>('logLevel'), CHOICES.logLevel, DEFAULTS.logLevel),
        analyzeAllScripts: config.get<unknown>('analyzeAllScripts') === true,
        maxDocumentBytes: intIn(
            config.get<unknown>('maxDocumentBytes'),
            BOUNDS.maxDocumentBytes,
            DEFAULTS.maxDocumentBytes,
        ),
    };
}

/** `initializationOptions` as the server reads them: the settings under their section name. */
export function initializationOptions(settings: ServerSettings): { malhug: ServerSettings } {
    return { malhug: settings };
}

/**
 * Environment for the server process: the Hub endpoint and offline switch are also read by
 * huggingface_hub itself at import time, so they are passed as HF_ENDPOINT / HF_HUB_OFFLINE.
 */
export function serverEnvironment(settings: ServerSettings, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...base, PYTHONUNBUFFERED: '1' };
    if (settings.hubEndpoint) {
        env.HF_ENDPOINT = settings.hubEndpoint;
    }
    if (settings.offline) {
        env.HF_HUB_OFFLINE = '1';
    }
    return env;
}

/** Offline when the setting says so or the environment does (HF_HUB_OFFLINE=1/true/yes/on, as huggingface_hub reads it). */
export function isOffline(settings: ServerSettings, env: NodeJS.ProcessEnv): boolean {
    return settings.offline || OFFLINE_VALUES.includes((env.HF_HUB_OFFLINE ?? '').trim().toLowerCase());
}

/** Settings whose change needs a new server process (the interpreter, and what goes into its env). */
export const RESTART_SETTINGS = ['interpreter', 'hubEndpoint', 'offline'].map((k) => `${SECTION}.${k}`);

export type ChangeAction = 'restart' | 'notify' | 'none';

export function actionForChange(event: vscode.ConfigurationChangeEvent): ChangeAction {
    if (RESTART_SETTINGS.some((key) => event.affectsConfiguration(key))) {
        return 'restart';
    }
    return event.affectsConfiguration(SECTION) ? 'notify' : 'none';
}

/** Expands `~` and `${workspaceFolder}` / `${userHome}` / `${env:NAME}` in an interpreter setting. */
export function expandVariables(value: string, workspaceFolder: string | undefined, env: NodeJS.ProcessEnv): string {
    let out = value.replace(
        /\$\{(workspaceFolder|userHome|env:([A-Za-z_][A-Za-z0-9_]*))\}/g,
        (whole, name, envName) => {
            if (name === 'workspaceFolder') {
                return workspaceFolder ?? whole;
            }
            if (name === 'userHome') {
                return os.homedir();
            }
            return env[envName as string] ?? '';
        },
    );
    if (out === '~' || out.startsWith('~/')) {
        out = path.join(os.homedir(), out.slice(1));
    }
    return out;
}
