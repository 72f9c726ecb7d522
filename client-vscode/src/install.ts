// "Install MalHug…": the user-facing flow around privateenv.ts (find a Python, ask before using the
// package index, run the steps with progress, show pip's output tail on failure).
import * as vscode from 'vscode';
import { runProcess } from './proc';
import {
    bundleFits,
    candidatePythons,
    describeProbes,
    envDir,
    findBasePython,
    installSteps,
    outputTail,
    Probe,
    readBundle,
    Step,
} from './privateenv';
import { SECTION } from './settings';

export interface InstallContext {
    output: vscode.LogOutputChannel;
    /** The extension's global storage folder: the environment goes into `<storage>/env`. */
    storage: string;
    extensionPath: string;
    /** The extension's version: the MalHug version installed from the index. */
    version: string;
    /** Interpreters to try first for the base Python (the setting, the Python extension's). */
    preferred: string[][];
    /** For tests: how a Python is asked for its version, and this machine's platform. */
    probe?: (command: string[]) => Promise<Probe>;
    platform?: string;
}

/**
 * Creates `<storage>/env` with a Python >= 3.11 and installs MalHug into it: from the wheels in the
 * .vsix (offline) when they fit, else from the package index after a modal consent. Never pip-installs
 * into the interpreter it found.
 */
export async function installPrivateEnv(ctx: InstallContext): Promise<boolean> {
    ctx.output.show(true);
    const { found, tried } = await findBasePython(candidatePythons(ctx.preferred), ctx.probe);
    ctx.output.info(`Pythons tried: ${describeProbes(tried)}`);
    if (!found) {
        const choice = await vscode.window.showErrorMessage(
            `MalHug needs Python 3.11 or newer and found none (${describeProbes(tried)}). ` +
                'Install Python 3.11+ (for example `sudo apt install python3.11 python3.11-venv`, or from ' +
                'python.org), then run "MalHug: Restart Server"; or set malhug.interpreter to a Python 3.11+.',
            'Open Settings',
            'Show Output',
        );
        if (choice === 'Open Settings') {
            await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.interpreter`);
        } else if (choice === 'Show Output') {
            ctx.output.show(true);
        }
        return false;
    }
    const dir = envDir(ctx.storage);
    const bundle = readBundle(ctx.extensionPath);
    const platform = ctx.platform ?? `${process.platform}-${process.arch}`;
    const fromBundle = bundleFits(bundle, found, platform);
    ctx.output.info(
        `private environment ${dir} from Python ${found.version} (${found.executable}); ` +
            (fromBundle
                ? `offline, from ${bundle?.dir}`
                : bundle
                  ? `the bundled wheels are for Python ${bundle.python} on ${bundle.platform}`
                  : 'this build has no bundled wheels'),
    );
    if (!fromBundle) {
        const why = bundle
            ? `The wheels in the extension are for Python ${bundle.python} on ${bundle.platform}, ` +
              `not Python ${found.version} on ${platform}.`
            : 'This build of the extension has no bundled wheels.';
        const consent = 'Install from the Index';
        const answer = await vscode.window.showWarningMessage(
            'Download MalHug from the package index?',
            {
                modal: true,
                detail:
                    `${why} pip would download malhug==${ctx.version} and its dependencies from the ` +
                    `package index pip is configured with, into ${dir}, using Python ${found.version} ` +
                    `(${found.executable}). Nothing is installed into that Python itself.`,
            },
            consent,
        );
        if (answer !== consent) {
            ctx.output.info('installation from the package index declined');
            return false;
        }
    }
    const steps = installSteps({ base: found, dir, bundle, fromBundle, version: ctx.version, env: process.env });
    const failed = await vscode.window.withProgress(
        {
            location: vscode.ProgressLocation.Notification,
            title: `Installing MalHug (Python ${found.version}, ${found.executable})`,
        },
        (progress) => runSteps(ctx.output, steps, (title) => progress.report({ message: title })),
    );
    if (failed) {
        const choice = await vscode.window.showErrorMessage(
            `Installing MalHug failed while ${failed.step.title} (exit ${failed.code}): ${outputTail(failed.lines)}`,
            'Show Output',
        );
        if (choice === 'Show Output') {
            ctx.output.show(true);
        }
        return false;
    }
    ctx.output.info(`MalHug is installed in ${dir}`);
    void vscode.window.showInformationMessage(
        `MalHug is installed in its own environment (${dir}, Python ${found.version}).`,
    );
    return true;
}

/** Runs the steps in order; the first that fails, with its output, or undefined when all succeeded. */
async function runSteps(
    output: vscode.LogOutputChannel,
    steps: Step[],
    onStep: (title: string) => void,
): Promise<{ step: Step; code: number; lines: string[] } | undefined> {
    for (const step of steps) {
        onStep(step.title);
        output.info(`${step.title}: ${[step.command, ...step.args].join(' ')}`);
        const lines: string[] = [];
        const code = await runProcess(
            step.command,
            step.args,
            (line) => {
                lines.push(line);
                output.info(line);
            },
            step.env,
        );
        if (code !== 0) {
            output.error(`${step.title} failed (exit ${code})`);
            return { step, code, lines };
        }
    }
    return undefined;
}
