import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createQueryServer } from '../../src/api/query-server.js';
import { parseConfig } from '../../src/config/vigil-config.js';
import { TrafficGenerator } from '../../src/demo/traffic-generator.js';
import { createEngine, demoRulesFile, loadRules } from '../../src/engine/engine-factory.js';
import type { VigilEngine } from '../../src/engine/vigil-engine.js';

const CHROMIUM = process.env.VIGIL_CHROMIUM ?? '/usr/bin/chromium';
const START = Date.parse('2026-01-01T00:00:00Z');
const TOKEN = 'test-token-8d2f';
const CHARTS = ['latency', 'ttft', 'cost', 'errors', 'fallback', 'security'];
// Traffic stops here: alerts of several incidents are still firing (see DEFAULT_INCIDENTS).
const MAX_EVENT_TIME_MS = 12 * 60_000;

// The few DOM members the page.evaluate callbacks touch (they run in the browser; the project's lib has no DOM).
interface PageElement {
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): unknown;
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
declare const document: { querySelector(selector: string): unknown };

/** An engine on the demo rules fed with `minutes` of demo traffic, and a feeder for more. */
async function demoEngine(minutes: number): Promise<{ engine: VigilEngine; feed: (ms: number) => void }> {
  const config = parseConfig({}, { env: {} });
  const engine = createEngine(config, await loadRules(demoRulesFile(), config), { idle: false });
  const gen = new TrafficGenerator({ seed: 42, startTime: START, requestsPerSecond: 40 });
  let now = START;
  const feed = (ms: number): void => {
    const end = Math.min(now + ms, START + MAX_EVENT_TIME_MS);
    for (; now < end; now += 1000) {
      const e = gen.eventsUntil(now + 1000);
      engine.process({ source: 'demo', spans: e.spans, feedback: e.feedback, evals: e.evals, deadLetters: [] });
    }
  };
  feed(minutes * 60_000);
  return { engine, feed };
}

