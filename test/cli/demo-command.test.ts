import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_INCIDENTS } from '../../src/demo/traffic-generator.js';
import type { AlertEvent } from '../../src/model/index.js';
import { runVigil } from '../helpers/cli.js';

const START = '2026-01-01T00:00:00Z';
const WINDOW_MS = 5 * 60_000;

describe('vigil demo', () => {
  it('alerts once on every planted incident within one window length, resolves each, and raises nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-demo-'));
    const out = join(dir, 'alerts.jsonl');
    const res = await runVigil(['demo', '--fast', '--duration', '30m', '--no-serve', '--start', START, '--alerts-out', out]);
    assert.equal(res.code, 0, res.stderr);
    const alerts = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AlertEvent);
    const start = Date.parse(START);
    for (const incident of DEFAULT_INCIDENTS) {
      const rule = incident.rule;
      const mine = alerts.filter((a) => a.ruleName === rule && a.groupKey === incident.groupKey);
      assert.deepEqual(mine.map((a) => a.state), ['FIRING', 'RESOLVED'], `${incident.name}: ${JSON.stringify(mine)}`);
      const firedAfter = mine[0].windowEnd - (start + incident.fromMs);
      assert.ok(firedAfter > 0 && firedAfter <= WINDOW_MS, `${incident.name} fired ${firedAfter} ms after it began`);
      if (Number.isFinite(incident.toMs)) assert.ok(mine[1].windowEnd > start + incident.toMs, `${incident.name} resolved before it ended`);
      assert.equal(mine[0].alertId, mine[1].alertId);
      const others = alerts.filter((a) => a.ruleName === rule && a.groupKey !== incident.groupKey);
      assert.deepEqual(others, [], `false alarms for ${rule}`);
    }
    assert.equal(alerts.length, 2 * DEFAULT_INCIDENTS.length, 'one FIRING and one RESOLVED per incident, nothing else');
    assert.match(res.stdout, /FIRING/);
  });

  it('prints the dashboard URL when it serves the API', async () => {
    const res = await runVigil(['demo', '--fast', '--duration', '1m', '--port', '0', '--start', START]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m);
  });

  it('a bad rules file stops the demo with an error that names the key', async () => {
    const res = await runVigil(['demo', '--fast', '--duration', '1m', '--no-serve', '--rules', 'package.json']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /^vigil: .*package\.json/m);
  });
});
