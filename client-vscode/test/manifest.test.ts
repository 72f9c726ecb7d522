// package.json (what VS Code reads) agrees with the client's code: commands, descriptions, scopes.
// Settings keys, types, defaults, enums and ranges, and the activation glob, are checked against
// Python by tests/lists (the generated files come from `make lists`).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLIENT_COMMANDS, SERVER_COMMANDS } from '../src/constants';
import { DEFAULTS, RESTRICTED_SETTINGS } from '../src/settings';

interface Property {
    type: string;
    default: unknown;
    scope?: string;
    description?: string;
    markdownDescription?: string;
    enum?: string[];
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
const properties: Record<string, Property> = manifest.contributes.configuration.properties;

describe('package.json', () => {
    it('describes and scopes every setting; the client keeps only the interpreter and the trace level', () => {
        for (const [key, prop] of Object.entries(properties)) {
            assert.ok((prop.markdownDescription ?? prop.description ?? '').length > 20, `${key} has no description`);
            assert.ok(
                ['resource', 'window', 'machine', 'application'].includes(prop.scope ?? ''),
                `${key} has no scope`,
            );
        }
        assert.deepEqual(
            Object.keys(properties).sort(),
            [...Object.keys(DEFAULTS).map((k) => `malhug.${k}`), 'malhug.interpreter', 'malhug.trace.server'].sort(),
        );
    });

    it('contributes the five MalHug commands, server ones hidden while the server is down', () => {
        const commands = manifest.contributes.commands.map((c: { command: string; category: string }) => {
            assert.equal(c.category, 'MalHug');
            return c.command;
        });
        assert.deepEqual(commands.sort(), [...SERVER_COMMANDS, ...CLIENT_COMMANDS].sort());
        const palette = manifest.contributes.menus.commandPalette as { command: string; when: string }[];
        assert.deepEqual(
            palette.map((p) => [p.command, p.when]),
            SERVER_COMMANDS.map((c) => [c, 'malhug.serverRunning']),
        );
    });

    it('runs in Restricted Mode, with the settings that choose what runs restricted', () => {
        const untrusted = manifest.capabilities.untrustedWorkspaces;
        assert.equal(untrusted.supported, 'limited');
        assert.deepEqual(
            untrusted.restrictedConfigurations,
            RESTRICTED_SETTINGS.map((k) => `malhug.${k}`),
        );
        for (const key of untrusted.restrictedConfigurations) {
            assert.ok(key in properties, `${key} is not a setting`);
            assert.ok(untrusted.description.includes(key), `the description does not name ${key}`);
        }
    });

    it('is bundled from dist/extension.js with the pinned language client', () => {
        assert.equal(manifest.main, './dist/extension.js');
        assert.equal(manifest.dependencies['vscode-languageclient'], '9.0.1');
    });
});
