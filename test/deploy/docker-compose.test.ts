/**
 * No Docker engine runs here, so `docker compose up` is checked statically: docker-compose.yml
 * against the Compose Specification's JSON schema, and everything it names against the repository
 * and the code (images, build files, mounts, ports, configs, topics, environment variables, the
 * Prometheus scrape target, the Grafana provisioning and the dashboard's metric names).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';
import { IMAGE_NODE_OPTIONS } from '../../benchmarks/alert-latency.bench.js';
import { createQueryServer } from '../../src/api/query-server.js';
import { ENV_OVERRIDES, loadConfigFile, parseConfig } from '../../src/config/vigil-config.js';
import type { VigilConfig } from '../../src/config/vigil-config.js';
import { createEngine, demoRulesFile, loadRules } from '../../src/engine/engine-factory.js';
import type { VigilEngine } from '../../src/engine/vigil-engine.js';
import { ROOT, runVigil } from '../helpers/cli.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';

interface DependsOn {
  condition: string;
}
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[] | null;
  entrypoint?: string | string[] | null;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number)[];
  volumes?: string[];
  depends_on?: Record<string, DependsOn> | string[];
  healthcheck?: { test: string | string[] };
  profiles?: string[];
}
interface Compose {
  services: Record<string, Service>;
}

const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const readYaml = <T>(path: string): T => parse(read(path), { merge: true }) as T;
// The Compose file merges `x-vigil` into each Vigil service with YAML merge keys (`<<`), as Compose does.
const compose = readYaml<Compose>('docker-compose.yml');
const services = compose.services;

/** The image's working directory: Vigil's paths in commands and mounts are relative to it. */
const APP_DIR = '/app';

function env(service: Service): Record<string, string> {
  const out: Record<string, string> = {};
  const e = service.environment ?? {};
  if (Array.isArray(e)) {
    for (const pair of e) {
      const i = pair.indexOf('=');
      out[i < 0 ? pair : pair.slice(0, i)] = i < 0 ? '' : pair.slice(i + 1);
    }
  } else {
    for (const [k, v] of Object.entries(e)) out[k] = v === null ? '' : String(v);
  }
  return out;
}

function argv(command: Service['command']): string[] {
  if (command === undefined || command === null) return [];
  return typeof command === 'string' ? command.split(/\s+/).filter(Boolean) : command;
}

/** `[hostPort, containerPort]` of each published port. */
function ports(service: Service): [number, number][] {
  return (service.ports ?? []).map((p) => {
    const parts = String(p).split('/')[0].split(':');
    return [Number(parts.at(-2) ?? parts.at(-1)), Number(parts.at(-1))];
  });
}

/** Bind mounts: `{ source (repo-relative), target }`. */
function binds(service: Service): { source: string; target: string; readOnly: boolean }[] {
  return (service.volumes ?? [])
    .filter((v) => v.startsWith('./') || v.startsWith('../'))
    .map((v) => {
      const [source, target, mode] = v.split(':');
      return { source: posix.normalize(source), target, readOnly: mode === 'ro' };
    });
}

/** The repo path a container path of `service` comes from, through its bind mounts. */
function hostPathOf(service: Service, containerPath: string): string | undefined {
  for (const b of binds(service)) {
    if (containerPath === b.target || containerPath.startsWith(b.target + '/')) return posix.join(b.source, containerPath.slice(b.target.length));
  }
  return undefined;
}

/** `host:port` of an http(s) URL. */
function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
}

const vigilServices = Object.entries(services).filter(([, s]) => s.build !== undefined || s.image === 'vigil:local');

/** The config file a Vigil service runs with, and the config as that service's environment makes it. */
function vigilConfigOf(service: Service): { file: string; config: VigilConfig } {
  const args = argv(service.command);
  const i = args.indexOf('--config');
  assert.ok(i >= 0 && args[i + 1] !== undefined, `a Vigil service names --config: ${args.join(' ')}`);
  const inContainer = posix.resolve(APP_DIR, args[i + 1]);
  // Mounted over the image's copy, else the copy the Dockerfile took from the repo.
  const file = hostPathOf(service, inContainer) ?? posix.relative(APP_DIR, inContainer);
  return { file, config: loadConfigFile(join(ROOT, file), env(service)) };
}

