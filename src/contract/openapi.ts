/**
 * The contract as an OpenAPI 3.1 document, built from the constants of this folder (paths, field,
 * header and part names, the error catalogue), so that it cannot drift from the code that the
 * mock, the client and the conformance suite share. `npm run openapi` writes it to
 * `openapi/beia.openapi.json`; the mock serves it at `GET /__admin/openapi.json`.
 *
 * What the vendor's page documents (D1 to D9 in CONTRACT.md) is marked `x-beia-source: "documented"`;
 * what only the mock decides (M1 to M10) is marked `x-beia-source: "mock"`.
 *
 * @example
 * ```ts
 * import { openApiDocument } from 'beia-kit/contract';
 * JSON.stringify(openApiDocument('0.1.0'), null, 2);
 * ```
 */
import { DOCUMENTED_STATUS_CODES, ERROR_CATALOGUE, type DocumentedErrorStatus, type ErrorCode } from './error-catalogue.js';
import { FIELD, HEADER, IMAGE_PATH, KNOWN_FIELDS, LIVE_ENDPOINT, PART, type PartName } from './protocol.js';

/** The address `beia mock` listens on with no option (README, "beia mock"). */
export const LOCAL_MOCK_ORIGIN = 'http://127.0.0.1:8080';

type FieldName = (typeof FIELD)[keyof typeof FIELD];
type Source = 'documented' | 'mock';
type Json = Record<string, unknown>;

/** The form fields that may be left out (D2): every other field of {@link FIELD} is required. */
const OPTIONAL_FIELDS: ReadonlySet<string> = new Set<FieldName>([FIELD.includeCroppedImage]);

/**
 * Route-level codes, described by responses of their own (404, 405) rather than with the mock's
 * other statuses under `default`; the admin API's (`admin_*`, `too_many_licenses`) are left out everywhere.
 */
const NOT_FROM_THIS_OPERATION: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['not_found', 'method_not_allowed', 'too_many_licenses']);

/** The faults `X-Beia-Mock-Scenario` can ask for on one request (the mock's `SCENARIO_FAULTS`; test/openapi.test.ts keeps them equal). */
const SCENARIO_FAULT_VALUES = ['latency; ms=N', 'reset', 'truncate', 'hang'] as const;

/**
 * `license-id` → `License-Id`: the headers as the vendor page spells them. HTTP header names are
 * case-insensitive; {@link HEADER} keeps them lower-case, as Node delivers them.
 */
function headerName(lowerCase: string): string {
  return lowerCase.replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => `${dash}${letter.toUpperCase()}`);
}

/** The image route's codes (the admin API's left out) for one status, in the catalogue's order. */
function codesFor(matches: (status: number) => boolean): ErrorCode[] {
  return (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).filter(
    (code) => !code.startsWith('admin_') && !NOT_FROM_THIS_OPERATION.has(code) && matches(ERROR_CATALOGUE[code].status),
  );
}

const creditsRemaining = headerName(HEADER.creditsRemaining);
const retryAfter = headerName(HEADER.retryAfter);
const licenseIdHeader = headerName(HEADER.licenseId);
const mockVersion = headerName(HEADER.mockVersion);
const mockScenario = headerName(HEADER.mockScenario);
const MOCK_VERSION_REF = { $ref: '#/components/headers/MockVersion' };

/** The form fields, one entry per name of {@link FIELD}: the compiler asks for a new field's description. */
const FIELD_SCHEMAS: Record<FieldName, Json> = {
  [FIELD.licenseId]: {
    type: 'string',
    description: `Client license ID (D2). Must equal the ${licenseIdHeader} header (D3).`,
    examples: ['1234'],
  },
  [FIELD.apiKey]: {
    type: 'string',
    format: 'password',
    description: 'Authentication key (D2). The mock compares it in constant time (M1) and never logs it or keeps it in its journal.',
    examples: ['5678'],
  },
  [FIELD.image]: {
    type: 'string',
    format: 'binary',
    contentMediaType: 'application/octet-stream',
    description:
      'Image to be processed, as a file part with a filename (D2). The vendor samples send it as application/octet-stream (D9); the mock reads the bytes, whatever the part says, and answers 415 when they are not an image that fully decodes.',
  },
  [FIELD.includeCroppedImage]: {
    type: 'boolean',
    default: false,
    description:
      'Whether the cropped image should be included in the response (D2): bool, default false; true changes the answer to multipart/mixed (D5). On the wire a form value: the mock accepts true, false, 1 and 0 in any case and answers 400 invalid_field to anything else (M4, rules.strictBooleans). What the live API accepts beyond true and false is not documented.',
  },
};

