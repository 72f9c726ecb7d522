// A tiny stand-in for the `vscode` module, enough for the units under test. Tests set
// `mock.configuration`, `mock.workspaceFolders` and `mock.extensions` to shape the world.
import * as path from 'path';

export class Uri {
    private constructor(
        readonly scheme: string,
        readonly fsPath: string,
    ) {}
    static file(p: string): Uri {
        return new Uri('file', path.resolve(p));
    }
    toString(): string {
        return `${this.scheme}://${this.fsPath}`;
    }
}

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
    private listeners: Listener<T>[] = [];
    readonly event = (listener: Listener<T>) => {
        this.listeners.push(listener);
        return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
    };
    fire(value: T): void {
        this.listeners.forEach((l) => l(value));
    }
    dispose(): void {
        this.listeners = [];
    }
}

export class ThemeColor {
    constructor(readonly id: string) {}
}

export enum StatusBarAlignment {
    Left = 1,
    Right = 2,
}

export class Diagnostic {
    source?: string;
    constructor(
        readonly range: unknown,
        readonly message: string,
    ) {}
}

interface FakeExtension {
    isActive: boolean;
    exports: unknown;
    activate(): Promise<unknown>;
}

/** Mutable state of the fake world; reset it in each test with `mock.reset()`. */
/** The levels of one setting, as `WorkspaceConfiguration.inspect` returns them. */
export interface Layers {
    defaultValue?: unknown;
    globalValue?: unknown;
    workspaceValue?: unknown;
    workspaceFolderValue?: unknown;
}

export const mock = {
    /** Effective values (`get`), as if set in the user settings. */
    configuration: {} as Record<string, Record<string, unknown>>,
    /** Settings given per level (`inspect`); `get` returns the most specific level. */
    layers: {} as Record<string, Record<string, Layers>>,
    trusted: true,
    workspaceFolders: [] as { uri: Uri; name: string; index: number }[],
    extensions: {} as Record<string, FakeExtension>,
    reset(): void {
        this.configuration = {};
        this.layers = {};
        this.trusted = true;
        this.workspaceFolders = [];
        this.extensions = {};
    },
};

export const workspace = {
    getConfiguration(section?: string) {
        const values = mock.configuration[section ?? ''] ?? {};
        const layers = mock.layers[section ?? ''] ?? {};
        const inspect = (key: string): Layers | undefined =>
            key in layers ? layers[key] : key in values ? { globalValue: values[key] } : undefined;
        return {
            get<T>(key: string, defaultValue?: T): T | undefined {
                const l = inspect(key);
                const value = l && (l.workspaceFolderValue ?? l.workspaceValue ?? l.globalValue ?? l.defaultValue);
                return value !== undefined ? (value as T) : defaultValue;
            },
            has: (key: string) => inspect(key) !== undefined,
            inspect,
        };
    },
    get isTrusted() {
        return mock.trusted;
    },
    get workspaceFolders() {
        return mock.workspaceFolders.length ? mock.workspaceFolders : undefined;
    },
    getWorkspaceFolder(uri: Uri) {
        return mock.workspaceFolders.find((f) => uri.fsPath.startsWith(f.uri.fsPath + path.sep));
    },
};

export const extensions = {
    getExtension(id: string) {
        return mock.extensions[id];
    },
};

/** A configuration change event that affects exactly the given keys (and their parent sections). */
export function changeEvent(keys: string[]) {
    return {
        affectsConfiguration: (section: string) => keys.some((k) => k === section || k.startsWith(section + '.')),
    };
}

export enum ProgressLocation {
    SourceControl = 1,
    Window = 10,
    Notification = 15,
}

/** What the code showed (`window.show*Message`) and ran (`commands.executeCommand`); `answer` picks a button. */
export const ui = {
    shown: [] as { kind: string; message: string; options?: unknown; items: string[] }[],
    progress: [] as string[],
    commands: [] as unknown[][],
    answer: undefined as string | undefined,
    reset(): void {
        this.shown = [];
        this.progress = [];
        this.commands = [];
        this.answer = undefined;
    },
};

function show(kind: string) {
    return async (message: string, ...rest: unknown[]) => {
        const options = rest.length && typeof rest[0] === 'object' ? rest.shift() : undefined;
        ui.shown.push({ kind, message, options, items: rest as string[] });
        return ui.answer;
    };
}

export const window = {
    showErrorMessage: show('error'),
    showWarningMessage: show('warning'),
    showInformationMessage: show('info'),
    async withProgress<T>(
        options: { title?: string },
        task: (p: { report(v: { message?: string }): void }) => Promise<T>,
    ): Promise<T> {
        ui.progress.push(options.title ?? '');
        return task({ report: (v) => void ui.progress.push(v.message ?? '') });
    },
};

export const commands = {
    async executeCommand(...args: unknown[]) {
        ui.commands.push(args);
        return undefined;
    },
};
