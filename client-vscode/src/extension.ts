// MalHug for VS Code: starts `python -m malhug lsp` and shows what it finds.
import * as fs from 'fs';
import * as vscode from 'vscode';
import {
    ExecuteCommandRequest,
    DidChangeConfigurationNotification,
    LanguageClient,
    LanguageClientOptions,
    ServerOptions,
    State,
} from 'vscode-languageclient/node';
import { MODEL_FILES, SERVER_COMMANDS } from './constants';
import { watchProgress } from './progress';
import { installPrivateEnv } from './install';
import { envDir, envPython } from './privateenv';
import { checkMalhugImportable, findInterpreter, getPythonApi, Interpreter, PythonEnvironmentsApi } from './python';
import { scanNotice } from './scanresult';
import { askReference, reportReference, reportToMarkdown, showMarkdown } from './report';
import {
    actionForChange,
    initializationOptions,
    isOffline,
    readServerSettings,
    SECTION,
    serverEnvironment,
} from './settings';
import { applyProgress, countFindings, StatusBar } from './status';
import { ServerLogChannel } from './logchannel';

class MalhugExtension implements vscode.Disposable {
    private client: LanguageClient | undefined;
    private clientDisposables: vscode.Disposable[] = [];
    private readonly disposables: vscode.Disposable[] = [];
    private readonly output: vscode.LogOutputChannel;
    private readonly status: StatusBar;
    private pythonApi: PythonEnvironmentsApi | undefined;
    private interpreter: Interpreter | undefined;
    private starting: Promise<void> | undefined;
    private scanProgress: vscode.Progress<{ message?: string }> | undefined;

    constructor(
        private readonly storage: vscode.Uri,
        private readonly extensionPath: string,
        private readonly version: string,
    ) {
        this.output = vscode.window.createOutputChannel('MalHug', { log: true });
        this.status = new StatusBar();
        this.disposables.push(this.output, this.status);
    }

    async activate(): Promise<void> {
        const reg = (id: string, fn: (...args: unknown[]) => unknown) =>
            this.disposables.push(vscode.commands.registerCommand(id, fn));
        reg('malhug.showOutput', () => this.output.show(true));
        reg('malhug.restartServer', () => this.restart('requested by the user'));
        this.disposables.push(
            vscode.workspace.onDidGrantWorkspaceTrust(() => void this.restart('the folder is now trusted')),
            vscode.workspace.onDidChangeConfiguration((e) => this.onConfigurationChanged(e)),
            vscode.languages.onDidChangeDiagnostics(() =>
                this.status.update((m) => (m.findings = countFindings(vscode.languages.getDiagnostics()))),
            ),
        );
        this.pythonApi = await getPythonApi((msg) => this.output.warn(msg));
        if (this.pythonApi) {
            this.disposables.push(
                this.pythonApi.onDidChangeActiveEnvironmentPath(() => {
                    if (this.interpreter?.source !== 'setting') {
                        void this.restart('the selected Python interpreter changed');
                    }
                }),
            );
        }
        await this.restart('activation');
    }

    private onConfigurationChanged(e: vscode.ConfigurationChangeEvent): void {
        const action = actionForChange(e);
        if (action === 'restart') {
            void this.restart('settings changed');
        } else if (action === 'notify' && this.client?.isRunning()) {
            const settings = readServerSettings(vscode.workspace.getConfiguration(SECTION), vscode.workspace.isTrusted);
            this.output.info(`sending changed settings: ${JSON.stringify(settings)}`);
            this.status.update((m) => (m.offline = isOffline(settings, process.env)));
            void this.client.sendNotification(DidChangeConfigurationNotification.type, {
                settings: initializationOptions(settings),
            });
        }
    }

    /** Serialized: a second request waits for the first one, then starts again. Never rejects. */
    restart(reason: string): Promise<void> {
        const previous = this.starting ?? Promise.resolve();
        this.starting = previous
            .then(() => this.doRestart(reason))
            .catch((err) => {
                this.output.error(`restart failed: ${String(err)}`);
                this.status.update((m) => {
                    m.server = 'error';
                    m.detail = String(err);
                });
            });
        return this.starting;
    }

    private async stopClient(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        this.clientDisposables.forEach((d) => d.dispose());
        this.clientDisposables = [];
        await vscode.commands.executeCommand('setContext', 'malhug.serverRunning', false);
        if (client) {
            try {
                await client.stop(5000);
            } catch (err) {
                this.output.warn(`stopping the server: ${String(err)}`);
            }
            await client.dispose();
        }
    }