const vigil = services.vigil;
const effective = vigilConfigOf(vigil).config;

describe('docker-compose.yml', () => {
  it('is valid under the Compose Specification JSON schema', () => {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    const validate = ajv.compile(JSON.parse(read('test/fixtures/compose-spec/compose-spec.json')) as object);
    const valid = validate(compose);
    assert.ok(valid, JSON.stringify(validate.errors, null, 2));
    // The schema is strict: a misspelt key or a bad depends_on condition fails it.
    const broken = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    broken.services.vigil.imagee = 'vigil:local';
    assert.equal(validate(broken), false);
    const badCondition = structuredClone(compose) as unknown as { services: Record<string, { depends_on: Record<string, DependsOn> }> };
    badCondition.services.vigil.depends_on.kafka_init = { condition: 'service_ready' };
    assert.equal(validate(badCondition), false);
  });

  it('runs Kafka, a schema registry, Vigil, the demo producer, the forwarder, Alertmanager, Prometheus and Grafana', () => {
    for (const name of ['kafka', 'kafka-init', 'schema-registry', 'schema-init', 'vigil', 'vigil-demo-producer', 'vigil-forwarder', 'alertmanager', 'prometheus', 'grafana']) {
      assert.ok(services[name] !== undefined, `service ${name}`);
    }
    const started = Object.entries(services).filter(([, s]) => s.profiles === undefined).map(([n]) => n);
    assert.ok(!started.includes('vigil-tail'), 'the tail is a tool, not started by up');
  });

  it('pins every pulled image to a version and builds Vigil from a Dockerfile in the repo', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build !== undefined) {
        const build = typeof s.build === 'string' ? { context: s.build } : s.build;
        const context = build.context ?? '.';
        assert.ok(statSync(join(ROOT, context)).isDirectory(), `${name}: build context ${context}`);
        const dockerfile = join(ROOT, context, build.dockerfile ?? 'Dockerfile');
        assert.ok(existsSync(dockerfile), `${name}: ${dockerfile}`);
        const text = readFileSync(dockerfile, 'utf8');
        const entrypoint = /ENTRYPOINT \["node", ((?:"--[^"]+", )*)"([^"]+)"\]/.exec(text);
        const entry = entrypoint?.[2];
        assert.ok(entry !== undefined && existsSync(join(ROOT, entry)), `${name}: the image's entrypoint ${entry} is in the repo`);
        // The Node options the alert-latency bench measures as the image's.
        assert.equal(entrypoint?.[1].replace(/", $/, '').replace(/^"/, ''), IMAGE_NODE_OPTIONS, `${name}: the image's node options`);
        assert.match(text, new RegExp(`WORKDIR ${APP_DIR}\\b`));
        continue;
      }
      assert.ok(s.image !== undefined, `${name} has an image or a build`);
      const tag = s.image.split('/').at(-1)!.split(':')[1];
      assert.ok(tag !== undefined && tag !== 'latest', `${name}: ${s.image} is pinned to a version`);
    }
    assert.ok(existsSync(join(ROOT, '.dockerignore')), '.dockerignore');
    assert.match(read('.dockerignore'), /^node_modules$/m);
  });

  it('depends only on services it defines, healthy only on those with a healthcheck', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, { condition: 'service_started' }])) : (s.depends_on ?? {});
      for (const [dep, { condition }] of Object.entries(deps)) {
        assert.ok(services[dep] !== undefined, `${name} depends on ${dep}`);
        if (condition === 'service_healthy') assert.ok(services[dep].healthcheck !== undefined, `${name} waits for ${dep} to be healthy: it needs a healthcheck`);
      }
    }
  });

  it('mounts only files and directories that exist in the repo', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const b of binds(s)) {
        assert.ok(existsSync(join(ROOT, b.source)), `${name}: ${b.source}`);
        assert.ok(b.readOnly, `${name}: ${b.source} is mounted read-only`);
      }
    }
  });

  it('publishes each host port once', () => {
    const hostPorts = Object.values(services).flatMap((s) => ports(s).map(([h]) => h));
    assert.equal(new Set(hostPorts).size, hostPorts.length, hostPorts.join(', '));
  });

  it('gives the Vigil services commands the CLI has, and configs that exist and validate with their environment', async () => {
    assert.ok(vigilServices.length >= 4, 'run, producer, forwarder and tail');
    const seen = new Set<string>();
    for (const [name, s] of vigilServices) {
      const args = argv(s.command);
      const sub = args.slice(0, args.indexOf('--config'));
      const { file } = vigilConfigOf(s);
      assert.ok(existsSync(join(ROOT, file)), `${name}: ${file}`);
      for (const key of Object.keys(env(s))) assert.ok(key in ENV_OVERRIDES, `${name}: ${key} is not a variable Vigil reads (${Object.keys(ENV_OVERRIDES).join(', ')})`);
      const key = sub.join(' ');
      if (seen.has(key)) continue;
      seen.add(key);
      const help = await runVigil([...sub, '--help'], { timeoutMs: 60_000 });
      assert.equal(help.code, 0, `vigil ${key} --help: ${help.stderr}`);
      assert.match(help.stdout, /--config <file>/, `vigil ${key} takes --config`);
    }
    assert.deepEqual(
      [...seen].sort(),
      ['alerts forward', 'alerts tail', 'produce-demo', 'run'],
    );
  });

  it('publishes Vigil’s API on the port its config listens on, on all interfaces, with a readiness healthcheck', () => {
    assert.equal(effective.api.host, '0.0.0.0');
    assert.ok(ports(vigil).some(([, c]) => c === effective.api.port), `vigil publishes container port ${effective.api.port}`);
    const test = (vigil.healthcheck?.test ?? []) as string[];
    assert.ok(test.join(' ').includes(`http://127.0.0.1:${effective.api.port}/readyz`), 'the healthcheck asks /readyz on the API port');
  });

  it('creates exactly the topics the config reads and writes, and registers their schemas under <topic>-value', () => {
    const k = effective.kafka!;
    const wanted = [k.tracesTopic, k.feedbackTopic, k.evalsTopic, k.alertsTopic];
    assert.ok(wanted.every((t) => t !== undefined), 'the docker config sets every topic');
    const script = argv(services['kafka-init'].command).join('\n');
    const created = [...script.matchAll(/--create --if-not-exists --topic (\S+)/g)].map((m) => m[1]);
    assert.deepEqual(created.sort(), [...wanted].sort());
    for (const [name, s] of vigilServices) {
      const c = vigilConfigOf(s).config.kafka!;
      assert.deepEqual([c.tracesTopic, c.feedbackTopic, c.evalsTopic, c.alertsTopic], wanted, `${name} uses the same topics`);
      assert.deepEqual(c.brokers, ['kafka:19092'], `${name} reaches Kafka on its internal listener`);
    }
    assert.match(String(env(services.kafka).KAFKA_ADVERTISED_LISTENERS), /PLAINTEXT:\/\/kafka:19092/);

    const init = services['schema-init'];
    const subjects = env(init).SUBJECTS.split(',').map((pair) => pair.split('='));
    const schemaOf: Record<string, string> = {
      [k.tracesTopic]: 'llm-span.avsc',
      [k.feedbackTopic!]: 'feedback-event.avsc',
      [k.evalsTopic!]: 'eval-score-event.avsc',
      [k.alertsTopic]: 'alert-event.avsc',
    };
    assert.deepEqual(subjects.map(([s]) => s).sort(), Object.keys(schemaOf).map((t) => `${t}-value`).sort());
    for (const [subject, path] of subjects) {
      const host = hostPathOf(init, path);
      assert.equal(host, `schemas/${schemaOf[subject.replace(/-value$/, '')]}`, `${subject} → ${path}`);
      assert.ok(existsSync(join(ROOT, host)), host);
    }
    const script2 = argv(init.command).find((a) => a.endsWith('.mjs'))!;
    assert.ok(existsSync(join(ROOT, hostPathOf(init, script2)!)), script2);
  });

  it('points Vigil and the schema job at the registry service', () => {
    const registry = services['schema-registry'];
    const url = effective.registry?.url;
    assert.ok(url !== undefined, 'the docker config sets registry.url');
    for (const u of [url, env(services['schema-init']).REGISTRY_URL]) {
      const { host, port } = hostPort(u);
      assert.equal(host, 'schema-registry');
      assert.ok(ports(registry).some(([, c]) => c === port), `${u}: the registry listens on ${port}`);
      assert.equal(new URL(u).pathname, '/apis/ccompat/v7', 'Apicurio’s Confluent-compatible API');
    }
  });

  it('forwards alerts to the Alertmanager service it runs', () => {
    const url = effective.forward?.alertmanager?.url;
    assert.ok(url !== undefined, 'the docker config forwards to Alertmanager');
    const { host, port } = hostPort(url);
    assert.equal(host, 'alertmanager');
    assert.ok(ports(services.alertmanager).some(([, c]) => c === port), `alertmanager listens on ${port}`);
    assert.equal(hostPathOf(services.alertmanager, '/etc/alertmanager/alertmanager.yml'), 'deploy/alertmanager/alertmanager.yml');
    const am = readYaml<{ route: { receiver: string }; receivers: { name: string }[] }>('deploy/alertmanager/alertmanager.yml');
    assert.ok(am.receivers.some((r) => r.name === am.route.receiver), 'the route’s receiver is defined');
  });
});

