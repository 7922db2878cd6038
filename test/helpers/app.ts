import { IMAGE_PATH } from '../../src/contract/index.js';
import { createMockApp, validateConfig, type MockAppOptions } from '../../src/mock/index.js';
import { imageForm, type ImageFormFields } from './forms.js';

export interface PostOptions {
  /** Headers to add; `License-Id: 1234` is sent unless overridden or set to null. */
  headers?: Record<string, string | null>;
  /** The address the request seems to come from. */
  peerAddress?: string;
}

/** An in-process mock with a config of the given overrides, and helpers to call it. */
export function inProcessMock(configOverrides: unknown = {}, options: Omit<MockAppOptions, 'config'> = {}) {
  const mock = createMockApp({ ...options, config: validateConfig(configOverrides) });

  async function post(body: FormData | { body: Uint8Array; contentType: string } | string, post: PostOptions = {}): Promise<Response> {
    const headers = new Headers();
    const wanted = { 'License-Id': '1234', ...post.headers };
    for (const [name, value] of Object.entries(wanted)) if (value !== null) headers.set(name, value);
    let requestBody: BodyInit;
    if (body instanceof FormData || typeof body === 'string') requestBody = body;
    else {
      requestBody = new Uint8Array(body.body);
      headers.set('Content-Type', body.contentType);
    }
    return mock.app.request(IMAGE_PATH, { method: 'POST', body: requestBody, headers }, { peerAddress: post.peerAddress ?? '127.0.0.1' });
  }

  /** POST the vendor's form with these fields (the image is required by the caller). */
  function postImage(fields: ImageFormFields, options: PostOptions = {}): Promise<Response> {
    return post(imageForm(fields), options);
  }

  async function admin(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    }
    return mock.app.request(`/__admin${path}`, init);
  }

  async function credits(licenseId = '1234'): Promise<number | undefined> {
    return (await mock.store.getLicense(licenseId))?.credits;
  }

  return { ...mock, post, postImage, admin, credits };
}

/** The error code of a JSON error body. */
export async function errorCode(response: Response): Promise<string> {
  const body = (await response.json()) as { error?: { code?: string } };
  return body.error?.code ?? '(no code)';
}
