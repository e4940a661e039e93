/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and sums self time by function and by
 * area (kafkajs, avsc, Vigil's source/engine/operators, GC, idle…), so a bench can say what bounds
 * a process without opening DevTools.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time of one function or area. */
export interface ProfileEntry {
  readonly name: string;
  /** Share of all samples (idle included). */
  readonly share: number;
  readonly ms: number;
}

/** The summary of a profile. */
export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  /** Top functions by self time. */
  readonly functions: readonly ProfileEntry[];
  /** Self time by area. */
  readonly areas: readonly ProfileEntry[];
}

/** Which area a frame belongs to, from its script URL and name. */
export function areaOf(url: string, functionName: string): string {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'V8/native (program)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  const repo = /\/(src|operators)\/([^/]+)\/([^/]+?)\.[tj]s/.exec(url);
  if (repo) {
    if (repo[1] === 'operators') return `operators/${repo[2]}`;
    return `src/${repo[2]}`;
  }
  const top = /\/operators\/([^/]+?)\.[tj]s/.exec(url);
  if (top) return `operators/${top[1]}`;
  if (url.startsWith('node:') || url === '') return 'node core / builtins';
  return url.replace(/^.*\//, '');
}

/**
 * A part of a profile to summarise: milliseconds after the profile's start (the process start,
 * with `--cpu-prof`).
 */
export interface ProfileWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

/** Summarises one `.cpuprofile`, or only its samples within `window`. */
export function summarizeProfile(file: string, top = 15, window?: ProfileWindow): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    // Each sample's time is the delta to the next one.
    const { samples, timeDeltas } = profile;
    const fromUs = window ? window.fromMs * 1000 : -Infinity;
    const toUs = window ? window.toMs * 1000 : Infinity;
    let t = 0;
    for (let i = 0; i < samples.length; i++) {
      t += timeDeltas[i];
      if (t < fromUs || t > toUs) continue;
      const dt = i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0;
      selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, dt));
    }
  } else {
    const total = profile.endTime - profile.startTime;
    const hits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
    for (const n of profile.nodes) selfUs.set(n.id, ((n.hitCount ?? 0) * total) / Math.max(1, hits));
  }
  let totalUs = 0;
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const short = url.replace(/^.*\/(node_modules\/|src\/|operators\/)/, '$1');
    const fn = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const entries = (m: Map<string, number>, n: number): ProfileEntry[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / Math.max(1, totalUs) }));
  return { file, totalMs: totalUs / 1000, functions: entries(fns, top), areas: entries(areas, 12) };
}

/**
 * Summarises the busiest `.cpuprofile` in `dir` (the main thread's: with tsx, the module loader's
 * worker thread writes its own, mostly idle, profile), if any.
 */
export function summarizeProfileDir(dir: string, top = 15, window?: ProfileWindow): ProfileSummary | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  let best: ProfileSummary | undefined;
  let bestBusy = -1;
  for (const f of files) {
    const s = summarizeProfile(join(dir, f), top, window);
    const busy = s.totalMs * (1 - (s.areas.find((a) => a.name === 'idle')?.share ?? 0));
    if (busy > bestBusy) {
      best = s;
      bestBusy = busy;
    }
  }
  return best;
}

/** Markdown lines for a summary. */
export function formatProfile(p: ProfileSummary): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
  return [
    `| area (self time) | share |`,
    '|---|---|',
    ...p.areas.map((a) => `| ${a.name} | ${pct(a.share)} |`),
    '',
    `| function (self time) | share |`,
    '|---|---|',
    ...p.functions.map((f) => `| \`${f.name.replace(/\|/g, '\\|')}\` | ${pct(f.share)} |`),
  ].join('\n');
}
