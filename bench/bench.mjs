// npm run bench -- [--rounds N] [--duration S] [--connections C] [--only a,b] [--no-pin] [--skip-big]
//
// How fast is `beia mock` next to what this machine can do at all? In one run, each server in a
// process of its own (pinned to core 0 with taskset, wrk on core 1), the same environment for all,
// and the cases interleaved round by round (A B C A B C ...) so that drift hits all alike:
//
//   baseline          node:http + busboy: checks the three fields, answers a canned PNG (the
//                     floor's answer for this image, so the bytes on the wire are the same size)
//   floor             node:http + busboy + sharp: full decode, a same-size PNG at compressionLevel 1
//   mock cached       `beia mock`, the same image every time: every contract check, then the cache
//   ... file store    the cached path with --store file:PATH (each 200 waits for its credit on disk)
//   ... Redis store   the cached path with --store redis:// (a redis-server of the run's own, on core 0)
//   mock fresh        `beia mock`, a different JPEG every time (same pixels, a numbered COM segment)
//   ... + crop        the same with includeCroppedImage=true (the floor then also encodes the crop)
//
// Then each server again with 64 connections for its peak RSS, and a new mock given 16 parallel
// 20 MB uploads from 16 addresses: its peak RSS and whether it still answers.
// Prints a table and writes the same as JSON under bench/results/. A script, not a test: the
// numbers are ratios from one run on one machine.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { summarise } from './profile-summary.mjs';
import { wholeOption } from './args.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const PROFILES = join(ROOT, 'bench/results/profiles');
// glibc malloc makes Node servers bimodal on these machines (5 to 12 page faults per request in the
// slow mode), and keeps freed large buffers: every server in the run gets the same settings, the
// Docker image's.
const ENV = { ...process.env, MALLOC_TRIM_THRESHOLD_: '1073741824', MALLOC_TOP_PAD_: '67108864', MALLOC_MMAP_THRESHOLD_: '4194304' };

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '8' },
    only: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    'skip-big': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    perf: { type: 'boolean', default: false },
  },
});
const rounds = whole('rounds', values.rounds, 1, 50);
const duration = whole('duration', values.duration, 1, 600);
const connections = whole('connections', values.connections, 1, 1024);

function whole(name, text, min, max) {
  return wholeOption('bench', name, text, min, max);
}