    private async doRestart(reason: string): Promise<void> {
        this.output.info(`(re)starting the MalHug server: ${reason}`);
        await this.stopClient();
        const settings = readServerSettings(vscode.workspace.getConfiguration(SECTION), vscode.workspace.isTrusted);
        this.status.update((m) => {
            m.server = 'starting';
            m.offline = isOffline(settings, process.env);
            m.scans.clear();
            m.detail = undefined;
        });
        const trusted = vscode.workspace.isTrusted;
        if (!trusted) {
            this.output.info(
                'Restricted Mode: the folder is not trusted; MalHug runs, with the interpreter from user settings only',
            );
        }
        const preferred = await findInterpreter({
            pythonApi: this.pythonApi,
            trusted,
            log: (msg) => this.output.info(msg),
        });
        this.output.info(`interpreter (${preferred.source}): ${preferred.command.join(' ')}`);
        const interpreter = await this.firstWithMalhug(preferred);
        if (!interpreter) {
            this.status.update((m) => {
                m.server = 'error';
                m.detail = `malhug is not installed for ${preferred.command[0]}`;
            });
            return;
        }
        this.interpreter = interpreter;
        const [command, ...args] = interpreter.command;
        const cwd = this.storage.fsPath;
        fs.mkdirSync(cwd, { recursive: true });
        const serverOptions: ServerOptions = {
            command,
            // No `transport`: TransportKind.stdio would append `--stdio`, which `malhug lsp` does not take.
            // -P: the current folder is not on sys.path (the cwd is the extension's storage anyway).
            args: [...args, '-P', '-m', 'malhug', 'lsp'],
            options: { cwd, env: serverEnvironment(settings, process.env) },
        };
        const watcher = vscode.workspace.createFileSystemWatcher(MODEL_FILES);
        this.clientDisposables.push(watcher);
        const clientOptions: LanguageClientOptions = {
            documentSelector: [
                { scheme: 'file', language: 'python' },
                { scheme: 'untitled', language: 'python' },
            ],
            synchronize: { fileEvents: watcher },
            initializationOptions: initializationOptions(settings),
            outputChannel: new ServerLogChannel(this.output),
            middleware: {
                executeCommand: (cmd, cmdArgs, next) => this.executeCommand(cmd, cmdArgs, next),
                workspace: {
                    // The server asks for its section too: the same values as initializationOptions.
                    configuration: async (params, token, next) => {
                        const answer = await next(params, token);
                        return Array.isArray(answer)
                            ? answer.map((value, i) =>
                                  params.items[i]?.section === SECTION && value && typeof value === 'object'
                                      ? { ...value, hubEndpoint: this.currentSettings().hubEndpoint }
                                      : value,
                              )
                            : answer;
                    },
                },
            },
        };
        const client = new LanguageClient('malhug', 'MalHug', serverOptions, clientOptions);
        this.client = client;
        this.clientDisposables.push(
            client.onDidChangeState((e) => {
                if (e.newState === State.Stopped && this.client === client) {
                    this.status.update((m) => {
                        m.server = 'error';
                        m.detail = 'the server stopped';
                        m.scans.clear();
                    });
                    void vscode.commands.executeCommand('setContext', 'malhug.serverRunning', false);
                }
            }),
        );
        try {
            await client.start();
        } catch (err) {
            this.output.error(`the MalHug server did not start: ${String(err)}`);
            this.status.update((m) => {
                m.server = 'error';
                m.detail = String(err);
            });
            return;
        }
        this.clientDisposables.push(
            watchProgress(client, (token, value) => {
                if (value.kind !== 'report') {
                    this.output.info(
                        `progress ${String(token)} ${value.kind}${value.kind === 'begin' ? `: ${value.title}` : ''}`,
                    );
                }
                if (value.kind === 'report' && value.message) {
                    this.scanProgress?.report({ message: value.message });
                }
                this.status.update((m) => applyProgress(m.scans, token, value));
            }),
            ...this.registerMissingServerCommands(client),
        );
        await vscode.commands.executeCommand('setContext', 'malhug.serverRunning', true);
        this.status.update((m) => (m.server = 'ready'));
        this.output.info('the MalHug server is running');
    }

    /**
     * The interpreter that runs the server: the preferred one (setting, Python extension) when it has
     * MalHug, else the private environment made by "Install MalHug…", else `python3`. None: the user is
     * offered the installation.
     */
    private async firstWithMalhug(preferred: Interpreter): Promise<Interpreter | undefined> {
        const candidates: Interpreter[] = preferred.source === 'default' ? [] : [preferred];
        const privatePython = envPython(envDir(this.storage.fsPath));
        if (fs.existsSync(privatePython)) {
            candidates.push({ command: [privatePython], source: 'private-env' });
        }
        if (preferred.source === 'default') {
            candidates.push(preferred);
        }
        const failures: string[] = [];
        let first = '';
        for (const candidate of candidates) {
            const check = await checkMalhugImportable(candidate.command);
            if (check.ok) {
                failures.forEach((f) => this.output.info(f));
                this.output.info(`found ${check.detail} with ${candidate.command.join(' ')} (${candidate.source})`);
                return candidate;
            }
            first = first || check.detail;
            failures.push(`malhug is not importable with ${candidate.command.join(' ')}: ${check.detail}`);
        }
        failures.forEach((f) => this.output.error(f));
        void this.offerInstall(preferred, first);
        return undefined;
    }

