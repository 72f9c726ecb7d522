// The language client's view of the MalHug output channel. The client writes server log messages as
// "[Info  - 12:00:00] text" and the server's stderr as raw "LEVEL source: text" lines; both end up as
// one line of the log channel with its own level and time and a single prefix, the server's source
// ("server.workspace: w.pkl: malicious"), never "[Info - …] INFO malhug.server…: …".
import type * as vscode from 'vscode';

export type Level = 'error' | 'warn' | 'info' | 'debug' | 'trace';

const CLIENT_PREFIX = /^\[(Error|Warn|Info|Debug|Trace)\s*- [^\]]*\] ?/;
const STDERR_LEVEL = /^(CRITICAL|ERROR|WARNING|INFO|DEBUG) (?=\S+: )/;
const LEVELS: Record<string, Level> = {
    error: 'error',
    critical: 'error',
    warn: 'warn',
    warning: 'warn',
    info: 'info',
    debug: 'debug',
    trace: 'info', // the client's message traces (malhug.trace.server) are shown at the default level
};

/** The level and the text of one line the client or the server's stderr wrote. */
export function parseLine(line: string, fallback: Level): { level: Level; text: string } {
    const client = CLIENT_PREFIX.exec(line);
    if (client) {
        return { level: LEVELS[client[1].toLowerCase()], text: line.slice(client[0].length) };
    }
    const stderr = STDERR_LEVEL.exec(line);
    if (stderr) {
        return { level: LEVELS[stderr[1].toLowerCase()], text: line.slice(stderr[0].length) };
    }
    return { level: fallback, text: line };
}

type LogSink = Pick<vscode.LogOutputChannel, Level | 'name' | 'show' | 'hide' | 'clear'>;

/** An OutputChannel for the LanguageClient that writes into the log channel `log`, one level per line. */
export class ServerLogChannel implements vscode.OutputChannel {
    private pending = '';

    constructor(private readonly log: LogSink) {}

    get name(): string {
        return this.log.name;
    }

    /** stderr chunks: whole lines are written, a partial one waits for its end. */
    append(value: string): void {
        const lines = (this.pending + value).split(/\r?\n/);
        this.pending = lines.pop() ?? '';
        lines.filter((l) => l.trim() !== '').forEach((l) => this.write(l, 'info'));
    }

    appendLine(value: string): void {
        const lines = (this.pending + value).split(/\r?\n/);
        this.pending = '';
        const first = parseLine(lines[0], 'info');
        // A multi-line message (a traceback) stays one entry at its first line's level.
        this.log[first.level]([first.text, ...lines.slice(1)].join('\n'));
    }

    private write(line: string, fallback: Level): void {
        const { level, text } = parseLine(line, fallback);
        this.log[level](text);
    }

    replace(value: string): void {
        this.log.clear();
        this.append(value);
    }

    clear(): void {
        this.log.clear();
    }

    show(columnOrPreserve?: unknown, preserveFocus?: boolean): void {
        this.log.show(typeof columnOrPreserve === 'boolean' ? columnOrPreserve : preserveFocus);
    }

    hide(): void {
        this.log.hide();
    }

    dispose(): void {
        // The log channel belongs to the extension, which disposes it.
    }
}
