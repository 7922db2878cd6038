import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, open, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sniffImageFormat } from '../client/index.js';
import { writeFileAtomic } from '../shared/index.js';
import type { Input } from './inputs.js';

/** An image to send, and where its results go. */
export interface Job {
  id: string;
  input: string;
  sha256: string;
  outputs: { result: string; cropped?: string };
}

/** What the plan decided for one input, in input order. */
export type Decision = { kind: 'send'; job: Job } | { kind: 'skip'; id: string; reason: string } | { kind: 'fail'; id: string; code: string; reason: string };

const MANIFEST = '.beia-process.json';

interface ManifestEntry {
  input: string;
  sha256: string;
}

/**
 * Which output came from which input, kept in the output folder, so a resumed run skips only
 * what this very input produced, and never overwrites a result that came from another file.
 */
export class Manifest {
  readonly #path: string;
  #entries: Record<string, ManifestEntry>;
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string, entries: Record<string, ManifestEntry>) {
    this.#path = path;
    this.#entries = entries;
  }

  static async load(outDir: string): Promise<Manifest> {
    const path = join(outDir, MANIFEST);
    try {
      return new Manifest(path, wellFormed(JSON.parse(await readFile(path, 'utf8'))));
    } catch {
      return new Manifest(path, {});
    }
  }

  get(output: string): ManifestEntry | undefined {
    return this.#entries[resolve(output)];
  }

  /** Records the outputs of a job; writes are serialised and atomic. */
  record(job: Job): Promise<void> {
    for (const output of Object.values(job.outputs)) this.#entries[resolve(output)] = { input: resolve(job.input), sha256: job.sha256 };
    const text = `${JSON.stringify({ version: 1, outputs: this.#entries }, null, 2)}\n`;
    this.#writing = this.#writing.then(() => writeFileAtomic(this.#path, Buffer.from(text)));
    return this.#writing;
  }
}

/** The manifest's entries that have the shape this version writes; anything else in the file (hand edits, another tool's) is left out. */
function wellFormed(parsed: unknown): Record<string, ManifestEntry> {
  const outputs = typeof parsed === 'object' && parsed !== null ? (parsed as { outputs?: unknown }).outputs : undefined;
  if (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs)) return {};
  const entries: Record<string, ManifestEntry> = {};
  for (const [output, entry] of Object.entries(outputs)) {
    const { input, sha256 } = (typeof entry === 'object' && entry !== null ? entry : {}) as { input?: unknown; sha256?: unknown };
    if (typeof input === 'string' && typeof sha256 === 'string' && /^[0-9a-f]{64}$/.test(sha256)) entries[output] = { input, sha256 };
  }
  return entries;
}

/**
 * Decides, for each input, to send it, skip it (its outputs exist and came from this file), or
 * fail it before spending anything: not an image, unreadable, its output would be another input's,
 * or an existing output came from another file.
 */
export async function planJobs(inputs: readonly Input[], options: { out: string; cropped: boolean; force: boolean }, manifest: Manifest): Promise<Decision[]> {
  const decisions: Decision[] = [];
  const claimed = new Map<string, string>();
  const inputPaths = new Set(inputs.flatMap((input) => ('path' in input ? [resolve(input.path)] : [])));

  for (const input of inputs) {
    if ('missing' in input) {
      decisions.push({ kind: 'fail', id: input.missing, code: 'missing_input', reason: `${input.reason}.` });
      continue;
    }
    const id = input.path;
    const outputs: Job['outputs'] = { result: join(options.out, `${input.outputName}.png`) };
    if (options.cropped) outputs.cropped = join(options.out, `${input.outputName}.cropped.png`);
    const paths = Object.values(outputs).map((p) => resolve(p));

    const clash = paths.find((p) => claimed.has(p) || inputPaths.has(p));
    if (clash) {
      const other = claimed.get(clash);
      decisions.push({
        kind: 'fail',
        id,
        code: 'output_clash',
        reason: other
          ? `its output ${clash} is also ${other}'s; not sent. Process one of them with another --out.`
          : `its output ${clash} is an input; not sent. Choose an --out folder that holds no inputs.`,
      });
      continue;
    }
    paths.forEach((p) => claimed.set(p, id));

    const format = await sniff(input.path);
    if (format instanceof Error) {
      decisions.push({ kind: 'fail', id, code: 'unreadable_input', reason: `${format.message}; not sent.` });
      continue;
    }
    if (!format) {
      decisions.push({
        kind: 'fail',
        id,
        code: 'not_an_image',
        reason: 'not an image (no JPEG, PNG, GIF, WebP, TIFF, BMP or HEIF signature); not sent, nothing spent.',
      });
      continue;
    }
    const sha256 = await hashFile(input.path);
    const existing = await existingOutputs(paths);
    if (existing.length > 0 && !options.force) {
      const self = resolve(input.path);
      const foreign = existing
        .map((p) => ({ p, entry: manifest.get(p) }))
        .find(({ entry }) => entry !== undefined && (entry.input !== self || entry.sha256 !== sha256));
      if (foreign) {
        decisions.push({
          kind: 'fail',
          id,
          code: 'output_exists',
          reason: `${foreign.p} exists and was made from ${foreign.entry!.input === self ? 'an earlier version of this file' : foreign.entry!.input}; not sent. Use --force to replace it, or another --out.`,
        });
        continue;
      }
      if (existing.length === paths.length) {
        decisions.push({ kind: 'skip', id, reason: `${outputs.result} exists (--force to process it again)` });
        continue;
      }
    }
    decisions.push({ kind: 'send', job: { id, input: input.path, sha256, outputs } });
  }
  return decisions;
}

async function existingOutputs(paths: string[]): Promise<string[]> {
  const present: string[] = [];
  for (const path of paths) {
    try {
      await access(path);
      present.push(path);
    } catch {
      // absent
    }
  }
  return present;
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The image format of a file from its first bytes; an Error when it cannot be read. */
async function sniff(path: string): Promise<string | undefined | Error> {
  try {
    const file = await open(path, 'r');
    try {
      const head = Buffer.alloc(32);
      const { bytesRead } = await file.read(head, 0, 32, 0);
      return sniffImageFormat(head.subarray(0, bytesRead));
    } finally {
      await file.close();
    }
  } catch (error) {
    return new Error(`cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