describe('dashboard routes', () => {
  let app: FastifyInstance;
  let engine: VigilEngine;

  before(async () => {
    ({ engine } = await demoEngine(1));
    app = createQueryServer({ backend: engine, security: { tokens: [TOKEN] } });
    await app.ready();
  });

  after(async () => {
    await app.close();
    engine.close();
  });

  it('serves the page, its module and uPlot with their content types, without a token: they hold no data', async () => {
    for (const [url, type] of [
      ['/', /^text\/html/],
      ['/dashboard/app.js', /^text\/javascript/],
      ['/dashboard/vendor/uPlot.esm.js', /^text\/javascript/],
      ['/dashboard/vendor/uPlot.min.css', /^text\/css/],
    ] as const) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), type, url);
      assert.ok(res.body.length > 500, url);
    }
    const page = await app.inject({ url: '/' });
    assert.match(page.body, /<script type="module" src="dashboard\/app\.js"><\/script>/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  });

  it('still asks the data routes for the token', async () => {
    assert.equal((await app.inject({ url: '/v1/status' })).statusCode, 401);
    assert.equal((await app.inject({ url: '/v1/status', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200);
  });

  it('serves nothing else from the dashboard or node_modules folders', async () => {
    for (const url of ['/dashboard/index.html', '/dashboard/../package.json', '/dashboard/vendor/uPlot.cjs.js', '/dashboard/vendor/../../package.json']) {
      assert.equal((await app.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 404, url);
    }
  });
});

describe('dashboard in a real browser', () => {
  let engine: VigilEngine;
  let app: FastifyInstance;
  let context: BrowserContext;
  let page: Page;
  let feeder: NodeJS.Timeout;
  let userDataDir: string;
  const apiRequests: { path: string; authorization: string | undefined }[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is not installed at ${CHROMIUM}: run scripts/install-chromium.sh (as root; it installs Debian's chromium package), or point VIGIL_CHROMIUM at a Chromium binary`);
    }
    // Six minutes of event time: the latency, TTFT and timeout incidents are firing.
    const demo = await demoEngine(6);
    engine = demo.engine;
    assert.ok(engine.alerts('firing', 100).some((a) => a.ruleName === 'model-p99-latency'));
    app = createQueryServer({ backend: engine, security: { tokens: [TOKEN] } });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    // Live traffic while the page polls: 5 s of event time every 250 ms, a new point at every poll.
    feeder = setInterval(() => demo.feed(5_000), 250);
    userDataDir = mkdtempSync(join(tmpdir(), 'vigil-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname.startsWith('/v1/')) apiRequests.push({ path: url.pathname, authorization: r.headers().authorization });
    });
    await page.goto(`${address}/?token=${TOKEN}`);
    // Three polls in: every chart holds a short history.
    await page.waitForFunction(
      (charts) => charts.every((c) => {
        const el = document.querySelector(`[data-chart="${c}"]`) as PageElement | null;
        return el !== null && Number(el.dataset.points) >= 3 && Number(el.dataset.series) >= 1 && el.querySelector('canvas') !== null;
      }),
      CHARTS,
      { timeout: 30_000, polling: 200 },
    );
    // Traffic stops; the next poll shows the engine's final state, which the tests compare with.
    clearInterval(feeder);
    const end = engine.status().maxEventTime ?? 0;
    const shown = new Date(end).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    await page.waitForFunction((text) => (document.querySelector('#event-time') as { textContent: string } | null)?.textContent === text, shown, { timeout: 10_000 });
    await page.waitForTimeout(100);
  });

  after(async () => {
    clearInterval(feeder);
    await context?.close();
    await app?.close();
    engine?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('draws every chart with data: canvas pixels in series colours, not just background and grid', async () => {
    const coloured = await page.evaluate((charts) => {
      const out: Record<string, number> = {};
      for (const c of charts) {
        const canvas = document.querySelector(`[data-chart="${c}"] canvas`) as PageCanvas | null;
        const ctx = canvas?.getContext('2d');
        if (!canvas || !ctx) {
          out[c] = -1;
          continue;
        }
        const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
        let n = 0;
        // Axes and grid are grey; only a series line is saturated.
        for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 200 && Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]) > 80) n++;
        out[c] = n;
      }
      return out;
    }, CHARTS);
    for (const c of CHARTS) assert.ok(coloured[c] > 100, `${c}: ${coloured[c]} series pixels`);
  });

  it('lists the firing alerts', async () => {
    const rules = await page.$$eval('#alerts tbody tr', (rows) => rows.map((r) => (r as unknown as PageElement).dataset.rule));
    const firing = engine.alerts('firing', 100).map((a) => a.ruleName);
    assert.ok(firing.length >= 2, JSON.stringify(firing));
    assert.deepEqual([...rules].sort(), [...firing].sort());
    assert.equal(await page.textContent('#alert-count'), String(rules.length));
    assert.equal(await page.isVisible('#no-alerts'), false);
  });

  it('shows the engine status and the security counters', async () => {
    assert.match((await page.textContent('#event-time')) ?? '', /^2026-01-01 00:\d\d:\d\d UTC$/);
    assert.match((await page.textContent('#events')) ?? '', /^\d{1,3}(,\d{3})+$/);
    assert.match((await page.textContent('#c-inputs .v')) ?? '', /^[\d,]+$/);
    assert.equal(await page.getAttribute('body', 'data-state'), 'live');
  });

  it('works with an API token: reads it once from the address and sends it as a bearer header on every API call', async () => {
    assert.ok(apiRequests.length >= 7 * 3, `${apiRequests.length} API requests`);
    for (const r of apiRequests) assert.equal(r.authorization, `Bearer ${TOKEN}`, r.path);
    assert.ok(!page.url().includes(TOKEN), 'the token is dropped from the address bar');
    assert.deepEqual(pageErrors, []);
  });

  it('saves a screenshot that is a PNG of plausible size', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-dashboard-'));
    const path = join(dir, 'dashboard.png');
    await page.screenshot({ path, fullPage: true });
    const png = readFileSync(path);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    assert.equal(width, 1400);
    assert.ok(height >= 1000 && height < 5000, `height ${height}`);
    assert.ok(png.length > 50_000 && png.length < 10_000_000, `${png.length} bytes`);
    t.diagnostic(`screenshot: ${path}`);
  });
});
