import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../codec/schemas.js';

/** The dashboard's static files: one page and one module, served from the package's source tree. */
export function dashboardDir(): string {
  return join(packageRoot(), 'src', 'api', 'dashboard');
}

function uplotDir(): string {
  return dirname(createRequire(import.meta.url).resolve('uplot'));
}

// Every file the routes serve, by URL: nothing else under either folder is reachable.
const FILES: Readonly<Record<string, { dir: () => string; file: string; type: string }>> = {
  '/': { dir: dashboardDir, file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { dir: dashboardDir, file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/vendor/uPlot.esm.js': { dir: uplotDir, file: 'uPlot.esm.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/vendor/uPlot.min.css': { dir: uplotDir, file: 'uPlot.min.css', type: 'text/css; charset=utf-8' },
};

/**
 * The live dashboard: `GET /` (the page), its module and uPlot (from the installed `uplot`
 * package). The page holds no data; it polls the JSON API every 2 s, sending the `?token=` it was
 * opened with as a bearer header, so these routes are public (`config.public`: no token needed,
 * still rate limited). Files are read once and kept; the routes are hidden from the OpenAPI document.
 */
export function registerDashboardRoutes(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  for (const [url, spec] of Object.entries(FILES)) {
    app.get(url, { schema: { hide: true }, config: { public: true } }, async (_request, reply) => {
      let body = cache.get(url);
      if (body === undefined) {
        body = await readFile(join(spec.dir(), spec.file));
        cache.set(url, body);
      }
      return reply
        .type(spec.type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'")
        .send(body);
    });
  }
}