    /**
     * The client registers the commands the server announces (executeCommandProvider). Those it did
     * not announce still get a palette entry that forwards to the server, so they never vanish.
     */
    private registerMissingServerCommands(client: LanguageClient): vscode.Disposable[] {
        const announced = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
        return SERVER_COMMANDS.filter((c) => !announced.includes(c)).map((c) =>
            vscode.commands.registerCommand(c, (...args: unknown[]) =>
                this.executeCommand(c, args, (cmd, a) =>
                    client.sendRequest(ExecuteCommandRequest.type, { command: cmd, arguments: a }),
                ),
            ),
        );
    }

    private async executeCommand(
        command: string,
        args: unknown[],
        next: (command: string, args: unknown[]) => unknown,
    ): Promise<unknown> {
        if (command === 'malhug.showReport') {
            if (args.length === 0) {
                const asked = await askReference();
                if (!asked) {
                    return undefined;
                }
                args = [asked];
            }
            const result = await next(command, args);
            const reference = reportReference(result, args[0]);
            const folder = vscode.Uri.joinPath(this.storage, 'reports');
            await showMarkdown(reportToMarkdown(result, reference), reference, folder, (msg) => this.output.warn(msg));
            return result;
        }
        if (command === 'malhug.scanWorkspace') {
            const result = await vscode.window.withProgress(
                { location: vscode.ProgressLocation.Notification, title: 'MalHug: scanning the workspace' },
                async (progress) => {
                    this.scanProgress = progress;
                    try {
                        return await next(command, args);
                    } finally {
                        this.scanProgress = undefined;
                    }
                },
            );
            this.output.info(`workspace scan finished: ${JSON.stringify(result) ?? 'no result'}`);
            void this.showScanNotice(result);
            return result;
        }
        if (command === 'malhug.clearCache') {
            const result = await next(command, args);
            void vscode.window.showInformationMessage('MalHug: the verdict cache was cleared.');
            return result;
        }
        return next(command, args);
    }

    private async showScanNotice(result: unknown): Promise<void> {
        const notice = scanNotice(result);
        const show =
            notice.level === 'error'
                ? vscode.window.showErrorMessage
                : notice.level === 'warning'
                  ? vscode.window.showWarningMessage
                  : vscode.window.showInformationMessage;
        if ((await show(notice.text, 'Show Problems')) === 'Show Problems') {
            await vscode.commands.executeCommand('workbench.actions.view.problems');
        }
    }

    private async offerInstall(interpreter: Interpreter, detail: string): Promise<void> {
        const install = 'Install MalHug…';
        const select = 'Select Interpreter';
        const choice = await vscode.window.showErrorMessage(
            `MalHug cannot start: "import malhug" fails with ${interpreter.command.join(' ')} (${detail}). ` +
                "Install MalHug into the extension's own environment (no global interpreter is changed), " +
                'or select an interpreter that has it.',
            install,
            select,
            'Show Output',
        );
        if (choice === install) {
            const installed = await installPrivateEnv({
                output: this.output,
                storage: this.storage.fsPath,
                extensionPath: this.extensionPath,
                version: this.version,
                preferred: interpreter.source === 'default' ? [] : [interpreter.command],
            });
            if (installed) {
                await this.restart('MalHug was installed');
            }
        } else if (choice === select) {
            if (this.pythonApi) {
                await vscode.commands.executeCommand('python.setInterpreter');
            } else {
                await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.interpreter`);
            }
        } else if (choice === 'Show Output') {
            this.output.show(true);
        }
    }

    private currentSettings() {
        return readServerSettings(vscode.workspace.getConfiguration(SECTION), vscode.workspace.isTrusted);
    }

    async dispose(): Promise<void> {
        await this.stopClient();
        this.disposables.forEach((d) => d.dispose());
    }
}

let extension: MalhugExtension | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
    const version = String((context.extension.packageJSON as { version?: unknown }).version ?? '0.0.0');
    extension = new MalhugExtension(context.globalStorageUri, context.extensionPath, version);
    context.subscriptions.push({ dispose: () => void extension?.dispose() });
    await extension.activate();
}

export async function deactivate(): Promise<void> {
    await extension?.dispose();
    extension = undefined;
}