/** One entry per part name of {@link PART}. */
const PART_SCHEMAS: Record<PartName, Json> = {
  [PART.result]: { type: 'string', format: 'binary', contentMediaType: 'image/png', description: 'Main processed image, PNG (D5).' },
  [PART.cropped]: { type: 'string', format: 'binary', contentMediaType: 'image/png', description: 'Cropped image, PNG (D5).' },
  [PART.credits]: {
    type: 'integer',
    minimum: 0,
    contentMediaType: 'text/plain',
    description:
      'Remaining credits (D5). The mock sends the bare integer as text/plain (M5; rules.creditsPartFormat "json" sends {"credits":N} as application/json); the live API\'s format is not documented.',
  },
};

/**
 * Per documented error status: the rules behind it (D7 for all), what makes the mock answer it, and
 * whether the mock sends `Credits-Remaining` on it (M3). One entry per status of
 * {@link DOCUMENTED_STATUS_CODES}: the compiler asks for a new status's description.
 */
const ERROR_STATUS: Record<DocumentedErrorStatus, { rules: string; mock: string; creditsSent: boolean }> = {
  400: {
    rules: 'D2, D3, D7',
    mock: `when a field is missing, sent twice or invalid (D2, M4), the form has too many parts (M10), the ${licenseIdHeader} header is missing or differs from ${FIELD.licenseId} (D3), or the body is not multipart/form-data with a boundary (D1).`,
    creditsSent: false,
  },
  401: { rules: 'D7', mock: `when the license is unknown or the ${FIELD.apiKey} is not its key.`, creditsSent: false },
  402: {
    rules: 'D7',
    mock: 'when the license has no credit left, and only then (M2); a recorder (--record-from) past its --record-budget answers 402 record_budget_spent.',
    creditsSent: true,
  },
  403: {
    rules: 'D7, D8',
    mock: `when the request's address is not one of the license's authorised IPs, decided from the ${licenseIdHeader} header before the body is read (M1).`,
    creditsSent: false,
  },
  415: {
    rules: 'D7',
    mock: 'when the file is not an image, does not fully decode, or has more pixels than its limit (M10); replaying with --recordings-strict, when the upload has no recording.',
    creditsSent: true,
  },
  429: {
    rules: 'D7',
    mock: `when the license's or the server's images in processing are at their limit, or every credit left is held by one (M2, M7); try again after ${retryAfter}.`,
    creditsSent: true,
  },
  500: { rules: 'D7', mock: 'for an injected fault or the scenario header, when its store cannot be written or reached, or on a bug (M1).', creditsSent: true },
};

const ERROR_BODY_REF = '#/components/schemas/MockErrorBody';

/** The JSON error envelope with its `code` narrowed to the given codes. */
function errorContent(codes: readonly ErrorCode[]): Json {
  return {
    'application/json': {
      schema: {
        allOf: [
          { $ref: ERROR_BODY_REF },
          {
            type: 'object',
            properties: {
              error: {
                type: 'object',
                properties: {
                  code: {
                    type: 'string',
                    enum: [...codes],
                    'x-enum-descriptions': codes.map((code) => `${ERROR_CATALOGUE[code].title}${ERROR_CATALOGUE[code].documented ? '' : " (the mock's own)"}`),
                  },
                },
              },
            },
          },
        ],
      },
    },
  };
}

