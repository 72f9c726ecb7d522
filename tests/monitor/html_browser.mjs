// Opens a monitor HTML report (file://) in Debian's chromium through playwright-core (the same
// tooling as tests/e2e_vscode: no browser download), clicks the filters and prints what a person sees
// as JSON on stdout. Driven by tests/monitor/test_html_browser.py, which makes the page and asserts.
// Usage: node html_browser.mjs PAGE.html SCREENSHOT.png
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(HERE, '../e2e_vscode/package.json'));
const { chromium } = require('playwright-core');
const CHROMIUM = process.env.MALHUG_CHROMIUM ?? '/usr/bin/chromium';
const [page_path, shot] = process.argv.slice(2);

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    const requests = [];
    let dialogs = 0;
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', async (d) => { dialogs += 1; await d.dismiss(); });
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(resolve(page_path)).href);
    await page.screenshot({ path: shot, fullPage: true });
    const visible = () => page.$$eval('section.repo', (rows) => rows.filter((r) => !r.hidden && r.offsetParent !== null)
        .map((r) => r.querySelector('.id').textContent));
    const state = async () => ({ visible: await visible(), shown: await page.textContent('#shown') });
    const toggle = (name, value) => page.click(`input[name="${name}"][value="${value}"]`);
    const out = { initial: await state() };
    out.title = await page.title();
    out.evidence = await page.$$eval('td.evidence', (cells) => cells.map((c) => c.textContent));
    out.verdictLabels = await page.$$eval('section.repo .verdict', (els) => els.map((e) => e.textContent));
    out.pwned = await page.evaluate(() => window.__pwned ?? null);
    out.images = await page.$$eval('img', (els) => els.length);
    out.scripts = await page.$$eval('script', (els) => els.length);
    await toggle('verdict', 'clean');
    out.noClean = await state();
    await toggle('verdict', 'malicious');
    out.noCleanNoMalicious = await state();
    await toggle('verdict', 'clean');
    await toggle('verdict', 'malicious');
    out.allAgain = await state();
    await toggle('category', 'reverse-shell');
    out.noReverseShell = await state();
    await toggle('category', '(none)');
    out.noReverseShellNoNone = await state();
    out.errors = errors;
    out.dialogs = dialogs;
    out.requests = requests;
    process.stdout.write(JSON.stringify(out));
} finally {
    await browser.close();
}
