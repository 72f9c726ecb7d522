// Finds the Python interpreter that runs `python -m malhug lsp`, the way the Python tools extensions
// (black-formatter, pylint, isort) do: an explicit `malhug.interpreter` setting wins; otherwise the
// interpreter selected in the Python extension (its environments API); otherwise `python3`.
// In Restricted Mode (a folder that is not trusted) only the user's own values choose what runs: the
// workspace values of `malhug.interpreter` are ignored and the Python extension is not asked.
import { execFile } from 'child_process';
import * as vscode from 'vscode';
import { effectiveSetting, expandVariables, ignoredWorkspaceValue, SECTION } from './settings';

export { effectiveSetting, ignoredWorkspaceValue, RESTRICTED_SETTINGS } from './settings';

export const PYTHON_EXTENSION_ID = 'ms-python.python';

/** The part of the Python extension's public API (`environments`) that is used here. */
export interface PythonEnvironmentsApi {
    getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string };
    resolveEnvironment(
        environment: { id: string; path: string } | string,
    ): Promise<{ executable: { uri: vscode.Uri | undefined } } | undefined>;
    onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
}

export interface PythonExtensionApi {
    environments?: PythonEnvironmentsApi;
}

export type InterpreterSource = 'setting' | 'python-extension' | 'private-env' | 'default';

export interface Interpreter {
    /** Executable and leading arguments, e.g. ["/venv/bin/python"] or ["py", "-3"]. */
    command: string[];
    source: InterpreterSource;
}

export const DEFAULT_INTERPRETER = 'python3';

/** Returns the Python extension's API when it is installed (activating it), else undefined. */
export async function getPythonApi(log: (msg: string) => void): Promise<PythonEnvironmentsApi | undefined> {
    const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
    if (!extension) {
        return undefined;
    }
    try {
        const api = extension.isActive ? extension.exports : await extension.activate();
        return api?.environments;
    } catch (err) {
        log(`could not activate ${PYTHON_EXTENSION_ID}: ${String(err)}`);
        return undefined;
    }
}

/** The interpreter the Python extension has selected for `resource`, if it can be resolved. */
export async function interpreterFromPythonApi(
    api: PythonEnvironmentsApi,
    resource: vscode.Uri | undefined,
): Promise<string | undefined> {
    const active = api.getActiveEnvironmentPath(resource);
    const resolved = await api.resolveEnvironment(active);
    return resolved?.executable.uri?.fsPath;
}

export async function findInterpreter(options: {
    resource?: vscode.Uri;
    pythonApi?: PythonEnvironmentsApi;
    env?: NodeJS.ProcessEnv;
    log?: (msg: string) => void;
    /** vscode.workspace.isTrusted; false: Restricted Mode. */
    trusted?: boolean;
}): Promise<Interpreter> {
    const log = options.log ?? (() => undefined);
    const trusted = options.trusted ?? true;
    const folder = options.resource
        ? vscode.workspace.getWorkspaceFolder(options.resource)
        : vscode.workspace.workspaceFolders?.[0];
    const config = vscode.workspace.getConfiguration(SECTION, options.resource);
    if (ignoredWorkspaceValue(config, 'interpreter', trusted)) {
        log('Restricted Mode: the workspace value of malhug.interpreter is ignored until the folder is trusted');
    }
    const configured = effectiveSetting(config, 'interpreter', trusted);
    const items = Array.isArray(configured)
        ? configured.filter((s): s is string => typeof s === 'string' && s.trim() !== '')
        : typeof configured === 'string' && configured.trim() !== ''
          ? [configured]
          : [];
    if (items.length > 0) {
        const env = options.env ?? process.env;
        return { command: items.map((s) => expandVariables(s.trim(), folder?.uri.fsPath, env)), source: 'setting' };
    }
    if (options.pythonApi && !trusted) {
        log("Restricted Mode: the Python extension's interpreter is not used until the folder is trusted");
    } else if (options.pythonApi) {
        try {
            const exe = await interpreterFromPythonApi(options.pythonApi, options.resource ?? folder?.uri);
            if (exe) {
                return { command: [exe], source: 'python-extension' };
            }
            log('the Python extension has no interpreter selected');
        } catch (err) {
            log(`the Python extension could not resolve the interpreter: ${String(err)}`);
        }
    }
    return { command: [DEFAULT_INTERPRETER], source: 'default' };
}

export interface ImportCheck {
    ok: boolean;
    version?: string;
    detail: string;
}

/**
 * Runs `python -c "import malhug"` and reports the version or why it failed. Never throws. The current
 * folder is taken off `sys.path` first, so a `malhug/` folder in a workspace is never what gets imported.
 */
export function checkMalhugImportable(command: string[], timeoutMs = 20000): Promise<ImportCheck> {
    const [exe, ...args] = command;
    const code =
        'import sys; sys.path[:] = [p for p in sys.path if p not in ("", ".")]; ' +
        'import malhug; sys.stdout.write(getattr(malhug, "__version__", "?"))';
    return new Promise((resolve) => {
        execFile(exe, [...args, '-c', code], { timeout: timeoutMs }, (err, stdout, stderr) => {
            if (err) {
                const why = (stderr || String(err)).trim().split('\n').slice(-1)[0];
                resolve({ ok: false, detail: why });
            } else {
                resolve({ ok: true, version: stdout.trim(), detail: `malhug ${stdout.trim()}` });
            }
        });
    });
}
