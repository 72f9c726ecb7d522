// "Install MalHug…": MalHug goes into a private virtual environment in the extension's storage, never
// into a global interpreter. The environment is created with a Python >= 3.11 found on this machine,
// then filled from the wheels the .vsix ships (bundled/wheels, offline) or, when they do not fit this
// Python or platform, from the package index after the user agreed.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const MIN_PYTHON: [number, number] = [3, 11];

/** A Python that was tried: its command, and what it answered (or why it could not run). */
export interface Probe {
    command: string[];
    executable?: string;
    version?: string;
    error?: string;
}

export interface BasePython {
    command: string[];
    executable: string;
    version: string;
}

/** The wheels in the .vsix (bundled/wheels/manifest.json, written by `make vsix`). */
export interface Bundle {
    dir: string;
    /** "3.11": the Python the binary wheels were built for. */
    python: string;
    /** `${process.platform}-${process.arch}` of the build, e.g. "linux-x64". */
    platform: string;
    /** The MalHug version in the bundle. */
    malhug: string;
    /** pip's wheel file name (pip runs from it: no ensurepip needed in the new environment). */
    pip?: string;
}

export interface Step {
    title: string;
    command: string;
    args: string[];
    env?: NodeJS.ProcessEnv;
}

const PROBE = 'import sys; sys.stdout.write(sys.executable + "\\n" + ".".join(map(str, sys.version_info[:3])))';

/** Asks `command` for its executable and version. Never throws. */
export function probePython(command: string[], timeoutMs = 15000): Promise<Probe> {
    const [exe, ...args] = command;
    return new Promise((resolve) => {
        execFile(exe, [...args, '-I', '-c', PROBE], { timeout: timeoutMs }, (err, stdout, stderr) => {
            const [executable, version] = String(stdout).trim().split('\n');
            if (err || !version) {
                const why = (String(stderr) || String(err)).trim().split('\n').slice(-1)[0];
                resolve({ command, error: why });
            } else {
                resolve({ command, executable, version });
            }
        });
    });
}

export function versionAtLeast(version: string, minimum: [number, number] = MIN_PYTHON): boolean {
    const [major, minor] = version.split('.').map((n) => parseInt(n, 10));
    return major > minimum[0] || (major === minimum[0] && minor >= minimum[1]);
}

/** The Pythons to try, in order: the given ones (setting, Python extension), then the usual names. */
export function candidatePythons(preferred: string[][]): string[][] {
    const names = ['python3.14', 'python3.13', 'python3.12', 'python3.11', 'python3', 'python'];
    const all = [...preferred, ...names.map((n) => [n])];
    const seen = new Set<string>();
    return all.filter((c) => {
        const key = c.join('\u0000');
        return c.length > 0 && !seen.has(key) && (seen.add(key), true);
    });
}

/** The first candidate that runs and is Python >= 3.11, and every probe made on the way. */
export async function findBasePython(
    candidates: string[][],
    probe: (command: string[]) => Promise<Probe> = probePython,
): Promise<{ found?: BasePython; tried: Probe[] }> {
    const tried: Probe[] = [];
    for (const command of candidates) {
        const result = await probe(command);
        tried.push(result);
        if (result.executable && result.version && versionAtLeast(result.version)) {
            return { found: { command, executable: result.executable, version: result.version }, tried };
        }
    }
    return { tried };
}

/** "python3 3.9.2 (/usr/bin/python3.9); python3.11: not found": what was tried, for the user. */
export function describeProbes(tried: Probe[]): string {
    return tried
        .map((p) => {
            const name = p.command.join(' ');
            if (p.version) {
                return `${name} ${p.version} (${p.executable})`;
            }
            return `${name}: ${/ENOENT/.test(p.error ?? '') ? 'not found' : (p.error ?? 'did not run')}`;
        })
        .join('; ');
}

export function envDir(storage: string): string {
    return path.join(storage, 'env');
}

export function envPython(dir: string, platform: NodeJS.Platform = process.platform): string {
    return platform === 'win32' ? path.join(dir, 'Scripts', 'python.exe') : path.join(dir, 'bin', 'python');
}

/** The bundled wheels of the extension at `extensionPath`, if the .vsix has them. */
export function readBundle(extensionPath: string): Bundle | undefined {
    const dir = path.join(extensionPath, 'bundled', 'wheels');
    try {
        const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Partial<Bundle>;
        if (typeof manifest.python !== 'string' || typeof manifest.platform !== 'string') {
            return undefined;
        }
        return {
            dir,
            python: manifest.python,
            platform: manifest.platform,
            malhug: typeof manifest.malhug === 'string' ? manifest.malhug : '',
            pip: typeof manifest.pip === 'string' ? manifest.pip : undefined,
        };
    } catch {
        return undefined; // no bundle in this .vsix (a development build): the index path, with consent
    }
}

/** Whether the bundle's binary wheels fit `base` on this machine. */
export function bundleFits(bundle: Bundle | undefined, base: BasePython, platform: string): boolean {
    const minor = base.version.split('.').slice(0, 2).join('.');
    return bundle !== undefined && bundle.python === minor && bundle.platform === platform;
}

/** Environment for pip on the offline path: no index, no configuration or PIP_* variable can add one. */
export function offlineEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(base)) {
        if (!k.toUpperCase().startsWith('PIP_')) {
            env[k] = v;
        }
    }
    env.PIP_CONFIG_FILE = process.platform === 'win32' ? 'nul' : '/dev/null';
    env.PIP_DISABLE_PIP_VERSION_CHECK = '1';
    return env;
}

/**
 * The commands that build the environment: create it (pip taken from the bundle when there is one,
 * so no ensurepip is needed), then install MalHug offline from the bundle (`fromBundle`) or from the index.
 */
export function installSteps(options: {
    base: BasePython;
    dir: string;
    bundle?: Bundle;
    fromBundle: boolean;
    version: string;
    env: NodeJS.ProcessEnv;
}): Step[] {
    const { base, dir, bundle } = options;
    const pipWheel = bundle?.pip ? path.join(bundle.dir, bundle.pip) : undefined;
    const create: Step = {
        title: `creating ${dir} with Python ${base.version} (${base.executable})`,
        // The full path the user was shown (a wrapper or launcher in the setting resolves to it).
        command: base.executable,
        args: ['-m', 'venv', '--clear', ...(pipWheel ? ['--without-pip'] : []), dir],
    };
    const python = envPython(dir);
    const pip = pipWheel ? [path.join(pipWheel, 'pip')] : ['-m', 'pip'];
    const common = ['install', '--no-input', '--disable-pip-version-check'];
    const install: Step =
        options.fromBundle && bundle
            ? {
                  title: `installing MalHug ${bundle.malhug} from the wheels in the extension (offline)`,
                  command: python,
                  args: [...pip, '--isolated', ...common, '--no-index', '--find-links', bundle.dir, 'malhug'],
                  env: offlineEnv(options.env),
              }
            : {
                  title: `installing MalHug ${options.version} from the package index`,
                  command: python,
                  args: [...pip, ...common, `malhug==${options.version}`],
                  env: options.env,
              };
    return [create, install];
}

/** The last `n` non-empty lines of a process's output, for an error message. */
export function outputTail(lines: string[], n = 6): string {
    return lines
        .filter((l) => l.trim() !== '')
        .slice(-n)
        .join('\n');
}