function which(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
if (!which('wrk')) {
  console.error('bench: wrk is not installed. Install it (Debian: apt-get install wrk) and run again.');
  process.exit(2);
}
if (!existsSync(join(ROOT, 'dist/cli/index.js'))) {
  console.error('bench: dist/ is missing. Run npm run build first (npm run bench does).');
  process.exit(2);
}
const pin = !values['no-pin'] && which('taskset') && availableParallelism() >= 2;
const onCore = (core, argv) => (pin ? ['taskset', ['-c', String(core), ...argv]] : [argv[0], argv.slice(1)]);

// ---- the request: an 800x600 JPEG of about 100 KB, made the same way every run ----
function testJpeg(width, height, quality) {
  const pixels = Buffer.alloc(width * height * 3);
  let seed = 20261204;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const noise = random() >> 4;
      pixels[i] = ((x * 255) / width + noise) & 0xff;
      pixels[i + 1] = ((y * 255) / height + noise) & 0xff;
      pixels[i + 2] = (128 + 100 * Math.sin((x + y) / 40) + noise) & 0xff;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

const BOUNDARY = 'beia-bench-boundary';
function formParts(crop) {
  const field = (name, value) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const prefix =
    field('licenseId', '1234') +
    field('apiKey', '5678') +
    (crop ? field('includeCroppedImage', 'true') : '') +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`;
  return { prefix: Buffer.from(prefix), suffix: Buffer.from(`\r\n--${BOUNDARY}--\r\n`) };
}

const work = mkdtempSync(join(tmpdir(), 'beia-bench-'));
const jpeg = await testJpeg(800, 600, 83);
writeFileSync(join(work, 'photo.jpg'), jpeg);
const bodies = {};
for (const crop of [false, true]) {
  const { prefix, suffix } = formParts(crop);
  const name = crop ? 'crop' : 'plain';
  writeFileSync(join(work, `${name}.prefix`), prefix);
  writeFileSync(join(work, `${name}.suffix`), suffix);
  writeFileSync(join(work, `${name}.body`), Buffer.concat([prefix, jpeg, suffix]));
  bodies[name] = Buffer.concat([prefix, jpeg, suffix]);
}
{
  // The baseline's canned answer: what the floor would send for this image.
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  writeFileSync(join(work, 'canned.png'), await sharp(data, { raw: info }).png({ compressionLevel: 1 }).toBuffer());
}

// ---- the servers ----
const MOCK_CONFIG = {
  licenses: [{ licenseId: '1234', apiKey: '5678', credits: 1_000_000_000, maxConcurrent: 1024, allowedIps: ['127.0.0.0/8', '::1'] }],
  processing: { maxConcurrent: 1024 },
};
const SERVERS = {
  baseline: (name) => [
    process.execPath,
    ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILES, name.replace(/\W+/g, '-'))}`] : []),
    join(ROOT, 'bench/servers/reference.mjs'),
    'baseline',
    join(work, 'canned.png'),
  ],
  floor: () => [process.execPath, join(ROOT, 'bench/servers/reference.mjs'), 'floor'],
  // The same mock with its state in a file: every 200 waits for its credit to be on disk.
  'mock-file': (name) => [...SERVERS.mock(name), '--store', `file:${join(work, `${name.replace(/\W+/g, '-')}.json`)}`],
  // And in a Redis of the run's own, on the server's core too: the store is part of what is measured.
  'mock-redis': (name) => [...SERVERS.mock(name, { store: { prefix: `bench-${name.replace(/\W+/g, '-')}:` } }), '--store', `redis://127.0.0.1:${redisPort}`],
  mock: (name, extraConfig = {}) => [
    process.execPath,
    ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILES, name.replace(/\W+/g, '-'))}`] : []),
    join(ROOT, 'dist/cli/index.js'),
    'mock',
    '--port',
    '0',
    '--config-json',
    JSON.stringify({ ...MOCK_CONFIG, ...extraConfig }),
  ],
};

const children = new Set();
function startServer(kind, name = kind, extraConfig = {}) {
  const [command, args] = onCore(0, SERVERS[kind](name, extraConfig));
  const child = spawn(command, args, { cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.stdout.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk) => {
      text += chunk;
      const port = /listening (\d+)/.exec(text)?.[1] ?? /endpoint\s+http:\/\/[^:/\s]+:(\d+)/.exec(text)?.[1];
      if (port) {
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        child.stderr.resume();
        resolve({ kind, child, port: Number(port) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${kind} server exited with ${code} before listening: ${text}`)));
  });
}
function stopAll() {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

function rssMiB(child) {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}
function peakRssMiB(child) {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

// ---- the cases ----
const ALL_CASES = [
  { name: 'baseline', server: 'baseline', body: 'plain', fresh: false, versus: null },
  { name: 'floor', server: 'floor', body: 'plain', fresh: false, versus: 'baseline' },
  { name: 'floor + crop', server: 'floor', body: 'crop', fresh: false, versus: 'baseline' },
  { name: 'mock cached', server: 'mock', body: 'plain', fresh: false, versus: 'baseline' },
  { name: 'mock cached (file store)', server: 'mock-file', body: 'plain', fresh: false, versus: 'mock cached' },
  { name: 'mock cached (Redis store)', server: 'mock-redis', body: 'plain', fresh: false, versus: 'mock cached' },
  { name: 'mock fresh', server: 'mock', body: 'plain', fresh: true, versus: 'floor' },
  { name: 'mock cached + crop', server: 'mock', body: 'crop', fresh: false, versus: 'baseline' },
  { name: 'mock fresh + crop', server: 'mock', body: 'crop', fresh: true, versus: 'floor + crop' },
];
const only = values.only?.split(',').map((s) => s.trim());
const cases = only ? ALL_CASES.filter((c) => only.includes(c.name) || only.includes(c.server)) : ALL_CASES;
if (cases.length === 0) {
  console.error(`bench: --only matches no case; cases: ${ALL_CASES.map((c) => c.name).join(', ')}`);
  process.exit(2);
}

let runNumber = 0;
function runWrk(target, c, seconds, conns) {
  runNumber += 1;
  const [command, args] = onCore(1, [
    'wrk',
    '-t1',
    `-c${conns}`,
    `-d${seconds}s`,
    '--timeout',
    '30s',
    '-s',
    join(ROOT, 'bench/wrk/post.lua'),
    `http://127.0.0.1:${target.port}/beia-api/v1/image`,
  ]);
  const env = {
    ...process.env,
    BENCH_BOUNDARY: BOUNDARY,
    BENCH_LICENSE: '1234',
    BENCH_BODY: join(work, `${c.body}.body`),
    BENCH_PREFIX: join(work, `${c.body}.prefix`),
    BENCH_SUFFIX: join(work, `${c.body}.suffix`),
    BENCH_JPEG: join(work, 'photo.jpg'),
    BENCH_FRESH: c.fresh ? '1' : '0',
    BENCH_RUN: String(runNumber),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`wrk failed (${code}) for ${c.name}: ${err || out}`));
      else resolve(JSON.parse(line));
    });
  });
}

