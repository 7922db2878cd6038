import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import {
  DOCUMENTED_STATUS_CODES,
  ERROR_CATALOGUE,
  FIELD,
  HEADER,
  IMAGE_PATH,
  KNOWN_FIELDS,
  LIVE_ENDPOINT,
  PART,
  openApiDocument,
} from '../src/contract/index.js';
import { createMockApp, MOCK_VERSION } from '../src/mock/index.js';
import { SCENARIOS, SCENARIO_FAULTS } from '../src/mock/faults/scenario.js';
import { inProcessMock } from './helpers/app.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const COMMITTED = `${REPO}openapi/beia.openapi.json`;

async function packageVersion(): Promise<string> {
  return (JSON.parse(await readFile(`${REPO}package.json`, 'utf8')) as { version: string }).version;
}

/** Every `$ref` in the document, with where it was found. */
function refsOf(value: unknown, at = '#'): Array<{ ref: string; at: string }> {
  if (Array.isArray(value)) return value.flatMap((item, index) => refsOf(item, `${at}/${index}`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) => (key === '$ref' && typeof item === 'string' ? [{ ref: item, at }] : refsOf(item, `${at}/${key}`)));
}

/** The value a local JSON pointer (`#/a/b`) names, or undefined. */
function resolvePointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, segment) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined), document);
}

/** The header named `name` (any case) of an OpenAPI headers or parameters map. */
function findKey(map: Record<string, unknown> | undefined, name: string): string | undefined {
  return Object.keys(map ?? {}).find((key) => key.toLowerCase() === name.toLowerCase());
}

// The document read as plain JSON, the way a tool reads it: any path may be looked up.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document walked by key, each read checked by an expect
type Doc = Record<string, any>;
const documentedStatuses = Object.keys(DOCUMENTED_STATUS_CODES);

