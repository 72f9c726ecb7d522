// Bundles the extension with esbuild (dist/extension.js). With --tests, also bundles each unit test
// (test/*.test.ts -> out/test/*.test.js) with `vscode` resolved to the small mock in test/vscode-mock.ts.
import { build } from 'esbuild';
import { readdirSync } from 'fs';

const production = process.argv.includes('--production');
const tests = process.argv.includes('--tests');

await build({
    entryPoints: ['src/extension.ts'],
    bundle: true,
    outfile: 'dist/extension.js',
    external: ['vscode'],
    format: 'cjs',
    platform: 'node',
    target: 'node18',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
});

if (tests) {
    await build({
        entryPoints: readdirSync('test')
            .filter((f) => f.endsWith('.test.ts'))
            .map((f) => `test/${f}`),
        bundle: true,
        outdir: 'out/test',
        alias: { vscode: './test/vscode-mock.ts' },
        format: 'cjs',
        platform: 'node',
        target: 'node18',
        sourcemap: 'inline',
        logLevel: 'warning',
    });
}
