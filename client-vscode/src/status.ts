// The status-bar item: what the server is doing (starting, scanning with progress, ready, failed),
// how many MalHug findings are open, and whether the hub is used offline.
import * as vscode from 'vscode';
import type {
    ProgressToken,
    WorkDoneProgressBegin,
    WorkDoneProgressEnd,
    WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import { DIAGNOSTIC_SOURCE } from './constants';

export type ProgressValue = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

export type ServerState = 'starting' | 'ready' | 'stopped' | 'error';

export interface StatusModel {
    server: ServerState;
    /** Active scans (by $/progress token): latest message and percentage if reported. */
    scans: Map<string | number, { title: string; message?: string; percentage?: number }>;
    findings: number;
    offline: boolean;
    detail?: string;
}

export function newStatusModel(): StatusModel {
    return { server: 'starting', scans: new Map(), findings: 0, offline: false };
}

export interface StatusView {
    text: string;
    tooltip: string;
    error: boolean;
}

/** Pure rendering of the model, so it can be unit-tested without VS Code. */
export function renderStatus(m: StatusModel): StatusView {
    const offline = m.offline ? ' $(cloud-offline)' : '';
    const offlineTip = m.offline ? '\nOffline: hub references are checked against the local cache only.' : '';
    if (m.server === 'error') {
        return {
            text: '$(error) MalHug',
            tooltip: `MalHug: the language server is not running${m.detail ? `: ${m.detail}` : ''}.\nClick to show the output.`,
            error: true,
        };
    }
    if (m.server === 'stopped') {
        return { text: '$(circle-slash) MalHug', tooltip: 'MalHug: the language server is stopped.', error: false };
    }
    if (m.server === 'starting') {
        return {
            text: `$(loading~spin) MalHug${offline}`,
            tooltip: `MalHug: starting the language server…${offlineTip}`,
            error: false,
        };
    }
    if (m.scans.size > 0) {
        const scans = [...m.scans.values()];
        const last = scans[scans.length - 1];
        const pct = last.percentage !== undefined ? ` ${Math.round(Math.max(0, Math.min(100, last.percentage)))}%` : '';
        const lines = scans.map((s) => `${s.title}${s.message ? `: ${s.message}` : ''}`);
        return {
            text: `$(sync~spin) MalHug: scanning${pct}${offline}`,
            tooltip: `MalHug is scanning\n${lines.join('\n')}${offlineTip}`,
            error: false,
        };
    }
    const n = m.findings;
    const count = n === 0 ? 'no findings' : n === 1 ? '1 finding' : `${n} findings`;
    return {
        text: `${n > 0 ? '$(shield) ' : '$(check) '}MalHug: ${n}${offline}`,
        tooltip: `MalHug: ${count} in open files.${offlineTip}\nClick to show the Problems panel.`,
        error: false,
    };
}

/** Counts diagnostics published by the MalHug server (their source is DIAGNOSTIC_SOURCE) over all files. */
export function countFindings(all: ReadonlyArray<[vscode.Uri, ReadonlyArray<vscode.Diagnostic>]>): number {
    let n = 0;
    for (const [, diagnostics] of all) {
        n += diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE).length;
    }
    return n;
}

export class StatusBar implements vscode.Disposable {
    readonly model = newStatusModel();
    private readonly item: vscode.StatusBarItem;

    constructor() {
        this.item = vscode.window.createStatusBarItem('malhug.status', vscode.StatusBarAlignment.Left, 10);
        this.item.name = 'MalHug';
        this.refresh();
        this.item.show();
    }

    update(change: (m: StatusModel) => void): void {
        change(this.model);
        this.refresh();
    }

    private refresh(): void {
        const view = renderStatus(this.model);
        this.item.text = view.text;
        this.item.tooltip = view.tooltip;
        this.item.command = view.error ? 'malhug.showOutput' : 'workbench.actions.view.problems';
        this.item.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    }

    dispose(): void {
        this.item.dispose();
    }
}

/** Applies one progress value to the map of running scans (used by the status bar). */
export function applyProgress(
    scans: Map<string | number, { title: string; message?: string; percentage?: number }>,
    token: ProgressToken,
    value: ProgressValue,
): void {
    if (value.kind === 'begin') {
        scans.set(token, { title: value.title, message: value.message, percentage: value.percentage });
    } else if (value.kind === 'report') {
        const prev = scans.get(token) ?? { title: 'MalHug' };
        scans.set(token, {
            title: prev.title,
            message: value.message ?? prev.message,
            percentage: value.percentage ?? prev.percentage,
        });
    } else {
        scans.delete(token);
    }
}
