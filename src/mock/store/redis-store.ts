import type { Redis } from 'ioredis';
import type { LicenseConfig } from '../config/index.js';
import { redactUrl } from '../../shared/index.js';
import { StoreError } from './store-error.js';
import { newArmedFault } from '../faults/index.js';
import { DEFAULT_MAX_JOURNAL_BYTES, type JournalBounds } from './journal-bounds.js';
import type {
  Admission,
  ArmedFault,
  FaultSpec,
  FiredFault,
  JournalEntry,
  LicenseState,
  MockStore,
  NewLicense,
  RetryWatch,
  Settlement,
  StoreCounters,
  Ticket,
} from './types.js';

export interface RedisStoreOptions extends JournalBounds {
  /** The licenses of an empty store (nothing under `prefix` yet), or of every start with `reset`. */
  seed: readonly LicenseConfig[];
  /** Start from `seed` even when Redis holds state (`--reset-store`). */
  reset?: boolean;
  /** Every key starts with it, so several mocks can share one Redis. */
  prefix: string;
  /** A processing slot is a lease this long, renewed while the image is processed: a replica killed mid-request frees its slots when it ends. */
  slotLeaseMs: number;
  /**
   * When the state is found gone under the running mock (the `seeded` marker missing: a Redis
   * restarted without persistence, a `FLUSHALL`): `reseed` from `seed` (the default; of several
   * replicas, one does), or stay `degraded` until `reset` (`POST /__admin/reset`) or a restart.
   */
  onStateLost?: 'reseed' | 'degraded';
  /** How often the marker is looked at besides each reconnection, in ms; 5000 by default. */
  stateCheckMs?: number;
}

// Every script reads the time from Redis, so replicas whose clocks differ agree on leases and expiry.
const NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** A license that is there and not past its expiresAt (stored as milliseconds). */
const LIVE = `
local function live(p, id, now)
  local key = p .. 'license:' .. id
  if redis.call('EXISTS', key) == 0 then return nil end
  local expires = redis.call('HGET', key, 'expiresAt')
  if expires and tonumber(expires) <= now then return nil end
  return key
end`;

/**
 * The journal is a list of lines, `seq <tab> how early ('' for not) <tab> the entry's JSON without
 * seq`, and `journal:bytes` beside it holds the sum of their sizes. A line's size is the bytes of
 * the entry's JSON as `listJournal` gives it (seq first, the retry flags last), the measure of
 * the memory store, so every store keeps the same entries under the same `maxJournalBytes`.
 */
const JOURNAL_SIZE = `
local function entrySize(line)
  local a = string.find(line, '\\t', 1, true)
  local b = string.find(line, '\\t', a + 1, true)
  -- '"seq":' .. seq .. ',' in front; ',"retryTooEarly":true,"earlyByMs":' .. early at the end.
  local size = #line - b + (a - 1) + 7
  if b > a + 1 then size = size + (b - a - 1) + 34 end
  return size
end
-- The counter of a journal an older beia-kit wrote without one: counted once from the list.
local function journalBytes(p)
  local bytes = redis.call('GET', p .. 'journal:bytes')
  if bytes then return tonumber(bytes) end
  local total = 0
  for _, line in ipairs(redis.call('LRANGE', p .. 'journal', 0, -1)) do total = total + entrySize(line) end
  redis.call('SET', p .. 'journal:bytes', total)
  return total
end`;

/** Deletes licenses with their journal entries (one pass over the journal) and the faults armed for them. */
const DROP = `
local function dropLicenses(p, ids)
  if #ids == 0 then return end
  local gone = {}
  for _, id in ipairs(ids) do
    gone[id] = true
    redis.call('DEL', p .. 'license:' .. id)
    redis.call('SREM', p .. 'licenses', id)
    redis.call('ZREM', p .. 'expiries', id)
  end
  local bytes = journalBytes(p)
  for _, entry in ipairs(redis.call('LRANGE', p .. 'journal', 0, -1)) do
    local ok, decoded = pcall(cjson.decode, string.sub(entry, string.find(entry, '\\t', string.find(entry, '\\t') + 1) + 1))
    if ok and type(decoded.licenseId) == 'string' and gone[decoded.licenseId] then
      redis.call('LREM', p .. 'journal', 0, entry)
      bytes = bytes - entrySize(entry)
    end
  end
  redis.call('SET', p .. 'journal:bytes', bytes)
  for _, fid in ipairs(redis.call('ZRANGE', p .. 'faults', 0, -1)) do
    local text = redis.call('GET', p .. 'fault:' .. fid)
    if text then
      local fault = cjson.decode(text)
      if type(fault.licenseId) == 'string' and gone[fault.licenseId] then
        redis.call('DEL', p .. 'fault:' .. fid)
        redis.call('ZREM', p .. 'faults', fid)
      end
    end
  end
end`;