/** `perf stat` on a server while it runs one case: page faults, context switches and CPU time. */
function countEvents(pid) {
  const child = spawn('perf', ['stat', '-x,', '-e', 'page-faults,context-switches,task-clock', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  child.stderr.on('data', (d) => (text += d));
  return {
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', () => {
          const events = {};
          for (const line of text.split('\n')) {
            const [value, , name] = line.split(',');
            if (name) events[name.replace(/:u$/, '')] = Number(value);
          }
          resolve(events);
        });
        child.kill('SIGINT');
      }),
  };
}

function post(port, body, { localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        localAddress,
        method: 'POST',
        path: '/beia-api/v1/image',
        headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, 'License-Id': '1234', 'Content-Length': body.length },
      },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function health(port) {
  const res = await fetch(`http://127.0.0.1:${port}/__admin/health`);
  return res.json();
}

// ---- the run ----
let redisPort;
if (cases.some((c) => c.server === 'mock-redis')) {
  if (!which('redis-server')) {
    console.log('bench: redis-server is not installed (apt-get install redis-server): no Redis store row');
    cases.splice(
      cases.findIndex((c) => c.server === 'mock-redis'),
      1,
    );
  } else {
    redisPort = await new Promise((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address();
        probe.close(() => resolve(port));
      });
    });
    const [command, args] = onCore(0, ['redis-server', '--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work]);
    const redis = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(redis);
    await new Promise((resolve, reject) => {
      let text = '';
      redis.stdout.on('data', (d) => {
        text += d;
        if (text.includes('Ready to accept connections')) {
          redis.stdout.resume();
          resolve();
        }
      });
      redis.on('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${text}`)));
    });
  }
}
const servers = new Map();
for (const c of cases) servers.set(c.name, await startServer(c.server, c.name));
for (const c of cases) {
  const answer = await post(servers.get(c.name).port, bodies[c.body]);
  if (answer.status !== 200) {
    console.error(`bench: ${c.name} answered ${answer.status} to the test request: ${answer.body.toString().slice(0, 300)}`);
    process.exit(1);
  }
}

const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Linux ${release()}, Node ${process.version}, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}`;
console.log(`bench: ${machine}`);
console.log(
  `bench: ${rounds} rounds of ${duration} s per case, ${connections} connections, ${pin ? 'servers on core 0 and wrk on core 1 (taskset)' : 'not pinned'}; request: ${jpeg.length}-byte 800x600 JPEG`,
);
for (const c of cases) await runWrk(servers.get(c.name), c, 2, connections); // warm-up: JIT, pools, caches

const results = new Map(cases.map((c) => [c.name, []]));
for (let round = 1; round <= rounds; round++) {
  for (const c of cases) {
    // The previous case's last requests (a render each, for the slow ones) finish before this one starts.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const target = servers.get(c.name);
    const counting = values.perf ? countEvents(target.child.pid) : undefined;
    const r = await runWrk(target, c, duration, connections);
    if (counting) {
      const events = await counting.stop();
      r.pageFaultsPerRequest = events['page-faults'] / r.requests;
      r.contextSwitchesPerRequest = events['context-switches'] / r.requests;
      r.cpuMsPerRequest = events['task-clock'] / r.requests;
    }
    results.get(c.name).push(r);
  }
  process.stdout.write(`bench: round ${round}/${rounds} done\n`);
}

// Peak RSS after 64 connections, each server on its own case.
const peaks = new Map();
for (const c of cases) {
  await runWrk(servers.get(c.name), c, Math.min(duration, 5), 64);
  peaks.set(c.name, peakRssMiB(servers.get(c.name).child));
}
const cacheStats = new Map();
for (const c of cases) {
  if (!c.server.startsWith('mock')) continue;
  cacheStats.set(c.name, (await health(servers.get(c.name).port)).cache);
}
if (values.profile) {
  // Each mock writes its profile as it exits.
  for (const c of cases) {
    if (!c.server.startsWith('mock') && c.server !== 'baseline') continue;
    const { child } = servers.get(c.name);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    const dir = join(PROFILES, c.name.replace(/\W+/g, '-'));
    const file = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    console.log(`\nprofile of ${c.name} (${file.slice(ROOT.length)}):\n${summarise(JSON.parse(readFileSync(file, 'utf8')), 15)}`);
  }
}

// 16 parallel 20 MB uploads from 16 addresses to a new mock: with the default upload budget, and
// with half of it (limits.maxBufferedBytes), to show what the budget costs in memory.
const big = [];
if (!values['skip-big'] && cases.some((c) => c.server === 'mock')) {
  const bigJpeg = await padJpeg(await testJpeg(2400, 1800, 95), 20_000_000);
  const { prefix, suffix } = formParts(false);
  const body = Buffer.concat([prefix, bigJpeg, suffix]);
  for (const budget of [undefined, 128 * 1024 * 1024]) {
    const target = await startServer('mock', 'big', budget === undefined ? {} : { limits: { maxBufferedBytes: budget } });
    const before = rssMiB(target.child);
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) => post(target.port, body, { localAddress: `127.0.0.${10 + i}` }).catch((e) => ({ status: e.code ?? 'error' }))),
    );
    const statuses = {};
    for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    const peak = peakRssMiB(target.child);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const after = await post(target.port, bodies.plain);
    big.push({
      maxBufferedBytes: budget ?? 'default',
      uploads: 16,
      bytes: bigJpeg.length,
      statuses,
      startRssMiB: before,
      peakRssMiB: peak,
      rssAfterMiB: rssMiB(target.child),
      answersAfter: after.status,
    });
    target.child.kill('SIGTERM');
  }
}

// ---- the report ----
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = cases.map((c) => {
  const runs = results.get(c.name);
  const rates = runs.map((r) => r.requests / r.seconds);
  const row = {
    name: c.name,
    reqPerSec: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    p50ms: median(runs.map((r) => r.p50ms)),
    p99ms: median(runs.map((r) => r.p99ms)),
    peakRssMiB: peaks.get(c.name),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    ...(values.perf
      ? {
          pageFaultsPerRequest: median(runs.map((r) => r.pageFaultsPerRequest)),
          contextSwitchesPerRequest: median(runs.map((r) => r.contextSwitchesPerRequest)),
          cpuMsPerRequest: median(runs.map((r) => r.cpuMsPerRequest)),
        }
      : {}),
    socketErrors: runs.reduce((a, r) => a + r.socketErrors, 0),
    rounds: runs,
  };
  row.noisy = row.max > row.min * 1.3;
  if (cacheStats.has(c.name)) row.cache = cacheStats.get(c.name);
  return row;
});
for (const row of rows) {
  const c = cases.find((x) => x.name === row.name);
  const ref = rows.find((r) => r.name === c.versus);
  if (ref) row.ratio = { versus: ref.name, value: row.reqPerSec / ref.reqPerSec };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const table = [
  ['case', 'req/s median (min-max)', 'p50 ms', 'p99 ms', 'peak RSS, 64 conn', 'ratio', 'notes'],
  ...rows.map((r) => [
    r.name,
    `${fmt(r.reqPerSec)} (${fmt(r.min)}-${fmt(r.max)})`,
    r.p50ms.toFixed(2),
    r.p99ms.toFixed(2),
    `${r.peakRssMiB.toFixed(0)} MiB`,
    r.ratio ? `${r.ratio.value.toFixed(2)} of ${r.ratio.versus}` : '',
    [
      r.noisy ? 'noisy (min and max >30% apart)' : '',
      r.non2xx ? `${r.non2xx} non-2xx` : '',
      r.socketErrors ? `${r.socketErrors} socket errors` : '',
      r.pageFaultsPerRequest !== undefined
        ? `${r.pageFaultsPerRequest.toFixed(1)} page faults, ${r.contextSwitchesPerRequest.toFixed(1)} switches, ${r.cpuMsPerRequest.toFixed(2)} CPU ms per request`
        : '',
      r.cache ? `cache ${Math.round((100 * r.cache.hits) / Math.max(1, r.cache.hits + r.cache.misses))}% hits` : '',
    ]
      .filter(Boolean)
      .join('; '),
  ]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
console.log('');
console.log(`| ${table[0].map((h, i) => h.padEnd(widths[i])).join(' | ')} |`);
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of table.slice(1)) console.log(`| ${row.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`);
console.log('');
for (const run of big) {
  const list = Object.entries(run.statuses)
    .map(([s, n]) => `${n}x ${s}`)
    .join(', ');
  console.log(
    `16 parallel ${(run.bytes / 1e6).toFixed(0)} MB uploads from 16 addresses, limits.maxBufferedBytes ${run.maxBufferedBytes === 'default' ? 'default (256 MiB)' : `${run.maxBufferedBytes / 1048576} MiB`}: ${list}; RSS ${run.startRssMiB.toFixed(0)} MiB before, ${run.peakRssMiB.toFixed(0)} MiB at the peak, ${run.rssAfterMiB.toFixed(0)} MiB 2 s after; the next request got ${run.answersAfter}`,
  );
}
const goals = [];
const ratioOf = (name) => rows.find((r) => r.name === name)?.ratio?.value;
const goal = (text, value, target, higherIsBetter = true) => {
  if (value === undefined) return;
  const met = higherIsBetter ? value >= target : value <= target;
  goals.push({ text, value, target, met });
  console.log(`goal: ${text}: ${value.toFixed(2)} (goal ${higherIsBetter ? '>=' : '<='} ${target}) ${met ? 'met' : 'NOT MET'}`);
};
goal('mock cached / baseline req/s', ratioOf('mock cached'), 0.7);
goal('mock fresh / floor req/s', ratioOf('mock fresh'), 0.8);
goal('mock cached, Redis store / memory store req/s', ratioOf('mock cached (Redis store)'), 0.5);
goal('mock cached peak RSS after 64 connections, MiB', rows.find((r) => r.name === 'mock cached')?.peakRssMiB, 200, false);
if (big[0]) goal('RSS left 2 s after 16 parallel 20 MB uploads (default budget), MiB', big[0].rssAfterMiB, 400, false);

const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();
const report = {
  date: new Date().toISOString(),
  commit,
  machine,
  settings: { rounds, duration, connections, pinned: pin, requestBytes: bodies.plain.length, jpegBytes: jpeg.length },
  rows,
  bigUploads: big,
  goals,
};
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
const file = join(ROOT, 'bench/results', `bench-${report.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`bench: wrote ${file.slice(ROOT.length)}`);
process.exit(0);

/** A JPEG padded to `size` bytes with COM segments after SOI: still valid, decodes to the same pixels. */
async function padJpeg(data, size) {
  const segments = [];
  let missing = size - data.length;
  while (missing > 0) {
    const payload = Math.min(65_533, missing - 4);
    if (payload < 0) break;
    const segment = Buffer.alloc(4 + payload, 0x20);
    segment.writeUInt16BE(0xfffe, 0);
    segment.writeUInt16BE(payload + 2, 2);
    segments.push(segment);
    missing -= segment.length;
  }
  return Buffer.concat([data.subarray(0, 2), ...segments, data.subarray(2)]);
}
