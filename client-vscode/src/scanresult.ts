// The result of "MalHug: Scan Workspace" as the notification a user sees.

export interface ScanNotice {
    level: 'error' | 'warning' | 'info';
    text: string;
}

function count(result: Record<string, unknown>, key: string): number {
    const value = result[key];
    return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** "MalHug: 12 model files scanned: 1 malicious, 0 suspicious, 0 errors", as an error when something is malicious. */
export function scanNotice(result: unknown): ScanNotice {
    if (!result || typeof result !== 'object') {
        return { level: 'error', text: 'MalHug: the workspace scan returned no result; see the MalHug output.' };
    }
    const r = result as Record<string, unknown>;
    if (typeof r.error === 'string') {
        return { level: 'error', text: `MalHug: the workspace scan failed: ${r.error}` };
    }
    const summary =
        typeof r.summary === 'string'
            ? r.summary
            : `${count(r, 'modelFiles')} model file(s) scanned: ${count(r, 'malicious')} malicious, ` +
              `${count(r, 'suspicious')} suspicious, ${count(r, 'errors')} errors`;
    const level =
        count(r, 'malicious') > 0
            ? 'error'
            : count(r, 'suspicious') > 0 || count(r, 'errors') > 0 || r.truncated === true
              ? 'warning'
              : 'info';
    return { level, text: `MalHug: ${summary}.` };
}