const SCRIPTS = {
  // ARGV: prefix, licenseId, globalMax, leaseMs -> {reason, credits, ticket?, faultsArmed?}; faultsArmed
  // (the number of faults armed) spares processing a takeFault round trip when it is 0.
  beiaAdmit: `${NOW}${LIVE}
local p, id = ARGV[1], ARGV[2]
local key = live(p, id, now)
if not key then return {'unknown-license', 0} end
local slots, all = p .. 'slots:' .. id, p .. 'slots'
redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
redis.call('ZREMRANGEBYSCORE', all, '-inf', now)
local credits = tonumber(redis.call('HGET', key, 'credits'))
if credits <= 0 then return {'no-credits', credits} end
local held = redis.call('ZCARD', slots)
if credits - held <= 0 then return {'credits-reserved', credits} end
if held >= tonumber(redis.call('HGET', key, 'maxConcurrent')) then return {'license-busy', credits} end
if redis.call('ZCARD', all) >= tonumber(ARGV[3]) then return {'server-busy', credits} end
local ticket = redis.call('INCR', p .. 'ticket')
if ticket == 1 then
  -- A counter that starts (a new store, or one whose state was lost): from Redis's clock, so that a
  -- ticket a replica still holds from before is never given again.
  ticket = now * 1000
  redis.call('SET', p .. 'ticket', string.format('%.0f', ticket))
end
local t = string.format('%.0f', ticket)
local lease = now + tonumber(ARGV[4])
redis.call('ZADD', slots, lease, t)
redis.call('ZADD', all, lease, id .. '|' .. t)
return {'ok', credits, ticket, redis.call('ZCARD', p .. 'faults')}`,

  // ARGV: prefix, licenseId, ticket, spend(1|0), recordMs -> {spent, credits}. Once per ticket: the
  // outcome is recorded (settled:<ticket>, for recordMs), and a second settle changes nothing and
  // gives the first outcome, so a settle retried after its answer was lost is safe.
  beiaSettle: `
local p, id, ticket = ARGV[1], ARGV[2], ARGV[3]
local done = p .. 'settled:' .. ticket
local before = redis.call('GET', done)
if before then
  local sep = string.find(before, ':', 1, true)
  return {tonumber(string.sub(before, 1, sep - 1)), tonumber(string.sub(before, sep + 1))}
end
local held = redis.call('ZREM', p .. 'slots:' .. id, ticket)
redis.call('ZREM', p .. 'slots', id .. '|' .. ticket)
local key = p .. 'license:' .. id
local credits = tonumber(redis.call('HGET', key, 'credits') or '0')
local spent = 0
if held == 1 and ARGV[4] == '1' and credits > 0 then
  credits = redis.call('HINCRBY', key, 'credits', -1)
  spent = 1
end
redis.call('SET', done, spent .. ':' .. credits, 'PX', ARGV[5])
return {spent, credits}`,

  // ARGV: prefix, licenseId, ticket, recordMs -> credits. Settles a ticket as released whatever
  // happened before: the settle of a request that got no 200 failed, and its answer may have been
  // lost after Redis ran it. Spent by that call: the credit comes back. Not settled: the slot is freed.
  beiaUnsettle: `
local p, id, ticket = ARGV[1], ARGV[2], ARGV[3]
local done = p .. 'settled:' .. ticket
local key = p .. 'license:' .. id
local before = redis.call('GET', done)
if before then
  if string.sub(before, 1, 2) == '1:' and redis.call('EXISTS', key) == 1 then redis.call('HINCRBY', key, 'credits', 1) end
else
  redis.call('ZREM', p .. 'slots:' .. id, ticket)
  redis.call('ZREM', p .. 'slots', id .. '|' .. ticket)
end
local credits = tonumber(redis.call('HGET', key, 'credits') or '0')
redis.call('SET', done, '0:' .. credits, 'PX', ARGV[4])
return credits`,

  // ARGV: prefix, leaseMs, then licenseId, ticket pairs: only leases still held are extended.
  beiaRenew: `${NOW}
local p, lease = ARGV[1], now + tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  redis.call('ZADD', p .. 'slots:' .. ARGV[i], 'XX', lease, ARGV[i + 1])
  redis.call('ZADD', p .. 'slots', 'XX', lease, ARGV[i] .. '|' .. ARGV[i + 1])
end
return 1`,

  // ARGV: prefix, licenseId -> flat HGETALL plus 'inFlight', or empty when absent or expired
  beiaLicense: `${NOW}${LIVE}
local p, id = ARGV[1], ARGV[2]
local key = live(p, id, now)
if not key then return {} end
local fields = redis.call('HGETALL', key)
local inflight = redis.call('ZCOUNT', p .. 'slots:' .. id, '(' .. now, '+inf')
table.insert(fields, 'inFlight')
table.insert(fields, tostring(inflight))
return fields`,

  // ARGV: prefix -> slots held now, all licenses
  beiaInFlight: `${NOW}
redis.call('ZREMRANGEBYSCORE', ARGV[1] .. 'slots', '-inf', now)
return redis.call('ZCARD', ARGV[1] .. 'slots')`,

  // ARGV: prefix, licenseId, then field, value pairs; only an existing, live license -> 1 or 0
  beiaUpdate: `${NOW}${LIVE}
local key = live(ARGV[1], ARGV[2], now)
if not key then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
return 1`,

  // ARGV: prefix, licenseId, expiresAt ('' for none), then field, value pairs
  beiaPut: `
local p, id = ARGV[1], ARGV[2]
local key = p .. 'license:' .. id
for i = 4, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
if ARGV[3] == '' then
  redis.call('HDEL', key, 'expiresAt')
  redis.call('ZREM', p .. 'expiries', id)
else
  redis.call('HSET', key, 'expiresAt', ARGV[3])
  redis.call('ZADD', p .. 'expiries', ARGV[3], id)
end
redis.call('SADD', p .. 'licenses', id)
return 1`,

  // ARGV: prefix, licenseId -> 1 when deleted; its journal entries and faults go too
  beiaDelete: `${JOURNAL_SIZE}${DROP}
local p, id = ARGV[1], ARGV[2]
if redis.call('EXISTS', p .. 'license:' .. id) == 0 then
  redis.call('SREM', p .. 'licenses', id)
  redis.call('ZREM', p .. 'expiries', id)
  return 0
end
dropLicenses(p, {id})
return 1`,

  // ARGV: prefix, all(1|0) -> the ids of the expired licenses deleted, with their journal entries and
  // faults. Without all, only those `expiries` names (cheap: one ZRANGEBYSCORE when none is due);
  // with all (the sweep), every license is looked at, and one an older beia-kit stored is added to `expiries`.
  beiaExpire: `${NOW}${JOURNAL_SIZE}${DROP}
local p = ARGV[1]
local ids = {}
if ARGV[2] == '1' then
  for _, id in ipairs(redis.call('SMEMBERS', p .. 'licenses')) do
    local expires = redis.call('HGET', p .. 'license:' .. id, 'expiresAt')
    if expires then
      if tonumber(expires) <= now then table.insert(ids, id) else redis.call('ZADD', p .. 'expiries', expires, id) end
    end
  end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p .. 'expiries', '-inf', now)) do
  local expires = redis.call('HGET', p .. 'license:' .. id, 'expiresAt')
  if expires and tonumber(expires) <= now then
    if ARGV[2] ~= '1' then table.insert(ids, id) end
  else
    redis.call('ZREM', p .. 'expiries', id)
  end
end
dropLicenses(p, ids)
return ids`,

  // Back to these licenses; journal and faults dropped; slots kept.
  // ARGV: prefix, onlyIfLost(1|0), then JSON of each license -> 1 when seeded. With onlyIfLost, only
  // while the `seeded` marker is absent: of several replicas that find the state lost, one reseeds.
  beiaReset: `
local p = ARGV[1]
if ARGV[2] == '1' and redis.call('EXISTS', p .. 'seeded') == 1 then return 0 end
for _, id in ipairs(redis.call('SMEMBERS', p .. 'licenses')) do redis.call('DEL', p .. 'license:' .. id) end
redis.call('DEL', p .. 'licenses', p .. 'expiries', p .. 'journal', p .. 'journal:bytes')
for _, fid in ipairs(redis.call('ZRANGE', p .. 'faults', 0, -1)) do redis.call('DEL', p .. 'fault:' .. fid) end
redis.call('DEL', p .. 'faults')
for i = 3, #ARGV do
  local l = cjson.decode(ARGV[i])
  local key = p .. 'license:' .. l.licenseId
  redis.call('HSET', key, 'apiKey', l.apiKey, 'credits', l.credits, 'allowedIps', l.allowedIpsJson, 'maxConcurrent', l.maxConcurrent)
  redis.call('SADD', p .. 'licenses', l.licenseId)
end
redis.call('SET', p .. 'seeded', '1')
return 1`,

  // ARGV: prefix, maxEntries (0: none kept), entry JSON, client ('' for none), retryAfterMs ('' for none), maxBytes
  // -> how early the request was for the client's last Retry-After ('' when it was not).
  // The oldest entries go while there are more than maxEntries or their sizes add up to more than
  // maxBytes; the newest stays.
  beiaJournal: `${NOW}${JOURNAL_SIZE}
local p, client = ARGV[1], ARGV[4]
local early = ''
if client ~= '' then
  local key = p .. 'retry:' .. client
  local notBefore = redis.call('GET', key)
  if notBefore and tonumber(notBefore) > now then early = tostring(tonumber(notBefore) - now) end
  if ARGV[5] ~= '' then redis.call('SET', key, now + tonumber(ARGV[5]), 'PX', tonumber(ARGV[5])) end
end
local maxEntries, maxBytes = tonumber(ARGV[2]), tonumber(ARGV[6])
if maxEntries > 0 then
  local seq = redis.call('INCR', p .. 'journal:seq')
  local line = seq .. '\\t' .. early .. '\\t' .. ARGV[3]
  local bytes = journalBytes(p) + entrySize(line)
  local count = redis.call('RPUSH', p .. 'journal', line)
  while count > 1 and (count > maxEntries or bytes > maxBytes) do
    bytes = bytes - entrySize(redis.call('LPOP', p .. 'journal'))
    count = count - 1
  end
  redis.call('SET', p .. 'journal:bytes', bytes)
end
return early`,

  // ARGV: prefix, licenseId ('' for none) -> the fired fault's JSON (with the type it takes), or false.
  // The same steps as chaos.ts's tryFire: Park-Miller draws, exact in Lua's doubles as in JS's.
  beiaTakeFault: `
local p, id = ARGV[1], ARGV[2]
local function draw(f)
  if f.rng == nil then f.rng = ((f.seed or 0) % 2147483646) + 1 end
  f.rng = (f.rng * 48271) % 2147483647
  return (f.rng - 1) / 2147483646
end
for _, fid in ipairs(redis.call('ZRANGE', p .. 'faults', 0, -1)) do
  local key = p .. 'fault:' .. fid
  local text = redis.call('GET', key)
  if text then
    local f = cjson.decode(text)
    if f.licenseId == nil or f.licenseId == id then
      local fires = false
      if f.count ~= nil then
        f.count = f.count - 1
        fires = true
      elseif f.probability ~= nil then
        fires = draw(f) < f.probability
      end
      local kind = f.type
      if fires then
        f.fired = f.fired + 1
        if f.type == 'chaos' then kind = f.types[math.floor(draw(f) * #f.types) + 1] end
      end
      if f.count ~= nil and f.count <= 0 then
        redis.call('DEL', key)
        redis.call('ZREM', p .. 'faults', fid)
      elseif f.count ~= nil or f.probability ~= nil then
        redis.call('SET', key, cjson.encode(f))
      end
      if fires then
        f.type = kind
        return cjson.encode(f)
      end
    end
  end
end
return false`,

  // ARGV: prefix -> 1 while the state is there (the seeded marker), 0 once it is lost. It writes a
  // key of its own, so that it fails, as requests do, while Redis refuses writes (out of memory).
  beiaProbe: `
redis.call('SET', ARGV[1] .. 'probe', '1', 'PX', 60000)
return redis.call('EXISTS', ARGV[1] .. 'seeded')`,

  // ARGV: prefix
  beiaClearFaults: `
local p = ARGV[1]
for _, fid in ipairs(redis.call('ZRANGE', p .. 'faults', 0, -1)) do redis.call('DEL', p .. 'fault:' .. fid) end
redis.call('DEL', p .. 'faults')
return 1`,
} as const;

