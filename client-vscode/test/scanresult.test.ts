import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scanNotice } from '../src/scanresult';

describe('scanNotice', () => {
    it("shows the server's summary, as an error when a file is malicious", () => {
        const result = {
            modelFiles: 12,
            malicious: 1,
            suspicious: 0,
            errors: 0,
            clean: 11,
            truncated: false,
            summary: '12 model files scanned: 1 malicious, 0 suspicious, 0 errors',
            documents: 2,
        };
        assert.deepEqual(scanNotice(result), {
            level: 'error',
            text: 'MalHug: 12 model files scanned: 1 malicious, 0 suspicious, 0 errors.',
        });
    });

    it('is a warning for suspicious files, failed scans or a scan cut short, else information', () => {
        assert.equal(scanNotice({ modelFiles: 2, suspicious: 1, summary: 's' }).level, 'warning');
        assert.equal(scanNotice({ modelFiles: 2, errors: 1, summary: 's' }).level, 'warning');
        assert.equal(scanNotice({ modelFiles: 2, truncated: true, summary: 's' }).level, 'warning');
        assert.deepEqual(
            scanNotice({ modelFiles: 0, summary: '0 model files scanned: 0 malicious, 0 suspicious, 0 errors' }),
            {
                level: 'info',
                text: 'MalHug: 0 model files scanned: 0 malicious, 0 suspicious, 0 errors.',
            },
        );
    });

    it('counts itself for an older server, and never reads a failure as a pass', () => {
        assert.equal(
            scanNotice({ modelFiles: 3, documents: 1 }).text,
            'MalHug: 3 model file(s) scanned: 0 malicious, 0 suspicious, 0 errors.',
        );
        assert.equal(scanNotice(undefined).level, 'error');
        assert.deepEqual(scanNotice({ error: 'boom' }), {
            level: 'error',
            text: 'MalHug: the workspace scan failed: boom',
        });
    });
});
