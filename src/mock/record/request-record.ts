import type { FaultType } from '../faults/model.js';

/** One part of a request as the journal records it: never a field's value when it is a secret. */
export interface JournalPart {
  name: string;
  kind: 'field' | 'file';
  size: number;
  contentType?: string;
  filename?: string;
  sha256?: string;
  /** Text fields but an API key under any spelling of its name (`api_key`, ` API-Key`...), cut to 64 characters. */
  value?: string;
}

/**
 * What the mock learnt about one request, defined once: the log line ({@link RequestLogLine}) and
 * the journal entry (`JournalEntry`) are views of it ({@link logLineOf}, {@link journalEntryOf}).
 * The route fills it in as it goes; `finishRecord` stamps the answer's status and duration.
 */
export interface RequestRecord {
  time: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  remoteAddress?: string;
  licenseId?: string;
  code?: string;
  /** Node's HTTP parser error the mock answered (`HPE_INVALID_METHOD`, `HPE_HEADER_OVERFLOW`, `ERR_HTTP_REQUEST_TIMEOUT`, ...). */
  error?: string;
  scenario?: string;
  fault?: FaultType;
  creditsRemaining?: number;
  /** A fault with `phase: "after"` spent the credit, then lost the answer. */
  charged?: true;
  answerLost?: true;
  /** This client came back before the `Retry-After` of its last 429 for this license (docs/mock.md, "Retry discipline"). */
  retryTooEarly?: true;
  /** By how much, in milliseconds. */
  earlyByMs?: number;
  /** Whether the images came from the result cache (absent when no image was rendered). */
  cacheHit?: boolean;
  /** The images were a recording of the live API (`beia mock --recordings DIR`). */
  replayed?: true;
  /** The recorder forwarded the request to the live API and kept its 200 (`beia mock --record-from URL`). */
  recorded?: true;
  /** The form's parts, once it was read. */
  parts?: JournalPart[];
  /** The answer's headers, as sent, with lower-case names (for the dashboard's details). */
  responseHeaders?: Record<string, string>;
}

/** What the metrics need besides the record, never logged nor journaled. */
export interface RecordExtras {
  /** The store failed this request (metrics count it). */
  storeError?: true;
  /** The license whose key the request proved (metrics label by it; a claimed id is not enough). */
  authenticated?: string;
  /** A transport fault's break of the connection, done once the request is on record. */
  breakConnection?: () => void;
}

/** The facts a log line shows, in this order after its head: every fact of the record but the parts and the headers. */
const LOG_KEYS = [
  'remoteAddress',
  'licenseId',
  'code',
  'error',
  'scenario',
  'fault',
  'creditsRemaining',
  'charged',
  'answerLost',
  'retryTooEarly',
  'earlyByMs',
  'cacheHit',
  'replayed',
  'recorded',
] as const satisfies readonly (keyof RequestRecord)[];

type JournalKey = Exclude<(typeof LOG_KEYS)[number], 'error'>;

/** The facts a journal entry shows after its head: those of the log line but Node's parser error. */
const JOURNAL_KEYS = LOG_KEYS.filter((key): key is JournalKey => key !== 'error');

type Head = Pick<RequestRecord, 'time' | 'method' | 'path' | 'status' | 'durationMs'>;

/** One line per request, as the mock logs it (JSON on stdout from `beia mock`): a view of the {@link RequestRecord}. */
export type RequestLogLine = Head & { level: 'info' | 'warn' | 'error'; msg: 'request' } & Partial<Pick<RequestRecord, (typeof LOG_KEYS)[number]>>;

/** A request as the journal keeps it (`GET /__admin/journal`): a view of the {@link RequestRecord}, numbered by the store. */
export type JournalEntry = { seq: number } & Head & Partial<Pick<RequestRecord, JournalKey | 'responseHeaders'>> & { parts: JournalPart[] };

/** A record as a request begins: what the request line and the socket tell. */
export function beginRecord(method: string, path: string, remoteAddress?: string): RequestRecord {
  const record: RequestRecord = { time: '', method, path, status: 0, durationMs: 0 };
  if (remoteAddress !== undefined) record.remoteAddress = remoteAddress;
  return record;
}

/** The log level of an answer's status. */
export function levelOf(status: number): RequestLogLine['level'] {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
}

/** The log line of a record. */
export function logLineOf(record: RequestRecord): RequestLogLine {
  const line: RequestLogLine = {
    time: record.time,
    // A client that came back too early is warned about, whatever the answer.
    level: record.retryTooEarly ? 'warn' : levelOf(record.status),
    msg: 'request',
    method: record.method,
    path: record.path,
    status: record.status,
    durationMs: record.durationMs,
  };
  copyDefined(record, line, LOG_KEYS);
  return line;
}

/** The journal entry of a record, without its number (the store gives it). */
export function journalEntryOf(record: RequestRecord): Omit<JournalEntry, 'seq'> {
  const entry: Omit<JournalEntry, 'seq'> = {
    time: record.time,
    method: record.method,
    path: record.path,
    status: record.status,
    durationMs: record.durationMs,
    parts: record.parts ?? [],
  };
  copyDefined(record, entry, JOURNAL_KEYS);
  if (record.responseHeaders) entry.responseHeaders = record.responseHeaders;
  return entry;
}

/** Copies the keys that hold a value, in the keys' order: a plain loop, as it runs on every request. */
function copyDefined<K extends keyof RequestRecord>(from: RequestRecord, to: Partial<Pick<RequestRecord, K>>, keys: readonly K[]): void {
  for (const key of keys) {
    const value = from[key];
    if (value !== undefined) to[key] = value;
  }
}
