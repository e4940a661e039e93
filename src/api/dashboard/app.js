/* global document, location, history, sessionStorage, fetch, URLSearchParams, ResizeObserver, performance */
// The live dashboard: polls the query API every 2 s and keeps a rolling history in the tab, so the
// server stays stateless for it. Opened as `/?token=T`, it keeps T for the tab (sessionStorage),
// drops it from the address bar and sends it as `Authorization: Bearer T` on every request.
import uPlot from './vendor/uPlot.esm.js';

const POLL_MS = 2000;
const MAX_POINTS = 300;
const STALE_AFTER_MS = 15_000;
const CHART_HEIGHT = 220;
const PALETTE = ['#58a6ff', '#f778ba', '#3fb950', '#d29922', '#a371f7', '#39c5cf', '#ff7b72', '#e3b341', '#7ee787', '#79c0ff', '#ffa657', '#d2a8ff'];
const MUTED = '#8b96a5';
const GRID = 'rgba(240,246,252,0.07)';
const SEVERITY_ORDER = { CRITICAL: 0, WARNING: 1, INFO: 2 };

const $ = (selector) => document.querySelector(selector);

class ApiError extends Error {
  constructor(status, path) {
    super(`${path}: HTTP ${status}`);
    this.status = status;
  }
}

const token = readToken();
const state = {
  quantile: 'p95',
  window: '1m',
  history: [],
  colors: new Map(),
  lastEvents: null,
  lastPollAt: null,
  lastEventTime: null,
  lastAdvanceAt: performance.now(),
};

function readToken() {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  let stored = null;
  try {
    if (fromUrl !== null) sessionStorage.setItem('vigil.token', fromUrl);
    stored = sessionStorage.getItem('vigil.token');
  } catch {
    // Storage is off (a privacy mode): the token lives as long as the page.
  }
  if (fromUrl !== null) {
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
  }
  return fromUrl ?? stored;
}

async function api(path) {
  const res = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: 'no-store' });
  if (!res.ok) throw new ApiError(res.status, path);
  return res.json();
}

// ---------------------------------------------------------------------------------------------
// Formatting

const fmtInt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const fmtMs = (v) => (v == null ? '' : v >= 1000 ? `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)} s` : `${Math.round(v)} ms`);
const fmtUsd = (v) => (v == null ? '' : `$${v.toFixed(v >= 10 ? 0 : v >= 1 ? 1 : 2)}`);
const fmtPct = (v) => (v == null ? '' : `${v.toFixed(v >= 10 ? 0 : 1)}%`);
const fmtCount = (v) => (v == null ? '' : fmtInt.format(v));

