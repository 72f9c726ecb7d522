import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseLine, ServerLogChannel } from '../src/logchannel';

function sink() {
    const lines: string[] = [];
    const at = (level: string) => (text: string) => lines.push(`[${level}] ${text}`);
    const log = {
        name: 'MalHug',
        error: at('error'),
        warn: at('warn'),
        info: at('info'),
        debug: at('debug'),
        trace: at('trace'),
        show: () => undefined,
        hide: () => undefined,
        clear: () => lines.splice(0),
    };
    return { lines, channel: new ServerLogChannel(log) };
}

describe('ServerLogChannel', () => {
    it("writes the server's log messages with one prefix: the level of the channel and the source", () => {
        const { lines, channel } = sink();
        channel.appendLine('[Info  - 12:00:01] server.workspace: w.pkl: malicious');
        channel.appendLine('[Warn  - 12:00:02] hub.client: the Hub answered 503');
        channel.appendLine(
            '[Error - 12:00:03] server: internal error (x): ValueError: y\nTraceback (most recent call last):',
        );
        assert.deepEqual(lines, [
            '[info] server.workspace: w.pkl: malicious',
            '[warn] hub.client: the Hub answered 503',
            '[error] server: internal error (x): ValueError: y\nTraceback (most recent call last):',
        ]);
    });

    it('turns stderr records into lines at their level, joining chunks split mid-line', () => {
        const { lines, channel } = sink();
        channel.append('WARNING server.transport: malformed LSP frame: x\nERROR serv');
        channel.append('er: reading the LSP input failed\nsome library output\n');
        assert.deepEqual(lines, [
            '[warn] server.transport: malformed LSP frame: x',
            '[error] server: reading the LSP input failed',
            '[info] some library output',
        ]);
    });

    it('leaves text that only looks like a level alone', () => {
        assert.deepEqual(parseLine('INFO is a word', 'info'), { level: 'info', text: 'INFO is a word' });
        assert.deepEqual(parseLine('[Trace - 1:2:3] Sending request', 'info'), {
            level: 'info',
            text: 'Sending request',
        });
    });
});
