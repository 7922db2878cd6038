import { request } from 'undici';

/** The beia mock's admin API, for the cases tagged `admin-api` (faults, a zero-credit license). */
export class AdminApi {
  readonly #base: string;
  readonly #token: string | undefined;

  constructor(origin: string, token?: string) {
    this.#base = `${origin}/__admin`;
    this.#token = token;
  }

  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    const res = await request(`${this.#base}${path}`, {
      method: method as 'POST',
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`Failed to call the admin API (${method} ${path}): ${res.statusCode} ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : undefined;
  }

  armFault(spec: { type: string; count?: number; probability?: number; latencyMs?: number; licenseId?: string }): Promise<unknown> {
    return this.call('POST', '/faults', spec);
  }

  clearFaults(): Promise<unknown> {
    return this.call('DELETE', '/faults');
  }

  putLicense(licenseId: string, body: { apiKey: string; credits: number; allowedIps: string[]; maxConcurrent?: number }): Promise<unknown> {
    return this.call('PUT', `/licenses/${encodeURIComponent(licenseId)}`, body);
  }
}