type ScriptName = keyof typeof SCRIPTS;

/** The most failed settlements a store keeps to settle as released when Redis is back. */
const PENDING_KEPT = 1000;
/** How many settled tickets' outcomes a store remembers in memory. */
const SETTLED_KEPT = 10_000;
type Scripted = Redis & Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

/**
 * The state in Redis, shared by any number of replicas: every step that must be atomic (admit,
 * settle, a fault firing, a license deleted with its journal entries) is one Lua script, so the
 * counts stay exact whichever replica serves a request. Processing slots are leases renewed while
 * the image is processed, so a replica killed mid-request frees its slots when they end. When
 * Redis cannot be reached every call fails at once with a {@link StoreError} (no queue that would
 * hang requests), and the store reconnects by itself.
 *
 * @example
 * ```ts
 * const store = await RedisStore.open('redis://127.0.0.1:6379/0', { seed: config.licenses, maxJournalEntries: 1000, maxJournalBytes: 8 * 1024 * 1024, prefix: 'beia:', slotLeaseMs: 15000 });
 * ```
 */
export class RedisStore implements MockStore {
  readonly kind = 'redis';
  readonly url: string;
  /** Whether the state was there already (false: seeded from the config). */
  readonly loaded: boolean;
  readonly #redis: Scripted;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #maxJournalEntries: number;
  readonly #maxJournalBytes: number;
  /** The tickets this process holds, whose leases it renews. */
  readonly #held = new Map<number, string>();
  /**
   * Tickets whose settle failed (Redis away, or its answer lost): no 200 was answered, so each is
   * settled as released once Redis answers (`beiaUnsettle`), in order; at most {@link PENDING_KEPT}.
   */
  readonly #unsettled = new Map<number, string>();
  /** The outcome of the newest tickets this process settled: a second settle gives it without a round trip. */
  readonly #settled = new Map<number, Settlement>();
  /** How long Redis keeps the outcome of a settled ticket, for a settle retried after its answer was lost. */
  readonly #recordMs: number;
  #recovering: Promise<void> | undefined;
  /** Journal entries Redis did not take (it was away), written first when it is back; at most {@link PENDING_KEPT}. */
  readonly #journalWaiting: string[] = [];
  #journalDropped = 0;
  /** Whether this outage's waiting entries were announced in the log (once per outage). */
  #journalOutageLogged = false;
  /** The message of the last command that failed; undefined once one succeeds. */
  #lastError: string | undefined;
  /** Why the state counts as lost (the marker gone, no reseed yet); undefined while it is there. */
  #stateLost: string | undefined;
  #stateLostCount = 0;
  #checkingState: Promise<void> | undefined;
  readonly #seed: readonly LicenseConfig[];
  readonly #onStateLost: 'reseed' | 'degraded';
  readonly #renewal: NodeJS.Timeout;
  readonly #stateCheck: NodeJS.Timeout;