function fmtTime(ms) {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function fmtDuration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

function colorOf(name) {
  let c = state.colors.get(name);
  if (c === undefined) {
    c = PALETTE[state.colors.size % PALETTE.length];
    state.colors.set(name, c);
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// History

const byLabel = (groups, label, pick) => {
  const out = {};
  for (const g of groups) {
    const name = g.labels[label];
    if (name === undefined || name === '(none)') continue;
    out[name] = pick(g);
  }
  return out;
};

const pct = (v) => (v == null ? null : v * 100);

function record(status, latency, ttft, cost, errors, security) {
  if (status.maxEventTime === null) return;
  let injection = 0;
  let pii = 0;
  for (const g of security.groups) {
    injection += g.values.injection ?? 0;
    pii += g.values.pii_findings ?? 0;
  }
  const snapshot = {
    t: latency.window.end / 1000,
    latency: byLabel(latency.groups, 'model', (g) => g.quantiles),
    ttft: byLabel(ttft.groups, 'model', (g) => g.quantiles),
    cost: byLabel(cost.groups, 'model', (g) => g.values.usd_per_min),
    errors: byLabel(errors.groups, 'model', (g) => pct(g.values.error_rate)),
    fallback: byLabel(errors.groups, 'model', (g) => pct(g.values.fallback_rate)),
    security: { 'injection attempts': injection, 'PII findings': pii },
  };
  const h = state.history;
  const last = h[h.length - 1];
  if (last !== undefined && last.t === snapshot.t) h[h.length - 1] = snapshot;
  else if (last === undefined || snapshot.t > last.t) h.push(snapshot);
  else h.splice(0, h.length, snapshot); // event time went back: a new engine
  if (h.length > MAX_POINTS) h.splice(0, h.length - MAX_POINTS);
}

// ---------------------------------------------------------------------------------------------
// Charts

const CHARTS = {
  latency: { pick: (v) => v?.[state.quantile], fmt: fmtMs, sub: () => `${state.quantile}, ${state.window} windows` },
  ttft: { pick: (v) => v?.[state.quantile], fmt: fmtMs, sub: () => `${state.quantile} of streaming calls, ${state.window} windows` },
  cost: { pick: (v) => v, fmt: fmtUsd, sub: () => `USD per minute, ${state.window} windows` },
  errors: { pick: (v) => v, fmt: fmtPct, sub: () => `share of spans with status ERROR, ${state.window} windows` },
  fallback: { pick: (v) => v, fmt: fmtPct, sub: () => `share of spans that fell back, ${state.window} windows` },
  security: {
    pick: (v) => v,
    fmt: fmtCount,
    // Whole counts: ticks at integers only.
    incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000],
    sub: () => `${state.window} window, all services`,
    color: (name) => (name === 'PII findings' ? '#ffa657' : '#f85149'),
  },
};
const plots = new Map();

function chartData(key, pick) {
  const names = new Set();
  for (const s of state.history) for (const n of Object.keys(s[key])) names.add(n);
  const sorted = [...names].sort();
  const xs = state.history.map((s) => s.t);
  const ys = sorted.map((n) =>
    state.history.map((s) => {
      const v = pick(s[key][n]);
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    }),
  );
  return { names: sorted, data: [xs, ...ys] };
}

function makePlot(el, names, spec) {
  el.replaceChildren();
  return new uPlot(
    {
      width: Math.max(200, el.clientWidth),
      height: CHART_HEIGHT,
      legend: { live: false },
      // Event time, labelled in UTC like the header.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => [0, max != null && max > 0 ? max * 1.15 : 1] },
      },
      axes: [
        { stroke: MUTED, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 } },
        {
          stroke: MUTED,
          grid: { stroke: GRID, width: 1 },
          ticks: { stroke: GRID, width: 1 },
          size: 64,
          values: (_u, splits) => splits.map(spec.fmt),
          ...(spec.incrs ? { incrs: spec.incrs } : {}),
        },
      ],
      series: [{}, ...names.map((n) => ({ label: n, stroke: spec.color ? spec.color(n) : colorOf(n), width: 2, spanGaps: true, value: (_u, v) => spec.fmt(v) }))],
    },
    [[], ...names.map(() => [])],
    el,
  );
}

function drawCharts() {
  for (const [key, spec] of Object.entries(CHARTS)) {
    const holder = document.querySelector(`[data-chart="${key}"]`);
    const el = holder.querySelector('.plot');
    const sub = holder.querySelector('.sub') ?? holder.parentElement.querySelector('.sub');
    if (sub) sub.textContent = spec.sub();
    const { names, data } = chartData(key, spec.pick);
    holder.dataset.points = String(data[0].length);
    holder.dataset.series = String(names.length);
    if (names.length === 0) {
      plots.get(key)?.plot.destroy();
      plots.delete(key);
      if (!el.querySelector('.waiting')) el.replaceChildren(Object.assign(document.createElement('div'), { className: 'waiting', textContent: 'waiting for data…' }));
      continue;
    }
    let entry = plots.get(key);
    const signature = names.join('\u0000');
    if (entry === undefined || entry.signature !== signature) {
      entry?.plot.destroy();
      entry = { plot: makePlot(el, names, spec), signature };
      plots.set(key, entry);
    }
    entry.plot.setData(data);
  }
}

new ResizeObserver(() => {
  for (const [key, entry] of plots) {
    const el = document.querySelector(`[data-chart="${key}"] .plot`);
    if (el.clientWidth > 0 && el.clientWidth !== entry.plot.width) entry.plot.setSize({ width: el.clientWidth, height: CHART_HEIGHT });
  }
}).observe(document.querySelector('main'));

// ---------------------------------------------------------------------------------------------
// Panels

