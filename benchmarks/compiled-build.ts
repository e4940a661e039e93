/**
 * Whether `dist/` (what `npm run build` compiles, and what `vigil` runs) is current with the
 * TypeScript sources, so that a bench can measure the compiled build users run instead of the
 * sources through tsx.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The directories `npm run build` compiles (tsconfig.build.json). */
const COMPILED_DIRS = ['src', 'operators'];

/** What a bench ran: the compiled build as users run it, or the sources through tsx. */
export interface BenchRuntime {
  readonly kind: 'compiled' | 'tsx';
  /** Why tsx was used (dist/ missing or stale, or asked for); empty for the compiled build. */
  readonly reason: string;
}

/**
 * Why `dist/` under `root` cannot stand for the sources: not built, or some `.ts` file has no
 * `.js` or a newer modification time than its `.js`. Undefined when it is current.
 */
export function distStaleness(root: string): string | undefined {
  if (!existsSync(path.join(root, 'dist'))) return 'dist/ is not built';
  const pending = [...COMPILED_DIRS];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) pending.push(rel);
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
      const js = path.join('dist', rel.slice(0, -'.ts'.length) + '.js');
      let jsTime: number;
      try {
        jsTime = statSync(path.join(root, js)).mtimeMs;
      } catch {
        return `${js} is missing`;
      }
      if (jsTime < statSync(path.join(root, rel)).mtimeMs) return `${rel} is newer than ${js}`;
    }
  }
  return undefined;
}

/** What a bench's `vigil` child ran, in words. */
export function runtimeText(runtime: BenchRuntime): string {
  return runtime.kind === 'compiled' ? 'the compiled build (dist/ on plain node), as `vigil` runs' : `the TypeScript sources through tsx (${runtime.reason}; \`npm run build\` to measure the compiled build)`;
}