describe('deploy/prometheus/prometheus.yml', () => {
  const prom = readYaml<{ scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[] }>('deploy/prometheus/prometheus.yml');
  const job = prom.scrape_configs.find((j) => j.job_name === 'vigil');

  it('is the file the Prometheus service loads', () => {
    assert.equal(hostPathOf(services.prometheus, '/etc/prometheus/prometheus.yml'), 'deploy/prometheus/prometheus.yml');
  });

  it('scrapes /metrics of the vigil service on its API port', () => {
    assert.ok(job !== undefined, 'a vigil scrape job');
    assert.equal(job.metrics_path ?? '/metrics', '/metrics');
    const targets = job.static_configs.flatMap((c) => c.targets);
    assert.deepEqual(targets, [`vigil:${effective.api.port}`]);
  });
});

describe('the Grafana provisioning and the Vigil dashboard', () => {
  const grafana = services.grafana;
  const datasources = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>('deploy/grafana/provisioning/datasources/prometheus.yaml');
  const providers = readYaml<{ providers: { type: string; options: { path: string } }[] }>('deploy/grafana/provisioning/dashboards/vigil.yaml');
  const dashboard = JSON.parse(read('deploy/grafana/dashboards/vigil.json')) as {
    uid: string;
    templating: { list: { name: string; type: string; query: unknown; current: { value: unknown } }[] };
    panels: { id: number; type: string; title: string; gridPos: { x: number; w: number }; datasource?: { uid: string }; targets?: { expr: string; datasource: { uid: string } }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  let engine: VigilEngine;
  let app: FastifyInstance;
  let exported: Map<string, { type: string; help: string }>;

  before(async () => {
    const config = parseConfig({}, { env: {} });
    engine = createEngine(config, await loadRules(demoRulesFile(), config), { idle: false });
    app = createQueryServer({ backend: engine });
    const metricsPath = readYaml<{ scrape_configs: { job_name: string; metrics_path?: string }[] }>('deploy/prometheus/prometheus.yml').scrape_configs.find((j) => j.job_name === 'vigil')?.metrics_path ?? '/metrics';
    const res = await app.inject({ method: 'GET', url: metricsPath });
    assert.equal(res.statusCode, 200, 'Vigil serves the path Prometheus scrapes');
    exported = parsePrometheusText(res.body).families;
  });
  after(async () => {
    await app.close();
    engine.close();
  });

  it('mounts the provisioning where Grafana reads it and the dashboards where the provider looks', () => {
    assert.equal(hostPathOf(grafana, '/etc/grafana/provisioning/datasources/prometheus.yaml'), 'deploy/grafana/provisioning/datasources/prometheus.yaml');
    assert.equal(hostPathOf(grafana, '/etc/grafana/provisioning/dashboards/vigil.yaml'), 'deploy/grafana/provisioning/dashboards/vigil.yaml');
    const [provider] = providers.providers;
    assert.equal(provider.type, 'file');
    assert.equal(hostPathOf(grafana, `${provider.options.path}/vigil.json`), 'deploy/grafana/dashboards/vigil.json');
    const home = env(grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    assert.equal(hostPathOf(grafana, home), 'deploy/grafana/dashboards/vigil.json');
    assert.deepEqual(readdirSync(join(ROOT, 'deploy/grafana/dashboards')), ['vigil.json']);
  });

  it('reaches the Prometheus service, under the uid the dashboard selects by default', () => {
    const [ds] = datasources.datasources;
    assert.equal(ds.type, 'prometheus');
    const { host, port } = hostPort(ds.url);
    assert.equal(host, 'prometheus');
    assert.ok(ports(services.prometheus).some(([, c]) => c === port), `prometheus listens on ${port}`);
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource');
    assert.ok(variable !== undefined && variable.query === 'prometheus', 'a Prometheus datasource variable');
    assert.equal(variable.current.value, ds.uid);
    for (const p of dashboard.panels.filter((p) => p.type !== 'row')) {
      assert.equal(p.datasource?.uid, `\${${variable.name}}`, `${p.title} uses the datasource variable`);
      for (const t of p.targets ?? []) assert.equal(t.datasource.uid, `\${${variable.name}}`);
    }
  });

  it('has unique panel ids that fit the 24-column grid', () => {
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const p of dashboard.panels) assert.ok(p.gridPos.x + p.gridPos.w <= 24, p.title);
  });

  it('queries only metrics Vigil exports (src/api/metrics.ts), with their types', () => {
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:vigil|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1])));
    assert.ok(used.size > 20, `${used.size} metrics used`);
    for (const name of used) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      if (exported.has(name)) continue;
      assert.ok(exported.get(base)?.type === 'histogram', `${name} is exported by GET /metrics`);
    }
    for (const e of exprs) {
      for (const m of e.matchAll(/\b(?:rate|increase)\((vigil_[a-z0-9_]+)/g)) {
        const type = exported.get(m[1].replace(/_(bucket|sum|count)$/, ''))?.type;
        assert.ok(type === 'counter' || type === 'histogram', `${m[1]} is a counter where the dashboard takes a rate`);
      }
    }
  });

  it('covers the whole checklist and the engine’s health', () => {
    const uses = (metric: string): boolean => exprs.some((e) => e.includes(metric));
    const checklist: Record<string, string[]> = {
      'latency percentiles by model': ['vigil_llm_latency_seconds'],
      'TTFT percentiles by model': ['vigil_llm_ttft_seconds'],
      cost: ['vigil_llm_cost_usd_per_minute'],
      'errors and timeouts': ['vigil_llm_error_rate', 'vigil_llm_timeout_rate', 'vigil_request_failed_rate'],
      'degraded requests (retries, fallbacks)': ['vigil_request_degraded_rate'],
      evals: ['vigil_eval_score_mean'],
      feedback: ['vigil_feedback_thumbs_down_ratio'],
      'prompt injection': ['vigil_security_injection_attempts'],
      PII: ['vigil_security_pii_findings'],
      'anomalous users': ['vigil_anomalous_users'],
      'events per second': ['vigil_events_in_total'],
      'consumer lag': ['vigil_consumer_lag_messages'],
      'late events': ['vigil_late_events_total'],
      'dead letters': ['vigil_dead_letters_total'],
      'batch time': ['vigil_batch_process_seconds_bucket'],
      'alerts by rule': ['vigil_alerts_total'],
    };
    for (const [item, metrics] of Object.entries(checklist)) for (const m of metrics) assert.ok(uses(m), `${item}: ${m}`);
    // Output drift and compliance have no gauge: their panel follows the alerts of the rules over the output signals.
    const drift = dashboard.panels.find((p) => p.type !== 'row' && /drift/i.test(p.title));
    assert.ok(drift?.targets?.some((t) => t.expr.includes('vigil_alerts_total') && t.expr.includes('$output_rules')), 'a drift and compliance panel over the alerts of the output rules');
    const outputRules = dashboard.templating.list.find((v) => v.name === 'output_rules');
    const pattern = new RegExp(`^(?:${String(outputRules?.current.value)})$`);
    const shipped = readYaml<{ rules: { name: string; signal: string }[] }>('rules/demo-rules.yaml').rules;
    for (const r of shipped.filter((r) => r.signal === 'output' || r.signal === 'output_length')) assert.match(r.name, pattern);
  });
});
