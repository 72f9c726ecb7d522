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

export async function showMarkdown(markdown: string, log: (msg: string) => void): Promise<void> {
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: markdown });
    await vscode.window.showTextDocument(doc, { preview: false });
    try {
        await vscode.commands.executeCommand('markdown.showPreviewToSide', doc.uri);
    } catch (err) {
        log(`no Markdown preview (${String(err)}); the report is shown as a document`);
    }
}
