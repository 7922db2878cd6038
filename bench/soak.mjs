// npm run soak -- [--requests N] [--connections C]: a bounded soak of `beia mock` on loopback.
//
// Starts the built mock as a child process, sends N mixed requests (good ones, bad ones, and
// uploads aborted mid-body) from C connections at once, and every 10,000 requests prints the
// mock's RSS and open file descriptors. It fails (exit 1) if either keeps growing after warm-up:
// the mean of the last third of the samples above the first sample after warm-up by more than 20%
// (RSS) or 20 descriptors. A script, not a test: run it before a release and read the lines.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { Pool } from 'undici';
import { wholeOption } from './args.mjs';

// glibc malloc makes Node servers bimodal on these machines; the mock gets the same setting as the
// benchmarks (docs/development.md).
const MALLOC = { MALLOC_TRIM_THRESHOLD_: '1073741824', MALLOC_TOP_PAD_: '67108864' };

const { values } = parseArgs({ options: { requests: { type: 'string' }, connections: { type: 'string' }, 'max-seconds': { type: 'string' } } });
const total = whole('requests', values.requests ?? '100000', 1, 10_000_000);
const connections = whole('connections', values.connections ?? '8', 1, 256);
const maxSeconds = whole('max-seconds', values['max-seconds'] ?? '1800', 1, 86_400);
const EVERY = Math.min(10_000, Math.max(1, Math.floor(total / 10)));

function whole(name, text, min, max) {
  return wholeOption('soak', name, text, min, max);
}

// ---- the mock, in a process of its own so its RSS and descriptors are its own ----
const config = {
  licenses: [{ licenseId: '1234', apiKey: '5678', credits: 100_000_000, maxConcurrent: 64 }],
  processing: { maxConcurrent: 64 },
  limits: { requestTimeoutMs: 5000 },
  journal: { maxEntries: 1000 },
};
const child = spawn(process.execPath, ['dist/cli/index.js', 'mock', '--port', '0', '--quiet', '--config-json', JSON.stringify(config)], {
  env: { ...process.env, ...MALLOC },
  stdio: ['ignore', 'ignore', 'pipe'],
});
const base = await new Promise((resolve, reject) => {
  let text = '';
  child.stderr.on('data', (chunk) => {
    text += chunk;
    const url = /endpoint\s+(http:\/\/[^/\s]+)/.exec(text)?.[1];
    if (url) resolve(url);
  });
  child.on('exit', (code) => reject(new Error(`the mock exited with ${code}: ${text}`)));
});
const { port } = new URL(base);

function mockRssMiB() {
  const line = readFileSync(`/proc/${child.pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
}
function mockFds() {
  return readdirSync(`/proc/${child.pid}/fd`).length;
}

// ---- the requests ----
const image = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 40, g: 90, b: 160 } } })
  .jpeg()
  .toBuffer();
const BOUNDARY = 'soak-boundary';
function form(parts) {
  const chunks = [];
  for (const p of parts) {
    const file = p.filename ? `; filename="${p.filename}"\r\nContent-Type: application/octet-stream` : '';
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"${file}\r\n\r\n`), Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}
const good = form([
  { name: 'licenseId', value: '1234' },
  { name: 'apiKey', value: '5678' },
  { name: 'image', filename: 'a.jpg', value: image },
]);
const bodies = {
  good,
  'missing field': form([
    { name: 'licenseId', value: '1234' },
    { name: 'image', filename: 'a.jpg', value: image },
  ]),
  'wrong key': form([
    { name: 'licenseId', value: '1234' },
    { name: 'apiKey', value: 'nope' },
    { name: 'image', filename: 'a.jpg', value: image },
  ]),
  'not an image': form([
    { name: 'licenseId', value: '1234' },
    { name: 'apiKey', value: '5678' },
    { name: 'image', filename: 'a.jpg', value: 'plain text' },
  ]),
  'truncated form': good.subarray(0, Math.floor(good.length * 0.6)),
};
// Of every 10: 6 good, 3 bad, 1 aborted mid-body.
const MIX = ['good', 'missing field', 'good', 'wrong key', 'good', 'not an image', 'good', 'truncated form', 'good', 'aborted'];

