import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/vigil-config.js';
import { defaultRulesFile, demoRulesFile, loadRules } from '../../src/engine/engine-factory.js';
import { DEFAULT_INCIDENTS } from '../../src/demo/traffic-generator.js';

describe('shipped rules files', () => {
  const config = parseConfig({}, { env: {} });

  it('the default rules cover every signal family of the checklist and validate against the engine', async () => {
    const rules = await loadRules(defaultRulesFile(), config);
    const signals = new Set(rules.map((r) => r.signal));
    for (const s of ['latency', 'ttft', 'errors', 'requests', 'eval_score', 'feedback', 'output_length', 'output', 'security', 'users']) {
      assert.ok(signals.has(s), `no default rule over ${s}`);
    }
  });

  it('the demo rules name a rule for every planted incident', async () => {
    const rules = await loadRules(demoRulesFile(), config);
    const names = new Set(rules.map((r) => r.name));
    for (const incident of DEFAULT_INCIDENTS) assert.ok(names.has(incident.rule), `${incident.name}: no rule ${incident.rule}`);
  });
});
