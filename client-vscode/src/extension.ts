// MalHug for VS Code: starts `python -m malhug lsp` and shows what it finds.
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
import {
    checkMalhugImportable,
    findInterpreter,
    getPythonApi,
    installCommand,
    Interpreter,
    PythonEnvironmentsApi,
} from './python';
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
import { runProcess } from './proc';

class MalhugExtension implements vscode.Disposable {
    private client: LanguageClient | undefined;
    private clientDisposables: vscode.Disposable[] = [];
    private readonly disposables: vscode.Disposable[] = [];
    private readonly output: vscode.LogOutputChannel;
    private readonly status: StatusBar;
    private pythonApi: PythonEnvironmentsApi | undefined;
    private interpreter: Interpreter | undefined;
    private starting: Promise<void> | undefined;

    constructor(private readonly storage: vscode.Uri) {
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
            const settings = readServerSettings(vscode.workspace.getConfiguration(SECTION));
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
        const settings = readServerSettings(vscode.workspace.getConfiguration(SECTION));
        this.status.update((m) => {
            m.server = 'starting';
            m.offline = isOffline(settings, process.env);
            m.scans.clear();
            m.detail = undefined;
        });
        const interpreter = await findInterpreter({
            pythonApi: this.pythonApi,
            log: (msg) => this.output.info(msg),
        });
        this.interpreter = interpreter;
        this.output.info(`interpreter (${interpreter.source}): ${interpreter.command.join(' ')}`);
        const check = await checkMalhugImportable(interpreter.command);
        if (!check.ok) {
            this.output.error(`malhug is not importable with ${interpreter.command.join(' ')}: ${check.detail}`);
            this.status.update((m) => {
                m.server = 'error';
                m.detail = `malhug is not installed for ${interpreter.command[0]}`;
            });
            void this.offerInstall(interpreter, check.detail);
            return;
        }
        this.output.info(`found ${check.detail}`);
        const [command, ...args] = interpreter.command;
        const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
        const serverOptions: ServerOptions = {
            command,
            // No `transport`: TransportKind.stdio would append `--stdio`, which `malhug lsp` does not take.
            args: [...args, '-m', 'malhug', 'lsp'],
            options: { cwd: folder, env: serverEnvironment(settings, process.env) },
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
            outputChannel: this.output,
            middleware: {
                executeCommand: (cmd, cmdArgs, next) => this.executeCommand(cmd, cmdArgs, next),
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
                this.status.update((m) => applyProgress(m.scans, token, value));
            }),
            ...this.registerMissingServerCommands(client),
        );
        await vscode.commands.executeCommand('setContext', 'malhug.serverRunning', true);
        this.status.update((m) => (m.server = 'ready'));
        this.output.info('the MalHug server is running');
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
            const result = await next(command, args);
            this.output.info(`workspace scan finished: ${JSON.stringify(result) ?? 'no result'}`);
            return result;
        }
        if (command === 'malhug.clearCache') {
            const result = await next(command, args);
            void vscode.window.showInformationMessage('MalHug: the verdict cache was cleared.');
            return result;
        }
        return next(command, args);
    }

    private async offerInstall(interpreter: Interpreter, detail: string): Promise<void> {
        const install = 'Install MalHug…';
        const select = 'Select Interpreter';
        const choice = await vscode.window.showErrorMessage(
            `MalHug cannot start: "import malhug" fails with ${interpreter.command.join(' ')} (${detail}). ` +
                'Install it from a MalHug checkout or wheel (pip install <path>), or select another interpreter.',
            install,
            select,
            'Show Output',
        );
        if (choice === install) {
            await this.installInto(interpreter);
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

    /** `python -m pip install <folder or wheel>`: works offline from a checkout or a wheel file. */
    private async installInto(interpreter: Interpreter): Promise<void> {
        const picked = await vscode.window.showOpenDialog({
            title: 'MalHug project folder or wheel to install',
            canSelectFiles: true,
            canSelectFolders: true,
            canSelectMany: false,
            openLabel: 'Install',
        });
        if (!picked || picked.length === 0) {
            return;
        }
        const [exe, ...args] = installCommand(interpreter.command, picked[0].fsPath);
        this.output.show(true);
        this.output.info(`running: ${[exe, ...args].join(' ')}`);
        const code = await vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: 'Installing MalHug…' },
            () => runProcess(exe, args, (line) => this.output.info(line)),
        );
        if (code === 0) {
            await this.restart('MalHug was installed');
        } else {
            void vscode.window.showErrorMessage(`Installing MalHug failed (exit ${code}); see the MalHug output.`);
        }
    }

    async dispose(): Promise<void> {
        await this.stopClient();
        this.disposables.forEach((d) => d.dispose());
    }
}

let extension: MalhugExtension | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
    extension = new MalhugExtension(context.globalStorageUri);
    context.subscriptions.push({ dispose: () => void extension?.dispose() });
    await extension.activate();
}

export async function deactivate(): Promise<void> {
    await extension?.dispose();
    extension = undefined;
}
