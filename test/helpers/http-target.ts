/**
 * A local HTTP server on 127.0.0.1 standing in for Alertmanager or a Slack webhook in tests: it
 * records every request and answers with the status a test chooses.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the server received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  /** The status it was answered with. */
  status: number;
}

/** Chooses the status of the `index`-th request (0-based, over all requests). */
export type Responder = (request: Omit<RecordedRequest, 'status'>, index: number) => number;

/** A running {@link startHttpTarget} server. */
export interface HttpTarget {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Every request so far, answered ones and refused ones. */
  requests: RecordedRequest[];
  /** The requests answered 2xx. */
  accepted(): RecordedRequest[];
  /** Replaces how requests are answered. */
  respond(responder: Responder): void;
  /** Called after a response was written (e.g. to kill a process right after it was answered). */
  onAnswered?: (request: RecordedRequest) => void;
  close(): Promise<void>;
}

/** Starts a recording server on a free loopback port; by default it answers every request 200. */
export async function startHttpTarget(responder: Responder = () => 200): Promise<HttpTarget> {
  let respond = responder;
  const requests: RecordedRequest[] = [];
  const target: HttpTarget = {
    url: '',
    requests,
    accepted: () => requests.filter((r) => r.status >= 200 && r.status < 300),
    respond: (r) => (respond = r),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Kept as text.
      }
      const partial = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      const status = respond(partial, requests.length);
      const recorded = { ...partial, status };
      requests.push(recorded);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status < 300 ? '{}' : '{"error":"test says no"}', () => target.onAnswered?.(recorded));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return target;
}