function creditsHeaderOnError(status: DocumentedErrorStatus): Json {
  return {
    description: `Credits left. The vendor page says every response carries it (D6); whether the live API sends it on errors is unknown. The mock ${
      ERROR_STATUS[status].creditsSent
        ? `sends it on a ${status}, the license being authenticated (M3; rules.creditsRemainingOnErrors: false omits it)`
        : `omits it on a ${status}, the license being not (yet) authenticated (M3)`
    }.`,
    required: false,
    schema: { type: 'integer', minimum: 0 },
    'x-beia-source': 'documented' satisfies Source,
  };
}

function errorResponse(status: DocumentedErrorStatus): Json {
  const code = DOCUMENTED_STATUS_CODES[status];
  const headers: Json = { [creditsRemaining]: creditsHeaderOnError(status) };
  if (status === 429) headers[retryAfter] = { $ref: '#/components/headers/RetryAfter' };
  headers[mockVersion] = MOCK_VERSION_REF;
  return {
    description: `${ERROR_CATALOGUE[code].title} (${ERROR_STATUS[status].rules}). The mock answers it ${ERROR_STATUS[status].mock}`,
    headers,
    content: errorContent(codesFor((s) => s === status)),
  };
}

/**
 * The BEIA image API as an OpenAPI 3.1.0 document: `POST /beia-api/v1/image` with its header,
 * form fields, both 200 answers and every documented error status (D7), plus what only the mock
 * adds, each marked as the mock's own: its JSON error body (M9), the `X-Beia-Mock-Scenario` and
 * `Prefer` request headers, the `X-Beia-Mock-Version` answer header, and its 404 and 405. Pure: the same version gives the same document.
 *
 * @param version - `info.version`: the package's version (package.json), which the mock serves as well.
 */
export function openApiDocument(version: string): Json {
  return {
    openapi: '3.1.0',
    info: documentInfo(version),
    servers: documentServers(),
    paths: { [IMAGE_PATH]: { post: processImageOperation() } },
    components: {
      parameters: requestHeaderParameters(),
      headers: answerHeaders(),
      schemas: { MockErrorBody: mockErrorBody() },
    },
  };
}

function documentInfo(version: string): Json {
  return {
    title: 'BEIA Image Processing API',
    version,
    summary: 'One image in (multipart/form-data), one PNG or a multipart/mixed bundle out; paid per image, from authorised static IPs only.',
    description: [
      "Generated by beia-kit from its contract (src/contract), following the vendor's API page (shared/beia-api-doc.txt), the only authority on the live API.",
      "Rule ids refer to CONTRACT.md: D1 to D9 are documented by the page, M1 to M10 are the mock's own choices where the page is silent.",
      'Elements marked `x-beia-source: "mock"` describe only the mock (beia mock); the live API may differ.',
      'The apiKey travels in the form, not in a header, so the document declares no security scheme.',
    ].join('\n\n'),
  };
}

function documentServers(): Json[] {
  return [
    {
      url: new URL(LIVE_ENDPOINT).origin,
      description: "The live BEIA API (D1): paid per image, reachable only from the license's authorised static IPs (D8).",
    },
    { url: LOCAL_MOCK_ORIGIN, description: 'beia mock on this machine (npm run mock): license 1234, apiKey 5678, 100 credits.' },
  ];
}

/** `POST /beia-api/v1/image`, the one operation. */
function processImageOperation(): Json {
  return {
    operationId: 'processImage',
    summary: 'Process an image',
    description: `Send an image with the license's credentials (D1, D2). Answers one PNG (D4), or with ${FIELD.includeCroppedImage}=true a multipart/mixed bundle (D5). The mock runs its checks in order, the first that fails answering (M1; rules.checkOrder, by default 403, 400, 401, 402, 429, 415).`,
    parameters: [{ $ref: '#/components/parameters/LicenseId' }, { $ref: '#/components/parameters/MockScenario' }, { $ref: '#/components/parameters/Prefer' }],
    requestBody: imageRequestBody(),
    responses: imageResponses(),
  };
}

