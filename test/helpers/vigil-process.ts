/**
 * `vigil run` as a child process for integration tests: writes its config, starts it from the
 * TypeScript sources, waits for its query API and readiness, and reads its status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineStatus } from '../../src/api/query-backend.js';
import { ROOT } from './cli.js';

/** A running `vigil run` child. */
export interface VigilProcess {
  child: ChildProcess;
  /** Base URL of its query API. */
  api: string;
  /** Everything it wrote to stderr so far (its JSON log). */
  stderr(): string;
  /** GET /v1/status. */
  status(): Promise<EngineStatus>;
  /** SIGTERM, then the exit code (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** Polls `fn` every 200 ms until it returns a value other than undefined; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Starts `vigil run` with `configYaml` (and `files`, e.g. a rules file, written next to it) and
 * resolves once its API answers `/readyz` with 200.
 */
export async function startVigilRun(configYaml: string, files: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}): Promise<VigilProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-run-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, 'vigil.yaml'), configYaml);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--config', join(dir, 'vigil.yaml')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const api = await waitFor(
    'the query API address in the log',
    async () => {
      if (child.exitCode !== null) throw new Error(`vigil run exited with ${child.exitCode}: ${stderr.slice(-2000)}`);
      const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(stderr);
      return m ? m[1] : undefined;
    },
    90_000,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}; its log ends: ${stderr.slice(-3000)}`);
  });
  await waitFor('readiness', async () => ((await fetch(`${api}/readyz`)).status === 200 ? true : undefined), 90_000);
  return {
    child,
    api,
    stderr: () => stderr,
    status: async () => (await (await fetch(`${api}/v1/status`)).json()) as EngineStatus,
    stop: async (timeoutMs = 60_000) => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const [code] = (await once(child, 'exit')) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
}
