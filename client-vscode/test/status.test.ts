import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Diagnostic, Uri } from './vscode-mock';
import { applyProgress, countFindings, newStatusModel, renderStatus } from '../src/status';
import { normalizeReference, reportFileName, reportReference, reportToMarkdown } from '../src/report';

describe('status bar', () => {
    it('shows the findings count once the server is ready', () => {
        const m = newStatusModel();
        m.server = 'ready';
        assert.equal(renderStatus(m).text, '$(check) MalHug: 0');
        m.findings = 3;
        const v = renderStatus(m);
        assert.equal(v.text, '$(shield) MalHug: 3');
        assert.match(v.tooltip, /3 findings/);
        assert.equal(v.error, false);
    });

    it('shows scanning progress from $/progress begin/report/end', () => {
        const m = newStatusModel();
        m.server = 'ready';
        applyProgress(m.scans, 'tok', { kind: 'begin', title: 'Scanning workspace', percentage: 0 });
        assert.equal(renderStatus(m).text, '$(sync~spin) MalHug: scanning 0%');
        applyProgress(m.scans, 'tok', { kind: 'report', message: 'models/evil.bin', percentage: 42.4 });
        const v = renderStatus(m);
        assert.equal(v.text, '$(sync~spin) MalHug: scanning 42%');
        assert.match(v.tooltip, /Scanning workspace: models\/evil.bin/);
        applyProgress(m.scans, 'tok', { kind: 'end' });
        assert.equal(m.scans.size, 0);
        assert.equal(renderStatus(m).text, '$(check) MalHug: 0');
    });

    it('marks offline mode and server errors', () => {
        const m = newStatusModel();
        m.server = 'ready';
        m.offline = true;
        assert.equal(renderStatus(m).text, '$(check) MalHug: 0 $(cloud-offline)');
        assert.match(renderStatus(m).tooltip, /Offline/);
        m.server = 'error';
        m.detail = 'malhug is not installed for python3';
        const v = renderStatus(m);
        assert.equal(v.error, true);
        assert.match(v.tooltip, /not installed for python3/);
    });

    it('counts only diagnostics whose source is malhug', () => {
        const mk = (source: string) => Object.assign(new Diagnostic(undefined, 'x'), { source });
        const n = countFindings([
            [Uri.file('/a.py') as never, [mk('malhug'), mk('pylint')] as never],
            [Uri.file('/b.py') as never, [mk('malhug')] as never],
        ]);
        assert.equal(n, 2);
    });
});

describe('report', () => {
    it('normalizes references a user types', () => {
        assert.equal(normalizeReference('acme/bert'), 'hf:acme/bert');
        assert.equal(normalizeReference(' hf:acme/bert@0123abc '), 'hf:acme/bert@0123abc');
        assert.equal(normalizeReference('datasets/acme/squad'), 'hf:datasets/acme/squad');
        assert.equal(normalizeReference('https://huggingface.co/acme/bert'), 'hf:acme/bert');
        assert.equal(normalizeReference('not a ref'), undefined);
        assert.equal(normalizeReference(''), undefined);
    });

    it('renders strings, markdown fields and raw JSON reports', () => {
        assert.equal(reportToMarkdown('# hi', 'hf:a/b'), '# hi');
        assert.equal(reportToMarkdown({ markdown: '# md' }, undefined), '# md');
        const md = reportToMarkdown({ verdict: 'malicious' }, 'hf:a/b');
        assert.match(md, /# MalHug report for `hf:a\/b`/);
        assert.match(md, /"verdict": "malicious"/);
        assert.match(reportToMarkdown(null, undefined), /no report/);
        assert.match(reportToMarkdown({ error: 'give hf:ORG/NAME' }, 'x'), /No report: give hf:ORG\/NAME/);
    });

    it('takes the reference from the server report, else from an hf: argument', () => {
        const report = { report: { repo_id: 'acme/squad', repo_type: 'dataset', commit_sha: '0123456789abcdef0123' } };
        assert.equal(reportReference(report, 'file:///ws/a.py'), 'hf:datasets/acme/squad@0123456789ab');
        assert.equal(
            reportReference({ report: { repo_id: 'acme/bert', repo_type: 'model' } }, undefined),
            'hf:acme/bert',
        );
        assert.equal(reportReference({ error: 'x' }, 'hf:acme/bert@v1'), 'hf:acme/bert@v1');
        assert.equal(reportReference(undefined, 'file:///ws/a.py'), undefined);
    });

    it('names report files after the reference, without path separators', () => {
        assert.equal(reportFileName('hf:datasets/acme/squad@v1'), 'malhug-datasets_acme_squad_v1.md');
        assert.equal(reportFileName('hf:../../etc/passwd'), 'malhug-.._.._etc_passwd.md');
        assert.equal(reportFileName(undefined), 'malhug-report.md');
    });
});
