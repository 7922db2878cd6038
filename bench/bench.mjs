// npm run bench -- [--rounds N] [--duration S] [--connections C] [--only a,b] [--no-pin] [--skip-big] [--starts N] [--versus DIR]
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
// Each case also reports the server's CPU per request, read from /proc/PID/stat (user + system
// ticks of every thread, so sharp's too; for the Redis store, redis-server's as well), which holds
// better than throughput on a busy machine, and the Redis store case its Redis commands per image
// (INFO commandstats before and after each run, over the 200s it counted).
//
// Then, in the same run, the other figures of issue 22, each printed beside its goal:
//   memory    a new `beia mock` and a new floor server at glibc's default malloc settings (no
//             MALLOC_* variables, as `npm run mock` runs), each given 64 connections of the same
//             image and then 64 of fresh ones: peak RSS (VmHWM), the mock within 40 MiB of the floor
//   big       16 parallel 20 MB uploads from 16 addresses to a new mock, with the Docker image's
//             malloc settings and with glibc's defaults: RSS 2 s after, at most 400 MiB
//   start     exec of `node dist/cli/index.js mock --port 0` to its first 200 (GET /__admin/health,
//             polled), and to its first image 200: median of --starts
//   imports   `import('beia-kit/client')` and `import('beia-kit/testcontainers')`, each a whole
//             `node` process: median of --starts
//   docker    `docker run` of beia-kit/mock to its first 200, when an engine and the image are there
// --only takes case names, servers (mock, floor, ...) and these phase names ("throughput" for all
// the cases), so `--only start,imports` is a run of a few seconds. --versus DIR adds another
// built checkout (main before a change) to the start, import and memory phases, interleaved.
// Prints a table and writes the same as JSON under bench/results/. A script, not a test: the
// numbers are ratios from one run on one machine.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, release, tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { summarise } from './profile-summary.mjs';
import { wholeOption } from './args.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const PROFILES = join(ROOT, 'bench/results/profiles');
// glibc malloc makes Node servers bimodal on these machines (5 to 12 page faults per request in the
// slow mode), and keeps freed large buffers: every server in the run gets the same settings, the
// Docker image's.
const DEFAULT_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MALLOC_')));
const ENV = { ...DEFAULT_ENV, MALLOC_TRIM_THRESHOLD_: '1073741824', MALLOC_TOP_PAD_: '67108864', MALLOC_MMAP_THRESHOLD_: '4194304' };

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
    starts: { type: 'string', default: '9' },
    versus: { type: 'string' },
  },
});
// --versus DIR: another checkout of beia-kit, built (e.g. main before a change). The start, import
// and memory phases then measure its build too, interleaved with this one, so that a before and
// an after come from one run on one machine.
const VERSUS = values.versus ? resolvePath(values.versus) : undefined;
if (VERSUS && !existsSync(join(VERSUS, 'dist/cli/index.js'))) {
  console.error(`bench: --versus ${VERSUS} has no dist/cli/index.js: build it first (npm run build there).`);
  process.exit(2);
}
/** The builds measured by the start, import and memory phases: this one, and --versus's. */
const BUILDS = [{ label: 'this build', root: ROOT }, ...(VERSUS ? [{ label: `--versus ${VERSUS}`, root: VERSUS }] : [])];
const starts = whole('starts', values.starts, 1, 100);
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
  mock: (name, extraConfig = {}, root = ROOT) => [
    process.execPath,
    ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILES, name.replace(/\W+/g, '-'))}`] : []),
    join(root, 'dist/cli/index.js'),
    'mock',
    '--port',
    '0',
    '--config-json',
    JSON.stringify({ ...MOCK_CONFIG, ...extraConfig }),
  ],
};

const children = new Set();
function startServer(kind, name = kind, extraConfig = {}, env = ENV, root = ROOT) {
  const [command, args] = onCore(0, SERVERS[kind](name, extraConfig, root));
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  { name: 'mock cached (file store)', server: 'mock-file', body: 'plain', fresh: false, versus: 'baseline' },
  { name: 'mock cached (Redis store)', server: 'mock-redis', body: 'plain', fresh: false, versus: 'baseline' },
  { name: 'mock fresh', server: 'mock', body: 'plain', fresh: true, versus: 'floor' },
  { name: 'mock cached + crop', server: 'mock', body: 'crop', fresh: false, versus: 'baseline' },
  { name: 'mock fresh + crop', server: 'mock', body: 'crop', fresh: true, versus: 'floor + crop' },
];
const PHASES = ['throughput', 'memory', 'big', 'start', 'imports', 'docker'];
const only = values.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((o) => !PHASES.includes(o) && !ALL_CASES.some((c) => c.name === o || c.server === o)) ?? [];
if (unknown.length > 0) {
  console.error(`bench: --only names no case or phase: ${unknown.join(', ')}; cases: ${ALL_CASES.map((c) => c.name).join(', ')}; phases: ${PHASES.join(', ')}`);
  process.exit(2);
}
const cases = !only ? ALL_CASES : only.includes('throughput') ? ALL_CASES : ALL_CASES.filter((c) => only.includes(c.name) || only.includes(c.server));
// Without --only every phase runs; with it, those it names (and the big uploads with the mock, as before).
const phases = new Set(PHASES.filter((name) => name !== 'throughput' && (!only || only.includes(name) || (name === 'big' && only.includes('mock')))));
if (values['skip-big']) phases.delete('big');
if (cases.length === 0 && phases.size === 0) {
  console.error(`bench: --only selects nothing; cases: ${ALL_CASES.map((c) => c.name).join(', ')}; phases: ${PHASES.join(', ')}`);
  process.exit(2);
}

// CPU time of a process, all its threads, user and system, in ms: /proc/PID/stat fields 14 and 15.
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** One Redis command on a new connection (inline protocol), its bulk reply as text. */
function redisInfo(port) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => {
      text += d;
      const header = /^\$(\d+)\r\n/.exec(text);
      if (header && Buffer.byteLength(text) >= header[0].length + Number(header[1])) {
        socket.end();
        resolve(text.slice(header[0].length));
      }
    });
    socket.on('error', reject);
    socket.write('INFO commandstats\r\n');
  });
}
/**
 * Commands the mock sends to Redis (its round trips) while `work` runs, by name: MONITOR shows
 * each command a client sent and, marked "lua", each one a script ran; only the first count.
 */
async function redisRoundTrips(port, work) {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (d) => (text += d));
  socket.write('MONITOR\r\n');
  await new Promise((resolve) => {
    const wait = () => (text.startsWith('+OK\r\n') ? resolve() : setTimeout(wait, 5));
    wait();
  });
  await work();
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
  const commands = {};
  for (const [, name] of text.matchAll(/^\+\d+\.\d+ \[\d+ (?!lua\])[^\]]+\] "([^"]+)"/gm)) {
    const key = name.toLowerCase();
    commands[key] = (commands[key] ?? 0) + 1;
  }
  return commands;
}

/** Calls per command name, from INFO commandstats. */
async function redisCalls(port) {
  const calls = {};
  for (const [, name, n] of (await redisInfo(port)).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[name] = Number(n);
  return calls;
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
let redisServer;
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
    redisServer = redis;
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
for (let round = 1; cases.length > 0 && round <= rounds; round++) {
  for (const c of cases) {
    // The previous case's last requests (a render each, for the slow ones) finish before this one starts.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const target = servers.get(c.name);
    const counting = values.perf ? countEvents(target.child.pid) : undefined;
    const redisCase = c.server === 'mock-redis';
    const pids = redisCase ? [target.child.pid, redisServer.pid] : [target.child.pid];
    const cpuBefore = pids.map(cpuMs);
    const callsBefore = redisCase ? await redisCalls(redisPort) : undefined;
    const r = await runWrk(target, c, duration, connections);
    // Answers still being written when wrk stopped count too: a moment for them to end.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const cpuAfter = pids.map(cpuMs);
    r.serverCpuMsPerRequest = (cpuAfter[0] - cpuBefore[0]) / r.requests;
    if (redisCase) {
      r.redisCpuMsPerRequest = (cpuAfter[1] - cpuBefore[1]) / r.requests;
      const callsAfter = await redisCalls(redisPort);
      const commands = {};
      for (const [name, n] of Object.entries(callsAfter)) {
        // The INFO that read the counts before is counted in them after.
        const delta = n - (callsBefore[name] ?? 0) - (name === 'info' ? 1 : 0);
        if (delta > 0) commands[name] = delta;
      }
      r.redisCommands = commands;
      r.ok = r.requests - r.non2xx;
    }
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
// The Redis store's round trips per image: a known number of 200s, one after the other, under MONITOR.
let roundTrips;
const redisCase = cases.find((c) => c.server === 'mock-redis');
if (redisCase) {
  const images = 50;
  let ok = 0;
  const commands = await redisRoundTrips(redisPort, async () => {
    for (let i = 0; i < images; i++) if ((await post(servers.get(redisCase.name).port, bodies.plain)).status === 200) ok += 1;
  });
  const total = Object.values(commands).reduce((a, n) => a + n, 0);
  roundTrips = { images: ok, commands, perImage: total / Math.max(1, ok) };
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

// The servers of the cases are done: they leave the machine to the phases below.
for (const { child } of servers.values()) child.kill('SIGKILL');

// Memory at defaults: a new mock and a new floor server with glibc's default malloc settings, as
// `npm run mock` runs, each given 64 connections of the same image, then 64 of fresh images.
const memory = [];
if (phases.has('memory')) {
  const seconds = Math.min(duration, 5);
  const memoryServers = [
    { server: 'mock', label: 'mock' },
    { server: 'floor', label: 'floor' },
    ...BUILDS.slice(1).map((b) => ({ server: 'mock', label: `mock of ${b.label}`, root: b.root })),
  ];
  for (const { server, label, root } of memoryServers) {
    const target = await startServer(server, `${server} at defaults`, {}, DEFAULT_ENV, root);
    const idle = rssMiB(target.child);
    await runWrk(target, { name: `${server} at defaults, cached`, body: 'plain', fresh: false }, seconds, 64);
    const afterCached = peakRssMiB(target.child);
    await runWrk(target, { name: `${server} at defaults, fresh`, body: 'plain', fresh: true }, seconds, 64);
    memory.push({ server: label, idleRssMiB: idle, peakAfterCachedMiB: afterCached, peakRssMiB: peakRssMiB(target.child), rssAfterMiB: rssMiB(target.child) });
    target.child.kill('SIGKILL');
  }
}

// 16 parallel 20 MB uploads from 16 addresses to a new mock, the default upload budget: with the
// Docker image's malloc settings, and with glibc's defaults.
const big = [];
if (phases.has('big')) {
  const bigJpeg = await padJpeg(await testJpeg(2400, 1800, 95), 20_000_000);
  const { prefix, suffix } = formParts(false);
  const body = Buffer.concat([prefix, bigJpeg, suffix]);
  for (const [settings, env] of [
    ["the Docker image's malloc settings", ENV],
    ["glibc's default malloc settings", DEFAULT_ENV],
  ]) {
    const target = await startServer('mock', 'big', {}, env);
    const before = rssMiB(target.child);
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) => post(target.port, body, { localAddress: `127.0.0.${10 + i}` }).catch((e) => ({ status: e.code ?? 'error' }))),
    );
    const statuses = {};
    for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    const peak = peakRssMiB(target.child);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rssAfter = rssMiB(target.child);
    const after = await post(target.port, bodies.plain);
    big.push({
      settings,
      uploads: 16,
      bytes: bigJpeg.length,
      statuses,
      startRssMiB: before,
      peakRssMiB: peak,
      rssAfterMiB: rssAfter,
      answersAfter: after.status,
    });
    target.child.kill('SIGKILL');
  }
}

// Start: exec of `beia mock` to its first 200, the way a test or a script starts it.
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const loadBefore = loadavg()[0];
const starts_ = [];
if (phases.has('start')) {
  const ready = BUILDS.map(() => []);
  const firstImage = BUILDS.map(() => []);
  for (let i = 0; i < starts; i++) {
    // Interleaved: this build, then --versus's, then this build again...
    for (const [b, build] of BUILDS.entries()) {
      const t0 = performance.now();
      const [command, args] = onCore(0, [
        process.execPath,
        join(build.root, 'dist/cli/index.js'),
        'mock',
        '--port',
        '0',
        '--quiet',
        '--config-json',
        JSON.stringify(MOCK_CONFIG),
      ]);
      const child = spawn(command, args, { cwd: build.root, env: DEFAULT_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      let text = '';
      const port = await new Promise((resolve, reject) => {
        const onData = (chunk) => {
          text += chunk;
          const found = /listening on [^\s]+:(\d+)/.exec(text)?.[1];
          if (found) resolve(Number(found));
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`beia mock exited with ${code}: ${text}`)));
      });
      for (;;) {
        const status = await new Promise((resolve) => {
          const req = httpRequest({ host: '127.0.0.1', port, path: '/__admin/health' }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          });
          req.on('error', () => resolve(0));
          req.end();
        });
        if (status === 200) break;
      }
      ready[b].push(performance.now() - t0);
      const image = await post(port, bodies.plain);
      if (image.status !== 200) throw new Error(`beia mock answered ${image.status} to the first image`);
      firstImage[b].push(performance.now() - t0);
      child.kill('SIGKILL');
      await new Promise((resolve) => (child.exitCode === null && child.signalCode === null ? child.once('exit', resolve) : resolve()));
    }
  }
  for (const [b, build] of BUILDS.entries()) {
    starts_.push({
      build: build.label,
      runs: starts,
      readyMs: median(ready[b]),
      readyMinMs: Math.min(...ready[b]),
      readyMaxMs: Math.max(...ready[b]),
      firstImageMs: median(firstImage[b]),
    });
  }
}
const start = starts_[0];

// Imports: each entry point imported by a whole `node` process, from spawn to exit; and an
// empty `node` beside them, what Node itself costs on this machine now.
const imports = {};
if (phases.has('imports')) {
  const timeProcess = (code, cwd) =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const [command, args] = onCore(0, [process.execPath, '--input-type=module', '-e', code]);
      const child = spawn(command, args, { cwd, env: DEFAULT_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (exit) => (exit === 0 ? resolve(performance.now() - t0) : reject(new Error(`${code} failed: ${err}`))));
    });
  // Node alone, and the testcontainers package alone (the peer dependency beia-kit/testcontainers extends), beside ours.
  const list = [
    { name: 'node', code: '', cwd: ROOT },
    { name: 'testcontainers', code: "await import('testcontainers')", cwd: ROOT },
    ...BUILDS.flatMap((build, b) =>
      ['beia-kit/client', 'beia-kit/testcontainers'].map((entry) => ({
        name: b === 0 ? entry : `${entry} (${build.label})`,
        code: `await import('${entry}')`,
        cwd: build.root,
      })),
    ),
  ];
  const times = Object.fromEntries(list.map(({ name }) => [name, []]));
  // Interleaved, like the servers.
  for (let i = 0; i < starts; i++) for (const { name, code, cwd } of list) times[name].push(await timeProcess(code, cwd));
  for (const [name, runs] of Object.entries(times))
    imports[name] = { runs: runs.length, medianMs: median(runs), minMs: Math.min(...runs), maxMs: Math.max(...runs) };
}

// docker run of the image to its first 200, when there is an engine and the image.
let docker;
if (phases.has('docker')) {
  const ok = (args) => {
    try {
      execFileSync('docker', args, { stdio: 'ignore', timeout: 10_000 });
      return true;
    } catch {
      return false;
    }
  };
  if (!which('docker') || !ok(['info'])) docker = { measured: false, why: 'no Docker engine' };
  else if (!ok(['image', 'inspect', 'beia-kit/mock'])) docker = { measured: false, why: 'no image beia-kit/mock (npm run docker:build)' };
  else {
    const times = [];
    for (let i = 0; i < Math.min(starts, 5); i++) {
      const port = await new Promise((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port: free } = probe.address();
          probe.close(() => resolve(free));
        });
      });
      const t0 = performance.now();
      // The host's network (an engine without a bridge, as on these machines, has no port mapping), on loopback.
      const id = execFileSync(
        'docker',
        ['run', '-d', '--rm', '--network', 'host', '-e', `BEIA_MOCK_PORT=${port}`, '-e', 'BEIA_MOCK_HOST=127.0.0.1', 'beia-kit/mock'],
        {
          encoding: 'utf8',
        },
      ).trim();
      try {
        let answered = false;
        for (const deadline = t0 + 30_000; performance.now() < deadline && !answered;) {
          const status = await fetch(`http://127.0.0.1:${port}/__admin/health`).then(
            (res) => res.arrayBuffer().then(() => res.status),
            () => 0,
          );
          answered = status === 200;
          if (!answered) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        if (!answered) {
          const logs = execFileSync('docker', ['logs', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
          throw new Error(`bench: the container of beia-kit/mock gave no 200 within 30 s; its log:\n${logs}`);
        }
        times.push(performance.now() - t0);
      } finally {
        execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
      }
    }
    docker = { measured: true, runs: times.length, medianMs: median(times) };
  }
}
const loadAfter = loadavg()[0];

