import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach } from 'vitest';

/** An answer as the proxy passes it on, for a deviation to change. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface Deviation {
  /** Changes the answer before the client sees it; may send the request again through `resend`. */
  answer?: (answer: Answer, request: { body: Buffer; resend: (body: Buffer) => Promise<Answer> }) => Promise<Answer> | Answer;
  /** Milliseconds to hold each request before forwarding it: parallel requests then reach the mock in another order. */
  holdMs?: () => number;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/**
 * A server that breaks one rule of the contract: it forwards every request to a real beia mock
 * (telling it the client's address in X-Forwarded-For, which the mock must trust) and changes the
 * answers as the deviation says. Loopback only.
 */
export async function deviantServer(upstream: string, deviation: Deviation): Promise<string> {
  const upstreamUrl = new URL(upstream);
  // A request whose body fails (the client went away) drops the connection instead of leaving
  // an unhandled rejection behind.
  const server = createServer((req, res) => void handle(req, res).catch((error: Error) => res.destroy(error)));
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const forward = async (payload: Buffer): Promise<Answer> => {
      const headers = clean(req.headers);
      headers['x-forwarded-for'] = req.socket.remoteAddress ?? '127.0.0.1';
      headers['content-length'] = String(payload.length);
      const answer = await request(new URL(req.url ?? '/', upstreamUrl.origin), {
        method: req.method as 'POST',
        headers,
        body: payload.length ? payload : null,
      });
      const flat: Record<string, string> = {};
      for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
      return { status: answer.statusCode, headers: flat, body: Buffer.from(await answer.body.arrayBuffer()) };
    };
    try {
      const hold = deviation.holdMs?.() ?? 0;
      if (hold > 0) await new Promise((resolve) => setTimeout(resolve, hold));
      let answer = await forward(body);
      if (deviation.answer) answer = await deviation.answer(answer, { body, resend: forward });
      delete answer.headers['content-length'];
      delete answer.headers['transfer-encoding'];
      delete answer.headers.connection;
      delete answer.headers['keep-alive'];
      res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
      res.end(answer.body);
    } catch (error) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`deviant proxy: ${(error as Error).message}`);
    }
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${upstreamUrl.pathname}`;
}

function clean(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || ['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive'].includes(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