/** The form of D2 as multipart/form-data (D1). */
function imageRequestBody(): Json {
  return {
    required: true,
    description: 'multipart/form-data (D1), with the fields of D2; the vendor samples are valid clients (D9).',
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          properties: Object.fromEntries(
            KNOWN_FIELDS.map((name) => [name, { ...FIELD_SCHEMAS[name as FieldName], 'x-beia-source': 'documented' satisfies Source }]),
          ),
          required: KNOWN_FIELDS.filter((name) => !OPTIONAL_FIELDS.has(name)),
        },
        encoding: {
          [FIELD.image]: { contentType: 'application/octet-stream, image/*' },
          [FIELD.licenseId]: { contentType: 'text/plain' },
          [FIELD.apiKey]: { contentType: 'text/plain' },
          [FIELD.includeCroppedImage]: { contentType: 'text/plain' },
        },
      },
    },
  };
}

/** The 200, every documented error status (D7), and the mock's own 404, 405 and other statuses. */
function imageResponses(): Json {
  const documentedStatuses = Object.keys(DOCUMENTED_STATUS_CODES).map(Number) as DocumentedErrorStatus[];
  const responses: Json = { 200: successResponse() };
  for (const status of documentedStatuses) responses[status] = errorResponse(status);
  // A wrong path or method: what a client (and the conformance suite's preflight) sees when the URL is not the endpoint.
  responses[404] = notFoundResponse();
  responses[405] = methodNotAllowedResponse();
  responses.default = mockOnlyResponse();
  return responses;
}

function successResponse(): Json {
  return {
    description: `Request processed successfully: one credit spent (D4, D5; the mock spends it only for a 200, M2).`,
    headers: {
      [creditsRemaining]: {
        description: 'Credits left after this request (D6).',
        required: true,
        schema: { type: 'integer', minimum: 0 },
        'x-beia-source': 'documented' satisfies Source,
      },
      [mockVersion]: MOCK_VERSION_REF,
    },
    content: {
      'image/png': {
        schema: {
          type: 'string',
          format: 'binary',
          contentMediaType: 'image/png',
          description: `The processed image, without ${FIELD.includeCroppedImage} (D4).`,
        },
      },
      'multipart/mixed': {
        schema: {
          type: 'object',
          description: `With ${FIELD.includeCroppedImage}=true (D5): Content-Type multipart/mixed; boundary=…, the parts named ${Object.values(PART).join(', ')}. The page says the answer "may contain" them; the mock sends all three, each with its Content-Type and Content-Disposition: inline; name="…" (a filename for the images), M5. Only ${PART.result} is required to read an answer.`,
          properties: { ...PART_SCHEMAS },
          required: [PART.result],
        },
      },
    },
    'x-beia-source': 'documented' satisfies Source,
  };
}

function notFoundResponse(): Json {
  return {
    description: `${ERROR_CATALOGUE.not_found.title}: the mock answers it to any path it does not serve (the API has one route, ${IMAGE_PATH}; the mock's controls are under /__admin), so a client sent to the base URL instead of the endpoint learns its path is wrong. The vendor page does not list it; what the live API answers to a wrong path is unknown.`,
    headers: { [mockVersion]: MOCK_VERSION_REF },
    content: errorContent(['not_found']),
    'x-beia-source': 'mock' satisfies Source,
  };
}

function methodNotAllowedResponse(): Json {
  return {
    description: `${ERROR_CATALOGUE.method_not_allowed.title}: the mock answers it to any method but POST on ${IMAGE_PATH}, with Allow: POST. The vendor page does not list it.`,
    headers: {
      Allow: {
        description: 'The one method of this path.',
        required: true,
        schema: { type: 'string', const: 'POST' },
        'x-beia-source': 'mock' satisfies Source,
      },
      [mockVersion]: MOCK_VERSION_REF,
    },
    content: errorContent(['method_not_allowed']),
    'x-beia-source': 'mock' satisfies Source,
  };
}