// ---- the report ----
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
    // The server's CPU per request, and for the Redis store the Redis server's on top (it shares the core).
    serverCpuMsPerRequest: median(runs.map((r) => r.serverCpuMsPerRequest + (r.redisCpuMsPerRequest ?? 0))),
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
  if (c.server === 'mock-redis') {
    row.redisCpuMsPerRequest = median(runs.map((r) => r.redisCpuMsPerRequest));
    const commands = {};
    let ok = 0;
    for (const r of runs) {
      ok += r.ok;
      for (const [name, n] of Object.entries(r.redisCommands)) commands[name] = (commands[name] ?? 0) + n;
    }
    const total = Object.values(commands).reduce((a, n) => a + n, 0);
    row.redis = { images: ok, commands, commandsPerImage: total / Math.max(1, ok) };
  }
  row.noisy = row.max > row.min * 1.3;
  if (cacheStats.has(c.name)) row.cache = cacheStats.get(c.name);
  return row;
});
for (const row of rows) {
  const c = cases.find((x) => x.name === row.name);
  const ref = rows.find((r) => r.name === c.versus);
  if (ref) {
    row.ratio = { versus: ref.name, value: row.reqPerSec / ref.reqPerSec };
    // CPU per request the other way round, so that both ratios read "1 is as good as the reference".
    row.cpuRatio = { versus: ref.name, value: ref.serverCpuMsPerRequest / row.serverCpuMsPerRequest };
  }
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const table = [
  ['case', 'req/s median (min-max)', 'p50 ms', 'p99 ms', 'CPU µs/req', 'peak RSS, 64 conn', 'ratio req/s', 'ratio CPU', 'notes'],
  ...rows.map((r) => [
    r.name,
    `${fmt(r.reqPerSec)} (${fmt(r.min)}-${fmt(r.max)})`,
    r.p50ms.toFixed(2),
    r.p99ms.toFixed(2),
    fmt(r.serverCpuMsPerRequest * 1000),
    `${r.peakRssMiB.toFixed(0)} MiB`,
    r.ratio ? `${r.ratio.value.toFixed(2)} of ${r.ratio.versus}` : '',
    r.cpuRatio ? r.cpuRatio.value.toFixed(2) : '',
    [
      r.noisy ? 'noisy (min and max >30% apart)' : '',
      r.non2xx ? `${r.non2xx} non-2xx` : '',
      r.socketErrors ? `${r.socketErrors} socket errors` : '',
      r.redis ? `Redis ${fmt(r.redisCpuMsPerRequest * 1000)} µs/req of it; ${r.redis.commandsPerImage.toFixed(2)} Redis commands per image` : '',
      r.pageFaultsPerRequest !== undefined
        ? `${r.pageFaultsPerRequest.toFixed(1)} page faults, ${r.contextSwitchesPerRequest.toFixed(1)} switches, ${r.cpuMsPerRequest.toFixed(2)} CPU ms per request (perf)`
        : '',
      r.cache ? `cache ${Math.round((100 * r.cache.hits) / Math.max(1, r.cache.hits + r.cache.misses))}% hits` : '',
    ]
      .filter(Boolean)
      .join('; '),
  ]),
];
if (rows.length > 0) {
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  console.log('');
  console.log(`| ${table[0].map((h, i) => h.padEnd(widths[i])).join(' | ')} |`);
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of table.slice(1)) console.log(`| ${row.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`);
}
console.log('');
for (const row of rows) {
  if (row.redis) {
    const list = Object.entries(row.redis.commands)
      .sort((x, y) => y[1] - x[1])
      .map(([name, n]) => `${name} ${(n / Math.max(1, row.redis.images)).toFixed(2)}`)
      .join(', ');
    console.log(`${row.name}: ${fmt(row.redis.images)} images answered 200; Redis commands run per image, scripts' own included (INFO commandstats): ${list}`);
  }
}
if (roundTrips) {
  const list = Object.entries(roundTrips.commands)
    .sort((x, y) => y[1] - x[1])
    .map(([name, n]) => `${name} ${(n / Math.max(1, roundTrips.images)).toFixed(2)}`)
    .join(', ');
  console.log(
    `Redis store: ${roundTrips.images} images answered 200 one after the other; commands the mock sent (MONITOR) per image: ${roundTrips.perImage.toFixed(2)} (${list})`,
  );
}
for (const m of memory) {
  console.log(
    `memory at defaults, ${m.server}: ${m.idleRssMiB.toFixed(0)} MiB idle, peak ${m.peakAfterCachedMiB.toFixed(0)} MiB after 64 connections of the same image, ${m.peakRssMiB.toFixed(0)} MiB after 64 of fresh ones, ${m.rssAfterMiB.toFixed(0)} MiB at the end`,
  );
}
for (const run of big) {
  const list = Object.entries(run.statuses)
    .map(([s, n]) => `${n}x ${s}`)
    .join(', ');
  console.log(
    `16 parallel ${(run.bytes / 1e6).toFixed(0)} MB uploads from 16 addresses, ${run.settings}: ${list}; RSS ${run.startRssMiB.toFixed(0)} MiB before, ${run.peakRssMiB.toFixed(0)} MiB at the peak, ${run.rssAfterMiB.toFixed(0)} MiB 2 s after; the next request got ${run.answersAfter}`,
  );
}
const load = `load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after, ${availableParallelism()} cores`;
for (const s of starts_) {
  console.log(
    `start (${s.build}): exec of beia mock to its first 200, median of ${s.runs}: ${fmt(s.readyMs)} ms (${fmt(s.readyMinMs)}-${fmt(s.readyMaxMs)}); to its first image 200: ${fmt(s.firstImageMs)} ms (${load})`,
  );
}
for (const [name, m] of Object.entries(imports)) {
  console.log(
    `import: ${name === 'node' ? 'node with nothing to import' : name.replace(/^([^ ]+)(.*)$/, "import('$1')$2")} as a whole process, median of ${m.runs}: ${fmt(m.medianMs)} ms (${fmt(m.minMs)}-${fmt(m.maxMs)})`,
  );
}
if (docker)
  console.log(
    docker.measured
      ? `docker run of beia-kit/mock to its first 200, median of ${docker.runs}: ${fmt(docker.medianMs)} ms`
      : `docker run to first 200: not measured: ${docker.why}`,
  );