  private constructor(url: string, redis: Scripted, options: RedisStoreOptions, loaded: boolean) {
    this.url = url;
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#leaseMs = options.slotLeaseMs;
    this.#maxJournalEntries = options.maxJournalEntries;
    this.#maxJournalBytes = options.maxJournalBytes ?? DEFAULT_MAX_JOURNAL_BYTES;
    this.loaded = loaded;
    this.#recordMs = Math.max(10 * options.slotLeaseMs, 3_600_000);
    this.#renewal = setInterval(
      () => {
        void this.#renew();
        void this.#recover();
      },
      Math.max(100, Math.floor(options.slotLeaseMs / 3)),
    );
    this.#renewal.unref();
    this.#seed = options.seed;
    this.#onStateLost = options.onStateLost ?? 'reseed';
    this.#stateCheck = setInterval(() => void this.#checkState(), options.stateCheckMs ?? 5_000);
    this.#stateCheck.unref();
    // Back after an outage: is the state still there (a Redis restarted without persistence comes
    // back empty)? Then what could not be written meanwhile is written.
    redis.on('ready', () => void this.#checkState().then(() => this.#recover()));
  }

  /** Connects (failing within 5 s when Redis does not answer) and seeds an empty store. */
  static async open(url: string, options: RedisStoreOptions): Promise<RedisStore> {
    const shown = redactUrl(url);
    // ioredis is loaded only for a Redis store: a mock on memory or a file starts without it.
    const { Redis } = await import('ioredis');
    const redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 5_000,
      commandTimeout: 5_000,
      retryStrategy: (attempt) => Math.min(2_000, 100 * attempt),
    }) as Scripted;
    for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    // ioredis reports each failed reconnection as an error event; the requests say it already.
    redis.on('error', () => {});
    try {
      await redis.connect();
      const p = options.prefix;
      const seeded = (await redis.exists(`${p}seeded`)) === 1;
      const store = new RedisStore(shown, redis, options, seeded && !options.reset);
      if (!seeded || options.reset) await store.reset(options.seed);
      return store;
    } catch (error) {
      redis.disconnect();
      throw new StoreError(
        `Failed to open the Redis store ${shown}: ${(error as Error).message}. Check that Redis runs there and the URL (redis://[user:password@]host:port[/db]).`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * `ok`, or `degraded` while Redis cannot be reached or its commands fail (requests then get a
   * 500), and while its state is lost and not reseeded (see `onStateLost`).
   */
  health(): 'ok' | 'degraded' {
    return this.healthReason() === undefined ? 'ok' : 'degraded';
  }

  healthReason(): string | undefined {
    if (this.#stateLost !== undefined) return this.#stateLost;
    if (this.#redis.status !== 'ready') {
      return `The Redis store ${this.url} is not connected (${this.#redis.status}${this.#lastError === undefined ? '' : `: ${this.#lastError}`}); requests get a 500 until it is back, and the mock reconnects by itself.`;
    }
    if (this.#lastError !== undefined) return `The Redis store ${this.url} fails its commands: ${this.#lastError}.`;
    return undefined;
  }

  counters(): StoreCounters {
    return { journalPending: this.#journalWaiting.length, journalDropped: this.#journalDropped, stateLost: this.#stateLostCount };
  }

  /**
   * Whether the state is still there (the `seeded` marker, one EXISTS): on each reconnection and
   * every few seconds. Found gone, it is said once, loudly, counted, and reseeded or reported.
   */
  #checkState(): Promise<void> {
    if (this.#checkingState || this.#redis.status !== 'ready') return this.#checkingState ?? Promise.resolve();
    const check = async () => {
      const p = this.#prefix;
      if (((await this.#call('beiaProbe')) as number) === 1) {
        this.#stateLost = undefined;
        return;
      }
      if (this.#stateLost === undefined) {
        this.#stateLostCount += 1;
        this.#stateLost = `The Redis store ${this.url} lost its state: the ${p}seeded marker is gone (Redis restarted without persistence, or FLUSHALL), and with it the licenses, credits, journal and faults. ${
          this.#onStateLost === 'reseed'
            ? 'Reseeding from the config.'
            : 'store.onStateLost is "degraded": POST /__admin/reset, or a restart with --reset-store, seeds it from the config.'
        }`;
        console.error(`beia mock: STATE LOST: ${this.#stateLost}`);
      }
      if (this.#onStateLost !== 'reseed') return;
      const won = ((await this.#call('beiaReset', '1', ...encodeLicenses(this.#seed))) as number) === 1;
      this.#stateLost = undefined;
      console.error(`beia mock: the Redis store ${this.url} was reseeded from the config${won ? '' : ' (by another replica)'}.`);
    };
    this.#checkingState = check()
      .catch(() => {
        // Redis away: the next reconnection or tick looks again.
      })
      .finally(() => {
        this.#checkingState = undefined;
      });
    return this.#checkingState;
  }

  async getLicense(licenseId: string): Promise<LicenseState | undefined> {
    const flat = (await this.#read('beiaLicense', licenseId)) as string[];
    return flat.length === 0 ? undefined : toLicense(licenseId, flat);
  }

  async listLicenses(): Promise<LicenseState[]> {
    await this.#expireDue();
    const ids = (await this.#do(() => this.#redis.smembers(`${this.#prefix}licenses`), 'read')).sort();
    const licenses = await Promise.all(ids.map((id) => this.getLicense(id)));
    return licenses.filter((license): license is LicenseState => license !== undefined);
  }

  async updateLicense(licenseId: string, patch: Partial<Omit<LicenseConfig, 'licenseId'>>): Promise<LicenseState | undefined> {
    const updated = (await this.#call('beiaUpdate', licenseId, ...fields(patch))) as number;
    return updated === 1 ? this.getLicense(licenseId) : undefined;
  }

  async putLicense(license: NewLicense): Promise<LicenseState> {
    const expiresAt = license.expiresAt === undefined ? '' : String(Date.parse(license.expiresAt));
    await this.#call('beiaPut', license.licenseId, expiresAt, ...fields(license));
    return (await this.getLicense(license.licenseId))!;
  }

  async deleteLicense(licenseId: string): Promise<boolean> {
    return ((await this.#call('beiaDelete', licenseId)) as number) === 1;
  }

  async deleteExpired(): Promise<string[]> {
    return (await this.#call('beiaExpire', '1')) as string[];
  }

  /** An expired license goes with its journal entries and faults before a list would show them: one cheap script when none is due. */
  async #expireDue(): Promise<void> {
    await this.#read('beiaExpire', '0');
  }

  async reset(licenses: readonly LicenseConfig[]): Promise<void> {
    await this.#call('beiaReset', '0', ...encodeLicenses(licenses));
    this.#stateLost = undefined;
  }

  async admit(licenseId: string, globalMaxConcurrent: number): Promise<Admission> {
    const [reason, credits, ticket, faults] = (await this.#call('beiaAdmit', licenseId, globalMaxConcurrent, this.#leaseMs)) as [
      string,
      number,
      number?,
      number?,
    ];
    if (reason !== 'ok' || ticket === undefined) return { ok: false, reason: reason as Exclude<Admission, { ok: true }>['reason'], credits };
    this.#held.set(ticket, licenseId);
    return { ok: true, ticket: { id: ticket, licenseId }, credits, faultsArmed: faults !== 0 };
  }

  async settle(ticket: Ticket, spend: boolean): Promise<Settlement> {
    // Whatever Redis answers, this process stops renewing the lease: if the call fails, the slot
    // ends by itself within a lease instead of being held for as long as the process lives.
    this.#held.delete(ticket.id);
    if (this.#unsettled.has(ticket.id)) {
      // Its settle failed before, so no 200 was answered: it ends released, whatever this call asks.
      return { spent: false, credits: await this.#unsettle(ticket.id, ticket.licenseId) };
    }
    const known = this.#settled.get(ticket.id);
    if (known) return { ...known };
    try {
      const [spent, credits] = (await this.#call('beiaSettle', ticket.licenseId, ticket.id, spend ? '1' : '0', this.#recordMs)) as [number, number];
      return this.#remember(ticket.id, { spent: spent === 1, credits });
    } catch (error) {
      // Not spent as far as the client knows (it gets a 500): released once Redis answers, and a
      // credit the call spent before its answer was lost comes back.
      if (this.#unsettled.size >= PENDING_KEPT) {
        const [oldest] = this.#unsettled.keys();
        this.#unsettled.delete(oldest!);
        console.error(
          `beia mock: more than ${PENDING_KEPT} settlements wait for the Redis store ${this.url}; ticket ${oldest} is given up (its slot ends with its lease; a credit its lost answer may have spent stays spent).`,
        );
      }
      this.#unsettled.set(ticket.id, ticket.licenseId);
      throw error;
    }
  }

  /** Settles a ticket whose settle failed as released (see `beiaUnsettle`); its credits after. */
  async #unsettle(ticket: number, licenseId: string): Promise<number> {
    const credits = (await this.#call('beiaUnsettle', licenseId, ticket, this.#recordMs)) as number;
    this.#unsettled.delete(ticket);
    this.#remember(ticket, { spent: false, credits });
    return credits;
  }

  #remember(ticket: number, settlement: Settlement): Settlement {
    this.#settled.set(ticket, settlement);
    if (this.#settled.size > SETTLED_KEPT) this.#settled.delete(this.#settled.keys().next().value!);
    return { ...settlement };
  }

  /** What an outage left to do, in order, once Redis answers: failed settlements, then the journal entries waiting. One run at a time. */
  #recover(): Promise<void> {
    if (this.#recovering) return this.#recovering;
    if ((this.#unsettled.size === 0 && this.#journalWaiting.length === 0) || this.#redis.status !== 'ready') return Promise.resolve();
    const run = async () => {
      for (const [ticket, licenseId] of [...this.#unsettled]) await this.#unsettle(ticket, licenseId);
      while (this.#journalWaiting.length > 0) {
        await this.#call('beiaJournal', this.#maxJournalEntries, this.#journalWaiting[0]!, '', '', this.#maxJournalBytes);
        this.#journalWaiting.shift();
      }
      this.#journalOutageLogged = false;
    };
    this.#recovering = run()
      .catch(() => {
        // Still away: the next tick tries again.
      })
      .finally(() => {
        this.#recovering = undefined;
      });
    return this.#recovering;
  }

  async inFlight(): Promise<number> {
    return (await this.#read('beiaInFlight')) as number;
  }

  /**
   * Adds an entry; one Redis does not take (it is away) waits in memory with the others, in order,
   * and is written once Redis answers (without the retry check: its time has passed). Beyond
   * {@link PENDING_KEPT} waiting, the oldest is dropped and counted (health, metrics): never silently.
   */
  async appendJournal(entry: Omit<JournalEntry, 'seq'>, retry?: RetryWatch): Promise<{ earlyByMs?: number }> {
    const json = JSON.stringify(entry);
    if (this.#journalWaiting.length > 0) {
      await this.#recover();
      if (this.#journalWaiting.length > 0) {
        this.#keepEntry(json);
        return {};
      }
    }
    let early: string;
    try {
      early = (await this.#call(
        'beiaJournal',
        this.#maxJournalEntries,
        json,
        retry?.client ?? '',
        retry?.retryAfterMs === undefined ? '' : retry.retryAfterMs,
        this.#maxJournalBytes,
      )) as string;
    } catch {
      this.#keepEntry(json);
      return {};
    }
    return early === '' ? {} : { earlyByMs: Number(early) };
  }

  #keepEntry(json: string): void {
    if (!this.#journalOutageLogged) {
      this.#journalOutageLogged = true;
      console.error(
        `beia mock: journal entries wait in this mock's memory until the Redis store ${this.url} answers again (at most ${PENDING_KEPT}; beyond, the oldest are dropped and counted in health's store.journalDropped).`,
      );
    }
    this.#journalWaiting.push(json);
    if (this.#journalWaiting.length > PENDING_KEPT) {
      this.#journalWaiting.shift();
      this.#journalDropped += 1;
      if (this.#journalDropped === 1 || this.#journalDropped % 1000 === 0) {
        console.error(`beia mock: ${this.#journalDropped} journal entries dropped so far: more than ${PENDING_KEPT} waited for the Redis store ${this.url}.`);
      }
    }
  }

  async listJournal(filter: { licenseId?: string; limit?: number } = {}): Promise<JournalEntry[]> {
    await this.#expireDue();
    const raw = await this.#do(() => this.#redis.lrange(`${this.#prefix}journal`, 0, -1), 'read');
    // seq <tab> how early ('' for not) <tab> the entry's JSON, which has no raw tab.
    const entries = raw.map((line) => {
      const first = line.indexOf('\t');
      const second = line.indexOf('\t', first + 1);
      const entry: JournalEntry = { seq: Number(line.slice(0, first)), ...(JSON.parse(line.slice(second + 1)) as Omit<JournalEntry, 'seq'>) };
      const early = line.slice(first + 1, second);
      if (early !== '') Object.assign(entry, { retryTooEarly: true, earlyByMs: Number(early) });
      return entry;
    });
    const matching = filter.licenseId === undefined ? entries : entries.filter((e) => e.licenseId === filter.licenseId);
    return filter.limit === undefined ? matching : matching.slice(Math.max(0, matching.length - filter.limit));
  }

  async clearJournal(): Promise<void> {
    await this.#do(() => this.#redis.del(`${this.#prefix}journal`, `${this.#prefix}journal:bytes`));
  }

  async armFault(spec: FaultSpec): Promise<ArmedFault> {
    const p = this.#prefix;
    const seq = await this.#do(() => this.#redis.incr(`${p}fault:seq`));
    const fault = newArmedFault(spec, `f${seq}`);
    await this.#do(() => this.#redis.multi().set(`${p}fault:${fault.id}`, JSON.stringify(fault)).zadd(`${p}faults`, seq, fault.id).exec());
    return fault;
  }

  async listFaults(): Promise<ArmedFault[]> {
    await this.#expireDue();
    const p = this.#prefix;
    const ids = await this.#do(() => this.#redis.zrange(`${p}faults`, 0, -1), 'read');
    if (ids.length === 0) return [];
    const texts = await this.#do(() => this.#redis.mget(ids.map((id) => `${p}fault:${id}`)), 'read');
    return texts.filter((text): text is string => text !== null).map((text) => JSON.parse(text) as ArmedFault);
  }

  async removeFault(id: string): Promise<boolean> {
    const p = this.#prefix;
    const results = await this.#do(() => this.#redis.multi().del(`${p}fault:${id}`).zrem(`${p}faults`, id).exec());
    return results?.[1]?.[1] === 1;
  }

  async clearFaults(): Promise<void> {
    await this.#call('beiaClearFaults');
  }

  async takeFault(licenseId: string | undefined): Promise<FiredFault | undefined> {
    const text = (await this.#call('beiaTakeFault', licenseId ?? '')) as string | null;
    return text ? (JSON.parse(text) as FiredFault) : undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.#renewal);
    clearInterval(this.#stateCheck);
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  async #renew(): Promise<void> {
    if (this.#held.size === 0) return;
    const pairs = [...this.#held].flatMap(([ticket, licenseId]) => [licenseId, ticket]);
    await this.#call('beiaRenew', this.#leaseMs, ...pairs).catch(() => {
      // Redis is away: the next renewal tries again; a lease that ends meanwhile frees its slot.
    });
  }

  #call(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    return this.#do(() => this.#redis[name](this.#prefix, ...args));
  }

  /** A script that only reads (or only removes what has ended, which Redis allows even when out of memory). */
  #read(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    return this.#do(() => this.#redis[name](this.#prefix, ...args), 'read');
  }

  /**
   * Runs a command; a failure is a {@link StoreError}, and health is degraded until a command that
   * writes succeeds (a read that succeeds says nothing of writes: Redis out of memory still reads).
   */
  async #do<T>(command: () => Promise<T>, kind: 'read' | 'write' = 'write'): Promise<T> {
    try {
      const result = await command();
      if (kind === 'write') this.#lastError = undefined;
      return result;
    } catch (error) {
      this.#lastError = redisReason(error);
      throw new StoreError(
        `The Redis store ${this.url} did not answer: ${redisReason(error)}. Nothing was spent that is not recorded; the mock reconnects by itself.`,
        {
          cause: error,
        },
      );
    }
  }
}

/** Licenses as the reset script takes them; allowedIps as JSON text: Lua's cjson would write an empty list as {}. */
function encodeLicenses(licenses: readonly LicenseConfig[]): string[] {
  return licenses.map((l) =>
    JSON.stringify({
      licenseId: l.licenseId,
      apiKey: l.apiKey,
      credits: l.credits,
      maxConcurrent: l.maxConcurrent,
      allowedIpsJson: JSON.stringify(l.allowedIps),
    }),
  );
}

/** Hash fields of a license's settings. */
function fields(settings: Partial<Omit<LicenseConfig, 'licenseId'>>): string[] {
  const out: string[] = [];
  if (settings.apiKey !== undefined) out.push('apiKey', settings.apiKey);
  if (settings.credits !== undefined) out.push('credits', String(settings.credits));
  if (settings.allowedIps !== undefined) out.push('allowedIps', JSON.stringify(settings.allowedIps));
  if (settings.maxConcurrent !== undefined) out.push('maxConcurrent', String(settings.maxConcurrent));
  return out;
}

function toLicense(licenseId: string, flat: string[]): LicenseState {
  const hash = new Map<string, string>();
  for (let i = 0; i < flat.length; i += 2) hash.set(flat[i]!, flat[i + 1]!);
  const license: LicenseState = {
    licenseId,
    apiKey: hash.get('apiKey') ?? '',
    credits: Number(hash.get('credits') ?? 0),
    allowedIps: JSON.parse(hash.get('allowedIps') ?? '[]') as string[],
    maxConcurrent: Number(hash.get('maxConcurrent') ?? 0),
    inFlight: Number(hash.get('inFlight') ?? 0),
  };
  const expires = hash.get('expiresAt');
  if (expires !== undefined) license.expiresAt = new Date(Number(expires)).toISOString();
  return license;
}

/**
 * ioredis's errors in words a reader can act on: "Connection is closed." while it reconnects,
 * "Stream isn't writeable..." with the offline queue off, and Redis's own replies as they are.
 */
function redisReason(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\.+$/, '');
  if (/^Connection is closed$/i.test(message) || /enableOfflineQueue/.test(message))
    return 'the connection to Redis is down (Redis stopped, restarting, or unreachable)';
  if (/ECONNREFUSED/.test(message)) return `nothing listens there (${message})`;
  if (/Command timed out/i.test(message)) return 'Redis took longer than 5 s to answer';
  return message;
}