function drawStatus(status) {
  const now = performance.now();
  if (state.lastEvents !== null && state.lastPollAt !== null && now > state.lastPollAt) {
    $('#rate').textContent = fmtInt.format(Math.max(0, ((status.eventsIn - state.lastEvents) * 1000) / (now - state.lastPollAt)));
  }
  state.lastEvents = status.eventsIn;
  state.lastPollAt = now;
  if (status.maxEventTime !== state.lastEventTime) {
    state.lastEventTime = status.maxEventTime;
    state.lastAdvanceAt = now;
  }
  $('#event-time').textContent = status.maxEventTime === null ? 'no events yet' : fmtTime(status.maxEventTime);
  $('#events').textContent = fmtInt.format(status.eventsIn);
  $('#late').textContent = fmtInt.format(status.lateEvents);
  $('#dead').textContent = fmtInt.format(status.deadLetters);
  $('#emitted').textContent = fmtInt.format(status.alertsEmitted);
  const stale = now - state.lastAdvanceAt > STALE_AFTER_MS;
  document.body.dataset.state = stale ? 'stale' : 'live';
  $('#message').textContent = stale ? 'no new events' : '';
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function describeGroup(alert) {
  const entries = Object.entries(alert.groupLabels ?? {});
  return entries.length === 0 ? 'all' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

function drawAlerts(answer, status) {
  const alerts = [...answer.alerts].sort((a, b) => (SEVERITY_ORDER[a.severity] ?? 9) - (SEVERITY_ORDER[b.severity] ?? 9) || a.windowEnd - b.windowEnd);
  const count = $('#alert-count');
  count.textContent = String(alerts.length);
  count.classList.toggle('hot', alerts.length > 0);
  $('#alerts').hidden = alerts.length === 0;
  $('#no-alerts').hidden = alerts.length > 0;
  const rows = alerts.map((a) => {
    const tr = document.createElement('tr');
    tr.dataset.rule = a.ruleName;
    const sev = document.createElement('td');
    sev.append(Object.assign(document.createElement('span'), { className: `sev ${a.severity}`, textContent: a.severity }));
    const now = status.maxEventTime ?? a.windowEnd;
    tr.append(sev, cell(a.ruleName, 'rule'), cell(describeGroup(a), 'group'), cell(fmtDuration(now - a.windowEnd), 'num'), cell(a.message));
    return tr;
  });
  $('#alerts tbody').replaceChildren(...rows);
}

function drawSecurity(security) {
  let injection = 0;
  let pii = 0;
  let inputs = 0;
  let outputs = 0;
  const hot = [];
  for (const g of security.groups) {
    const v = g.values;
    injection += v.injection ?? 0;
    pii += v.pii_findings ?? 0;
    inputs += v.inputs_scanned ?? 0;
    outputs += v.outputs_scanned ?? 0;
    const parts = [];
    if (v.injection > 0) parts.push(`${fmtInt.format(v.injection)} injection`);
    if (v.pii_findings > 0) parts.push(`${fmtInt.format(v.pii_findings)} PII`);
    if (parts.length > 0) hot.push(`${g.labels.service}: ${parts.join(', ')}`);
  }
  const put = (id, value, isHot) => {
    const el = $(id);
    el.querySelector('.v').textContent = fmtInt.format(value);
    el.classList.toggle('hot', isHot);
  };
  put('#c-injection', injection, injection > 0);
  put('#c-pii', pii, pii > 0);
  put('#c-inputs', inputs, false);
  put('#c-outputs', outputs, false);
  $('#security-by-service').textContent = hot.length > 0 ? hot.join(' · ') : 'nothing detected in the window';
}

// ---------------------------------------------------------------------------------------------
// Polling

async function poll() {
  const w = state.window;
  const qs = 'groupBy=model&q=0.5,0.95,0.99';
  try {
    const [status, latency, ttft, cost, errors, security, alerts] = await Promise.all([
      api('v1/status'),
      api(`v1/percentiles?metric=latency&${qs}&window=${w}`),
      api(`v1/percentiles?metric=ttft&${qs}&window=${w}`),
      api(`v1/signals/cost?groupBy=model&stats=usd_per_min&window=${w}`),
      api(`v1/signals/errors?groupBy=model&stats=count,error_rate,fallback_rate&window=${w}`),
      api(`v1/signals/security?groupBy=service&stats=inputs_scanned,injection,outputs_scanned,pii_findings&window=${w}`),
      api('v1/alerts?state=firing&limit=100'),
    ]);
    if (w === state.window) {
      record(status, latency, ttft, cost, errors, security);
      drawStatus(status);
      drawAlerts(alerts, status);
      drawSecurity(security);
      drawCharts();
    }
  } catch (err) {
    document.body.dataset.state = 'error';
    $('#message').textContent =
      err instanceof ApiError && err.status === 401 ? 'unauthorized: open the dashboard as /?token=<API token>' : `query API unreachable (${err.message})`;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

function bindToggle(groupId, attr, apply) {
  const group = $(groupId);
  group.addEventListener('click', (event) => {
    const button = event.target.closest('button');
    if (!button) return;
    for (const b of group.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b === button));
    apply(button.dataset[attr]);
  });
}

bindToggle('#quantile', 'q', (q) => {
  state.quantile = q;
  drawCharts();
});
bindToggle('#window', 'w', (w) => {
  if (w === state.window) return;
  state.window = w;
  // Points over different windows are not comparable: start the history again.
  state.history = [];
  drawCharts();
});

void poll();