/** The mock's statuses that the vendor page does not list (M10, the recorder's 502), under `default`. */
function mockOnlyResponse(): Json {
  const mockOnly = codesFor((status) => !(status in DOCUMENTED_STATUS_CODES));
  return {
    description: `The mock's own statuses, which the vendor page does not list: ${mockOnly.map((code) => `${ERROR_CATALOGUE[code].status} ${code}`).join(', ')} (M10; 502 from a recorder that got no answer from the live API). The live API's are unknown.`,
    headers: { [mockVersion]: MOCK_VERSION_REF },
    content: errorContent(mockOnly),
    'x-beia-source': 'mock' satisfies Source,
  };
}

/** The request headers: the documented License-Id (D3), and the mock's X-Beia-Mock-Scenario and Prefer. */
function requestHeaderParameters(): Json {
  return {
    LicenseId: {
      name: licenseIdHeader,
      in: 'header',
      required: true,
      description: `Must match the form's ${FIELD.licenseId} (D3). The page's table makes it required; its Python sample calls it "recommended" (for load balancing). The mock answers 400 missing_license_header without it and license_header_mismatch when it differs (rules.requireLicenseHeader).`,
      schema: { type: 'string' },
      examples: { default: { value: '1234' } },
      'x-beia-source': 'documented' satisfies Source,
    },
    MockScenario: {
      name: mockScenario,
      in: 'header',
      required: false,
      description: `Only the mock reads it (rules.scenarioHeader, on by default): forces this one request's answer without changing any state. A status, ${Object.keys(DOCUMENTED_STATUS_CODES).join(', ')}, is answered at once without reading the body (${retryAfter} on a 429); a fault, ${SCENARIO_FAULT_VALUES.join(', ')} (reset, truncate and hang each with an optional "; phase=after": charged, then the answer is lost), acts after every check has passed, as an armed fault would. Any other value is a 400 invalid_scenario that lists these. The live API ignores it or refuses it: never send it there.`,
      schema: { type: 'string' },
      examples: { status: { value: '429' }, latency: { value: 'latency; ms=500' }, lostAnswer: { value: 'reset; phase=after' } },
      'x-beia-source': 'mock' satisfies Source,
    },
    Prefer: {
      name: 'Prefer',
      in: 'header',
      required: false,
      description: `RFC 7240, as Prism's users send it: the mock reads one preference, code=STATUS with STATUS one of ${Object.keys(DOCUMENTED_STATUS_CODES).join(', ')}, the same as ${mockScenario}: STATUS (which wins when both are sent). Any other preference is a 400 invalid_scenario. rules.scenarioHeader: false turns it off.`,
      schema: { type: 'string' },
      examples: { status: { value: 'code=429' } },
      'x-beia-source': 'mock' satisfies Source,
    },
  };
}

/** The answer headers the responses refer to, both the mock's own. */
function answerHeaders(): Json {
  return {
    MockVersion: {
      description:
        'The version of beia mock that answered, on every answer of the mock, so that a test can tell it is not talking to BEIA. The live API does not send it.',
      required: false,
      schema: { type: 'string' },
      'x-beia-source': 'mock' satisfies Source,
    },
    RetryAfter: {
      description: 'Seconds to wait before trying again. The vendor page does not name it; the mock sends it on every 429 (processing.retryAfterSeconds, M7).',
      required: false,
      schema: { type: 'integer', minimum: 0 },
      'x-beia-source': 'mock' satisfies Source,
    },
  };
}

/** The mock's JSON error body (M9), which every error response narrows to its codes. */
function mockErrorBody(): Json {
  return {
    type: 'object',
    description:
      "The mock's error body (M9): a stable code per case (the catalogue in src/contract/error-catalogue.ts) and a message that says what to do. The live API's error body is undocumented: a client must not depend on a body being there. The mock can send text or no body instead (rules.errorBody).",
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', description: 'Stable error code; a newer mock may send codes this version does not list.' },
          message: { type: 'string', description: 'For people: what went wrong and what to do. Not part of the API.' },
        },
      },
    },
    'x-beia-source': 'mock' satisfies Source,
  };
}
