// The status page of a running `edge-rnn demo` in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core): it loads, lists the demo's devices, and
// the charts gain points while the demo runs. A screenshot is written for a person to see.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from './support.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT = join(ROOT, '.tmp', 'status-page.png');

describe.skipIf(!existsSync(CHROMIUM))('the status page in headless Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('loads, shows the running demo\'s devices and the chart updates; writes a screenshot', async () => {
    const demo = spawn(process.execPath, [CLI, 'demo', '--no-live', '--json', '--duration', '25s', '--http', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    demo.stdout.on('data', (d) => (stdout += String(d)));
    const url = await new Promise<string>((resolve, reject) => {
      demo.stderr.on('data', (d) => {
        stderr += String(d);
        const m = /status page: (http:\/\/\S+)/.exec(stderr);
        if (m) resolve(m[1]);
      });
      demo.once('exit', (code) => reject(new Error(`demo exited (${code}) before serving the page: ${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => demo.once('exit', resolve));

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await expect.poll(() => page.locator('#devices tbody tr').count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
    expect(await page.locator('#model').textContent()).toMatch(/^mote-forecaster v\d+$/);
    expect(await page.locator('#ready').textContent()).toBe('ready');
    // uPlot drew a canvas per device.
    expect(await page.locator('.chart canvas').count()).toBeGreaterThanOrEqual(4);
    const points = () => page.$$eval('.chart', (els) => els.map((e) => Number((e as unknown as { dataset: Record<string, string> }).dataset.points ?? 0)).reduce((a, b) => a + b, 0));
    const first = await points();
    await expect.poll(points, { timeout: 20_000 }).toBeGreaterThan(first);
    await expect.poll(points, { timeout: 20_000 }).toBeGreaterThan(first + 20); // more than one update's worth
    const shown = await page.locator('#devices tbody tr').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: Record<string, string> }).dataset.device));
    const lastReading = await page.locator('#devices tbody tr td:nth-child(2)').first().textContent();
    expect(lastReading).toMatch(/temperature -?\d/);
    mkdirSync(join(ROOT, '.tmp'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`status page screenshot: ${SCREENSHOT}`);
    expect(errors).toEqual([]);

    expect(await exited).toBe(0);
    // The rows are the demo's devices (its own summary, at the end).
    const result = JSON.parse(stdout) as { devices: Record<string, unknown> };
    expect(shown.sort()).toEqual(Object.keys(result.devices).sort());
  });
}, 90_000);
