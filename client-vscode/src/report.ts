// "MalHug: Show Report": asks the server for the full report of a reference and shows it as a
// Markdown preview (an untitled Markdown document when the preview is unavailable).
import * as vscode from 'vscode';

const REFERENCE = /^hf:(datasets\/)?[A-Za-z0-9][\w.-]*\/[\w.-]+(@[\w./-]+)?$/;

/** Normalizes what a user types: `org/name`, `hf:org/name@rev`, `datasets/org/name`. */
export function normalizeReference(input: string): string | undefined {
    let ref = input.trim();
    if (!ref) {
        return undefined;
    }
    ref = ref.replace(/^https?:\/\/[^/]+\//, '');
    if (!ref.startsWith('hf:')) {
        ref = `hf:${ref}`;
    }
    return REFERENCE.test(ref) ? ref : undefined;
}

/** Turns whatever the server returned into Markdown: a string, {markdown}, {text} or a JSON report. */
export function reportToMarkdown(result: unknown, reference: string | undefined): string {
    if (typeof result === 'string') {
        return result;
    }
    if (result && typeof result === 'object') {
        const r = result as Record<string, unknown>;
        if (typeof r.error === 'string' && typeof r.markdown !== 'string') {
            return `# MalHug report${reference ? ` for \`${reference}\`` : ''}\n\nNo report: ${r.error}\n`;
        }
        if (typeof r.markdown === 'string') {
            return r.markdown;
        }
        if (typeof r.text === 'string') {
            return r.text;
        }
        return `# MalHug report${reference ? ` for \`${reference}\`` : ''}\n\n\`\`\`json\n${JSON.stringify(result, null, 2)}\n\`\`\`\n`;
    }
    return `# MalHug report${reference ? ` for \`${reference}\`` : ''}\n\nThe server returned no report.\n`;
}

export async function askReference(): Promise<string | undefined> {
    const editor = vscode.window.activeTextEditor;
    let guess = '';
    if (editor) {
        const range = editor.document.getWordRangeAtPosition(editor.selection.active, /["'][^"'\s]+\/[^"'\s]+["']/);
        if (range) {
            guess = editor.document.getText(range).slice(1, -1);
        }
    }
    const input = await vscode.window.showInputBox({
        title: 'MalHug: Show Report',
        prompt: 'Model or dataset reference: ORG/NAME, hf:ORG/NAME@REVISION or hf:datasets/ORG/NAME',
        value: guess,
        validateInput: (v) => (normalizeReference(v) ? undefined : 'Expected ORG/NAME or hf:ORG/NAME[@REVISION]'),
    });
    return input === undefined ? undefined : normalizeReference(input);
}

/** The reference a report is about: `hf:[datasets/]ORG/NAME[@REV]` from the server's report, else the argument. */
export function reportReference(result: unknown, argument: unknown): string | undefined {
    const report = (result as { report?: { repo_id?: unknown; repo_type?: unknown; commit_sha?: unknown } } | null)
        ?.report;
    if (report && typeof report.repo_id === 'string') {
        const kind = report.repo_type === 'dataset' ? 'datasets/' : '';
        const rev =
            typeof report.commit_sha === 'string' && report.commit_sha ? `@${report.commit_sha.slice(0, 12)}` : '';
        return `hf:${kind}${report.repo_id}${rev}`;
    }
    return typeof argument === 'string' && argument.startsWith('hf:') ? argument : undefined;
}

/** A file name for the report of `reference` (readable, no path separators). */
export function reportFileName(reference: string | undefined): string {
    const base = (reference ?? 'report')
        .replace(/^hf:/, '')
        .replace(/[^A-Za-z0-9._-]+/g, '_')
        .slice(0, 120);
    return `malhug-${base}.md`;
}

/**
 * Shows the report as a Markdown preview of a file in the extension's storage folder (a file, not an
 * untitled document, so closing it never asks to save); the file itself if there is no preview.
 */
export async function showMarkdown(
    markdown: string,
    reference: string | undefined,
    folder: vscode.Uri,
    log: (msg: string) => void,
): Promise<void> {
    const file = vscode.Uri.joinPath(folder, reportFileName(reference));
    await vscode.workspace.fs.createDirectory(folder);
    await vscode.workspace.fs.writeFile(file, Buffer.from(markdown, 'utf8'));
    try {
        await vscode.commands.executeCommand('markdown.showPreview', file);
    } catch (err) {
        log(`no Markdown preview (${String(err)}); the report is shown as a document`);
        await vscode.window.showTextDocument(file, { preview: false });
    }
}
