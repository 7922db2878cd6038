// node bench/profile-summary.mjs <file.cpuprofile> [--top N]
//
// Where a process spent its CPU, from a profile written by `node --cpu-prof` (npm run bench --
// --profile writes one per mock): self time by function and by where the code comes from.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '20' } } });
  if (positionals.length !== 1) {
    console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [--top N]');
    process.exit(2);
  }
  console.log(summarise(JSON.parse(readFileSync(positionals[0], 'utf8')), Number(values.top)));
}

/** The summary as text: the top functions by self time, then self time by origin. */
export function summarise(profile, top = 20) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const count = new Map();
  for (const id of profile.samples) count.set(id, (count.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const functions = new Map();
  const origins = new Map();
  for (const [id, hits] of count) {
    const { callFrame } = byId.get(id);
    const url = callFrame.url.replace(/^file:\/\//, '');
    const where = url ? `${url.split('/').slice(-2).join('/')}:${callFrame.lineNumber + 1}` : '';
    const name = `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + hits);
    origins.set(origin(callFrame), (origins.get(origin(callFrame)) ?? 0) + hits);
    self.set(id, hits);
  }
  const pct = (n) => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
  const lines = [`${total} samples`, '', 'self time by function:'];
  for (const [name, hits] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(hits)}  ${name.slice(0, 110)}`);
  lines.push('', 'self time by origin:');
  for (const [name, hits] of [...origins].sort((a, b) => b[1] - a[1]).slice(0, 12)) lines.push(`  ${pct(hits)}  ${name.slice(0, 110)}`);
  return lines.join('\n');
}

function origin({ url, functionName }) {
  if (!url) return functionName === '(idle)' ? 'idle' : functionName === '(garbage collector)' ? 'garbage collector' : `native: ${functionName || '(program)'}`;
  if (url.startsWith('node:')) return 'Node core';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.includes('/dist/')) return `beia-kit ${url.split('/dist/')[1].split('/').slice(0, -1).join('/')}`;
  return url;
}
