import { randomBytes } from 'node:crypto';
import { Agent, request, type Dispatcher } from 'undici';
import { FIELD, HEADER } from '../contract/index.js';

/** A part of the form, as the case wants it sent: a text field or a file. */
export type FormPart = { name: string; value: string } | { name: string; filename: string; contentType: string; data: Uint8Array };

export interface WireRequest {
  parts?: FormPart[];
  /** Raw body instead of a form. */
  body?: Uint8Array | string;
  headers?: Record<string, string | undefined>;
  method?: string;
  /** Send from this local address (for the allowlist cases). */
  localAddress?: string;
  /**
   * The request carries these credentials as given, and the plan expects the target to accept
   * them: a 401 or 403 to it is the caller's mistake (a wrong key, a wrong license, a machine off
   * the allowlist), and stops the run.
   */
  accepts?: 'run' | 'zero-credit-license';
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  durationMs: number;
}

/**
 * Raw HTTP for cases about the wire: a multipart/form-data body built part by part (RFC 7578),
 * so a case can leave a field out, send it twice, or send what no client would.
 */
export class Wire {
  readonly #endpoint: string;
  readonly #agents = new Map<string, Dispatcher>();
  readonly #dispatcherFor: ((localAddress?: string) => Dispatcher) | undefined;
  readonly #signal: AbortSignal | undefined;

  /**
   * `dispatcherFor` replaces undici's agents (which it then does not close): e.g. an in-process
   * mock. `signal` aborts every request in flight and refuses new ones (an interrupted run).
   */
  constructor(endpoint: string, dispatcherFor?: (localAddress?: string) => Dispatcher, signal?: AbortSignal) {
    this.#endpoint = endpoint;
    this.#dispatcherFor = dispatcherFor;
    this.#signal = signal;
  }

  async send(req: WireRequest): Promise<WireResponse> {
    const headers: Record<string, string> = {};
    let body: Uint8Array | string | undefined = req.body;
    if (req.parts) {
      const boundary = `conformance-${randomBytes(8).toString('hex')}`;
      body = formData(req.parts, boundary);
      headers['content-type'] = `multipart/form-data; boundary=${boundary}`;
    }
    for (const [name, value] of Object.entries(req.headers ?? {})) {
      if (value === undefined) delete headers[name.toLowerCase()];
      else headers[name.toLowerCase()] = value;
    }
    const started = performance.now();
    const res = await request(this.#endpoint, {
      method: req.method ?? 'POST',
      headers,
      ...(body === undefined ? {} : { body }),
      ...(this.#signal ? { signal: this.#signal } : {}),
      dispatcher: this.#agent(req.localAddress),
    });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
    return { status: res.statusCode, headers: flat, body: bytes, durationMs: Math.round(performance.now() - started) };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#agents.values()].map((agent) => agent.close()));
  }

  #agent(localAddress: string | undefined): Dispatcher {
    const key = localAddress ?? '';
    let agent = this.#agents.get(key);
    if (!agent && this.#dispatcherFor) return this.#dispatcherFor(localAddress);
    if (!agent) {
      agent = new Agent(localAddress ? { localAddress } : {});
      this.#agents.set(key, agent);
    }
    return agent;
  }
}

/** The vendor's request, as curl sends it (D9): header and form license, the image as octet-stream. */
export function vendorRequest(licenseId: string, apiKey: string, image: Uint8Array, extra: FormPart[] = []): WireRequest {
  return {
    headers: { [HEADER.licenseId]: licenseId },
    parts: [
      { name: FIELD.image, filename: '001.jpg', contentType: 'application/octet-stream', data: image },
      { name: FIELD.apiKey, value: apiKey },
      { name: FIELD.licenseId, value: licenseId },
      ...extra,
    ],
  };
}

/** A multipart/form-data body (RFC 7578) of these parts, in order. */
export function formData(parts: FormPart[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if ('value' in part) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value}\r\n`));
    } else {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\nContent-Type: ${part.contentType}\r\n\r\n`,
        ),
        Buffer.from(part.data),
        Buffer.from('\r\n'),
      );
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