describe('the contract as OpenAPI 3.1', () => {
  it('is a valid OpenAPI 3.1 document, every $ref resolving', async () => {
    const document = openApiDocument(await packageVersion());
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors, JSON.stringify(result.errors, null, 2)).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    const unresolved = refsOf(document).filter(({ ref }) => resolvePointer(document, ref) === undefined);
    expect(unresolved).toEqual([]);
  });

  it('openapi/beia.openapi.json is what the code gives now', async () => {
    const expected = `${JSON.stringify(openApiDocument(await packageVersion()), null, 2)}\n`;
    const committed = await readFile(COMMITTED, 'utf8').catch(() => '(missing)');
    const hint = 'openapi/beia.openapi.json is out of date with src/contract: run `npm run openapi` and commit it';
    if (committed !== expected) {
      // A readable diff first, when the file is JSON at all; then the exact text (2-space JSON and a newline).
      let parsed: unknown = committed;
      try {
        parsed = JSON.parse(committed);
      } catch {
        // compared as text below
      }
      expect(parsed, hint).toEqual(JSON.parse(expected));
    }
    expect(committed, hint).toBe(expected);
  });

  it('is served by the mock at /__admin/openapi.json without a token, even when one is set', async () => {
    const { app } = createMockApp({ adminToken: 'admin-secret' });
    const guarded = await app.request('/__admin/licenses');
    expect(guarded.status).toBe(401);

    const response = await app.request('/__admin/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(openApiDocument(MOCK_VERSION));
    expect(MOCK_VERSION).toBe(await packageVersion());
  });

  describe('says what the contract says', () => {
    const document: Doc = openApiDocument('0.0.0-test');
    const operation = document.paths?.[IMAGE_PATH]?.post as Doc;
    const resolve = (node: Doc): Doc => (typeof node.$ref === 'string' ? (resolvePointer(document, node.$ref) as Doc) : node);

    it('POST on the image path, the live origin and the local mock as servers', () => {
      expect(document.openapi).toBe('3.1.0');
      expect(document.info.version).toBe('0.0.0-test');
      expect(Object.keys(document.paths)).toEqual([IMAGE_PATH]);
      expect(operation).toBeDefined();
      const urls = (document.servers as Array<{ url: string }>).map((server) => server.url);
      expect(urls).toContain('http://127.0.0.1:8080');
      expect(urls.map((url) => `${url}${IMAGE_PATH}`)).toContain(LIVE_ENDPOINT);
    });

    it('the License-Id header, required (D3)', () => {
      const parameters = (operation.parameters as Doc[]).map(resolve);
      const header = parameters.find((parameter) => parameter.in === 'header' && String(parameter.name).toLowerCase() === HEADER.licenseId);
      expect(header, HEADER.licenseId).toBeDefined();
      expect(header?.required).toBe(true);
      expect(header?.description).toContain('D3');
    });

    it('the form: every field, the required ones marked, the image binary (D2)', () => {
      const form = operation.requestBody.content['multipart/form-data'] as Doc;
      expect(operation.requestBody.required).toBe(true);
      expect(Object.keys(form.schema.properties)).toEqual([...KNOWN_FIELDS]);
      for (const name of KNOWN_FIELDS) expect(form.schema.properties[name].description, name).toMatch(/\bD2\b/);
      expect([...form.schema.required].sort()).toEqual(KNOWN_FIELDS.filter((name) => name !== FIELD.includeCroppedImage).sort());
      expect(form.schema.properties[FIELD.image]).toMatchObject({ type: 'string', format: 'binary' });
      expect(form.encoding[FIELD.image].contentType).toContain('application/octet-stream');
      expect(form.schema.properties[FIELD.includeCroppedImage]).toMatchObject({ type: 'boolean', default: false });
    });

    it('the 200s: a PNG (D4), or multipart/mixed with every part (D5); Credits-Remaining required (D6)', () => {
      const ok = operation.responses['200'] as Doc;
      expect(ok.content['image/png'].schema).toMatchObject({ type: 'string', format: 'binary' });
      expect(Object.keys(ok.content['multipart/mixed'].schema.properties).sort()).toEqual(Object.values(PART).sort());
      const credits = findKey(ok.headers, HEADER.creditsRemaining);
      expect(credits).toBeDefined();
      expect(ok.headers[credits!].required).toBe(true);
    });

    it('every documented status (D7) with Credits-Remaining, 429 with Retry-After, and the mock error body with its codes', () => {
      const responses = operation.responses as Doc;
      const fromThePage = Object.keys(responses).filter((status) => /^[45]\d\d$/.test(status) && responses[status]['x-beia-source'] !== 'mock');
      expect(fromThePage).toEqual(documentedStatuses);
      for (const status of documentedStatuses) {
        const response = responses[status] as Doc;
        expect(findKey(response.headers, HEADER.creditsRemaining), `${status} ${HEADER.creditsRemaining}`).toBeDefined();
        const schema = response.content['application/json'].schema as Doc;
        expect(schema.allOf[0].$ref).toBe('#/components/schemas/MockErrorBody');
        const codes = schema.allOf[1].properties.error.properties.code.enum as string[];
        const fromCatalogue = Object.entries(ERROR_CATALOGUE)
          // The admin API's codes (too_many_licenses among them) are not the image route's.
          .filter(([code, entry]) => String(entry.status) === status && !code.startsWith('admin_') && code !== 'too_many_licenses')
          .map(([code]) => code);
        expect(codes, status).toEqual(fromCatalogue);
        expect(codes, status).toContain(DOCUMENTED_STATUS_CODES[Number(status) as keyof typeof DOCUMENTED_STATUS_CODES]);
      }
      expect(findKey(responses['429'].headers, HEADER.retryAfter)).toBeDefined();
      const body = document.components.schemas.MockErrorBody as Doc;
      expect(body['x-beia-source']).toBe('mock');
      expect(body.description).toMatch(/M9/);
      expect(body.description).toMatch(/live API's error body is undocumented/);
    });
  });

  describe("says what only the mock adds, marked as the mock's", () => {
    const document: Doc = openApiDocument('0.0.0-test');
    const operation = document.paths[IMAGE_PATH].post as Doc;
    const resolve = (node: Doc): Doc => (typeof node.$ref === 'string' ? (resolvePointer(document, node.$ref) as Doc) : node);
    const parameters = (operation.parameters as Doc[]).map(resolve);

    it('the request headers X-Beia-Mock-Scenario (every status and fault it takes) and Prefer', () => {
      for (const name of [HEADER.mockScenario, 'prefer']) {
        const header = parameters.find((parameter) => parameter.in === 'header' && String(parameter.name).toLowerCase() === name);
        expect(header, name).toMatchObject({ required: false, 'x-beia-source': 'mock' });
      }
      const scenario = parameters.find((parameter) => String(parameter.name).toLowerCase() === HEADER.mockScenario)!;
      for (const value of [...SCENARIOS, ...SCENARIO_FAULTS]) expect(scenario.description, value).toContain(value);
      const prefer = parameters.find((parameter) => String(parameter.name).toLowerCase() === 'prefer')!;
      expect(prefer.description).toContain('code=STATUS');
    });

    it('X-Beia-Mock-Version on every answer, and the 404 and 405 with their codes', () => {
      const responses = operation.responses as Doc;
      for (const [status, response] of Object.entries(responses)) {
        const name = findKey(response.headers as Record<string, unknown>, HEADER.mockVersion);
        expect(name, `${status} ${HEADER.mockVersion}`).toBeDefined();
        expect(resolve(response.headers[name!])['x-beia-source'], status).toBe('mock');
      }
      for (const [status, code] of [
        ['404', 'not_found'],
        ['405', 'method_not_allowed'],
      ] as const) {
        expect(responses[status]['x-beia-source'], status).toBe('mock');
        expect(responses[status].content['application/json'].schema.allOf[1].properties.error.properties.code.enum).toEqual([code]);
      }
      expect(findKey(responses['405'].headers, 'allow')).toBeDefined();
    });

    it("the mock's own 404, 405 and version header are what it answers", async () => {
      const { app } = createMockApp();
      const responses = operation.responses as Doc;
      const wrongPath = await app.request('/', { method: 'POST' });
      const wrongMethod = await app.request(IMAGE_PATH, { method: 'GET' });
      for (const [response, status] of [
        [wrongPath, '404'],
        [wrongMethod, '405'],
      ] as const) {
        expect(response.status).toBe(Number(status));
        expect(response.headers.get(HEADER.mockVersion)).toBe(MOCK_VERSION);
        const body = (await response.json()) as { error: { code: string } };
        expect(responses[status].content['application/json'].schema.allOf[1].properties.error.properties.code.enum).toContain(body.error.code);
      }
      expect(wrongMethod.headers.get('allow')).toBe('POST');
    });
  });

  it("the mock's forced errors match what the document says of them", async () => {
    const mock = inProcessMock();
    const document: Doc = openApiDocument(MOCK_VERSION);
    const operation = document.paths[IMAGE_PATH].post as Doc;
    for (const status of documentedStatuses) {
      const response = await mock.post('', { headers: { 'X-Beia-Mock-Scenario': status } });
      expect(response.status).toBe(Number(status));
      const body = (await response.json()) as { error: { code: string; message: string } };
      const described = operation.responses[status] as Doc;
      expect(described.content['application/json'].schema.allOf[1].properties.error.properties.code.enum).toContain(body.error.code);
      expect(typeof body.error.message).toBe('string');
      if (status === '429') expect(response.headers.get(HEADER.retryAfter)).toMatch(/^\d+$/);
    }
  });
});