const pool = new Pool(base, { connections });
const headers = { 'license-id': '1234', 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };
const statuses = new Map();

async function send(kind) {
  if (kind === 'aborted') {
    // Half the body, then the connection goes away.
    await new Promise((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /beia-api/v1/image HTTP/1.1\r\nHost: x\r\nLicense-Id: 1234\r\nContent-Type: ${headers['content-type']}\r\nContent-Length: ${good.length}\r\n\r\n`,
        );
        socket.write(good.subarray(0, good.length >> 1), () => {
          socket.destroy();
          resolve();
        });
      });
      socket.on('error', resolve);
    });
    statuses.set('aborted', (statuses.get('aborted') ?? 0) + 1);
    return;
  }
  const res = await pool.request({ path: '/beia-api/v1/image', method: 'POST', headers, body: bodies[kind] });
  await res.body.dump();
  statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
}

async function health() {
  const res = await pool.request({ path: '/__admin/health', method: 'GET' });
  return res.body.json();
}

// ---- the run ----
const samples = [];
let next = 0;
let done = 0;
let lastMark = { at: performance.now(), done: 0 };
const deadline = Date.now() + maxSeconds * 1000;
console.log(`soak: ${total} requests from ${connections} connections against ${base} (pid ${child.pid}), a line every ${EVERY}`);
console.log('requests   req/s   rss MiB   fds   in flight');

async function worker() {
  while (next < total && Date.now() < deadline) {
    const i = next++;
    await send(MIX[i % MIX.length]);
    done += 1;
    if (done % EVERY === 0) {
      const now = performance.now();
      const rate = ((done - lastMark.done) * 1000) / (now - lastMark.at);
      lastMark = { at: now, done };
      const sample = { done, rss: mockRssMiB(), fds: mockFds(), inFlight: (await health()).inFlight };
      samples.push(sample);
      console.log(
        `${String(done).padStart(8)}  ${rate.toFixed(0).padStart(6)}  ${sample.rss.toFixed(1).padStart(8)}  ${String(sample.fds).padStart(4)}  ${String(sample.inFlight).padStart(10)}`,
      );
    }
  }
}
await Promise.all(Array.from({ length: connections }, worker));
await pool.close();
const after = await fetch(`${base}/__admin/health`).then((r) => r.json());
child.kill('SIGTERM');
await new Promise((resolve) => child.on('exit', resolve));

console.log(`statuses: ${[...statuses].map(([s, n]) => `${s} x${n}`).join(', ')}; after: ${JSON.stringify(after)}`);
if (done < total) console.log(`soak: stopped after ${maxSeconds} s at ${done} requests`);
// Warm-up: the first sample (caches, JIT, pools). Growth: the last third against the first after it.
const settled = samples.slice(1);
if (settled.length < 3) {
  console.log('soak: too few samples to judge growth (give --requests at least 40000)');
  process.exit(after.inFlight === 0 ? 0 : 1);
}
const tail = settled.slice(-Math.max(1, Math.floor(settled.length / 3)));
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rssGrowth = mean(tail.map((s) => s.rss)) / settled[0].rss - 1;
const fdGrowth = mean(tail.map((s) => s.fds)) - settled[0].fds;
const flat = rssGrowth <= 0.2 && fdGrowth <= 20 && after.inFlight === 0 && after.uploads.receiving === 0;
console.log(
  `soak: ${flat ? 'flat' : 'GROWING'}: RSS ${(rssGrowth * 100).toFixed(1)}% and ${fdGrowth.toFixed(1)} descriptors from the first sample after warm-up to the last third; ${after.inFlight} in flight, ${after.uploads.receiving} uploads held after`,
);
process.exit(flat ? 0 : 1);