// Each goal of issue 22 beside its figure.
console.log('');
const goals = [];
const rowOf = (name) => rows.find((r) => r.name === name);
const goal = (text, value, target, { higherIsBetter = true, unit = '', digits = 2 } = {}) => {
  if (value === undefined || Number.isNaN(value)) return;
  const met = higherIsBetter ? value >= target : value <= target;
  goals.push({ text, value, target, higherIsBetter, met });
  console.log(
    `goal: ${text}: ${value.toFixed(digits + (unit ? 0 : 1))}${unit} (goal ${higherIsBetter ? '>=' : '<='} ${target}${unit}) ${met ? 'met' : 'NOT MET'}`,
  );
};
goal('mock cached / baseline, req/s', rowOf('mock cached')?.ratio?.value, 0.8);
goal('mock cached / baseline, CPU per request', rowOf('mock cached')?.cpuRatio?.value, 0.8);
goal('mock fresh / floor, req/s', rowOf('mock fresh')?.ratio?.value, 0.9);
goal('mock fresh / floor, CPU per request', rowOf('mock fresh')?.cpuRatio?.value, 0.9);
goal('mock fresh + crop / floor + crop, req/s', rowOf('mock fresh + crop')?.ratio?.value, 0.9);
goal('mock fresh + crop / floor + crop, CPU per request', rowOf('mock fresh + crop')?.cpuRatio?.value, 0.9);
const mockMemory = memory.find((m) => m.server === 'mock');
const floorMemory = memory.find((m) => m.server === 'floor');
if (mockMemory && floorMemory) {
  goal(
    `peak RSS at defaults, mock minus floor (${mockMemory.peakRssMiB.toFixed(0)} - ${floorMemory.peakRssMiB.toFixed(0)} MiB)`,
    mockMemory.peakRssMiB - floorMemory.peakRssMiB,
    40,
    { higherIsBetter: false, unit: ' MiB', digits: 0 },
  );
}
for (const run of big)
  goal(`RSS 2 s after 16 parallel 20 MB uploads, ${run.settings}`, run.rssAfterMiB, 400, { higherIsBetter: false, unit: ' MiB', digits: 0 });
if (start) goal(`exec to first 200 (${load}; 150 ms on a quiet machine)`, start.readyMs, 300, { higherIsBetter: false, unit: ' ms', digits: 0 });
if (docker?.measured) goal('docker run to first 200', docker.medianMs, 500, { higherIsBetter: false, unit: ' ms', digits: 0 });
for (const name of ['beia-kit/client', 'beia-kit/testcontainers']) {
  if (imports[name]) goal(`import('${name}'), whole process`, imports[name].medianMs, 150, { higherIsBetter: false, unit: ' ms', digits: 0 });
}
goal('Redis round trips per image (commands the mock sent), Redis store', roundTrips?.perImage, 3, { higherIsBetter: false });

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
  memoryAtDefaults: memory,
  bigUploads: big,
  redisRoundTrips: roundTrips,
  start: starts_,
  imports,
  docker,
  load: { before: loadBefore, after: loadAfter },
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
