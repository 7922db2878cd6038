import { writeFileAtomic } from '../../shared/index.js';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MOCK_VERSION } from '../version.js';

/** The images a recording holds, by the names of their files. */
export const IMAGE_FILES = { result: 'result.png', cropped: 'cropped.png' } as const;
export const RECORDING_FILE = 'recording.json';
export const INDEX_FILE = 'index.json';
export const BUDGET_FILE = 'budget.json';
const README_FILE = 'README.md';

/** One image of a recording, as its `recording.json` describes it. */
export interface RecordedImage {
  file: string;
  bytes: number;
  sha256: string;
  width: number;
  height: number;
}

/**
 * A recording's `recording.json`: what was recorded, from where, by which mock. Never a key, and
 * no license id either: neither is part of what decides the answer, and the folder is committed.
 */
export interface RecordingMeta {
  format: 1;
  /** The upload's sha256: with `includeCroppedImage`, what decides the answer (the key). */
  sha256: string;
  includeCroppedImage: boolean;
  recordedAt: string;
  /** The live endpoint, without credentials or query. */
  liveUrl: string;
  mockVersion: string;
  upload: { bytes: number };
  /** The live answer: its status (only 200s are kept) and the headers that describe it. */
  answer: { status: number; headers: Record<string, string> };
  images: { result: RecordedImage; cropped?: RecordedImage };
}

/** What the recorder hands over to keep: the live 200's images and facts, nothing of the caller's credentials. */
export interface NewRecording {
  sha256: string;
  includeCroppedImage: boolean;
  liveUrl: string;
  uploadBytes: number;
  headers: Record<string, string>;
  result: Buffer;
  cropped?: Buffer;
}

/** Recorded images, read back byte for byte. */
export interface ReplayedImages {
  result: Buffer;
  cropped?: Buffer;
  width: number;
  height: number;
}

/** The folder name of a recording: `<sha256>`, or `<sha256>.cropped` for one with the cropped image. */
export function recordingKey(sha256: string, includeCroppedImage: boolean): string {
  return includeCroppedImage ? `${sha256}.cropped` : sha256;
}

const KEY = /^([0-9a-f]{64})(\.cropped)?$/;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR; undefined when `bytes` is not a PNG. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.length < 24 || !data.subarray(0, 8).equals(PNG_SIGNATURE) || data.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const README = `# BEIA recordings

Answers of the live BEIA API, recorded by beia-kit's \`beia mock --record-from URL --recordings DIR\`.
Replay them offline, under the mock's own rules (credits, 402, 429, faults), with
\`beia mock --recordings DIR\`; check them with \`beia recordings verify DIR\`.

- \`<sha256>/\`: the answer to the upload with that sha256: \`result.png\` and \`recording.json\`.
- \`<sha256>.cropped/\`: the answer with \`includeCroppedImage=true\`: \`result.png\`, \`cropped.png\`
  and \`recording.json\`.
- \`recording.json\`: when, from which endpoint (no credentials), by which mock, the sizes and
  sha256 of each file, and the headers that described the live answer.
- \`index.json\`: every recording, written again on each change.
- \`budget.json\`: how many requests were forwarded to the live API with this folder (each may
  have cost a credit); \`--record-budget N\` stops forwarding at N.

No API key is ever written here: the recorder passes the caller's credentials through untouched.
`;

/**
 * A folder of recordings, for people and git: one folder per recording (`<sha256>[.cropped]/`,
 * its PNGs and `recording.json`), `index.json` listing them all, `budget.json` counting the
 * requests forwarded to the live API. Used by the recorder (write), the replay (read) and
 * `beia recordings` (list, verify, prune).
 *
 * @example
 * ```ts
 * const folder = await RecordingFolder.open('recordings');
 * const images = await folder.find(sha256, false); // the recorded result.png, or undefined
 * ```
 */
export class RecordingFolder {
  readonly dir: string;
  #forwarded: number;
  #budgetWrite: Promise<void> = Promise.resolve();
  #indexWrite: Promise<void> = Promise.resolve();

  private constructor(dir: string, forwarded: number) {
    this.dir = dir;
    this.#forwarded = forwarded;
  }

  /**
   * Opens `dir`: it must be a folder, unless `create` (the recorder), which makes it with its
   * README. A `budget.json` that is not the count this module writes is refused, never reset.
   */
  static async open(dir: string, options: { create?: boolean } = {}): Promise<RecordingFolder> {
    if (options.create) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, README_FILE), README, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    }
    const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
      throw new Error(
        `The recordings folder ${dir} cannot be read (${error.code ?? error.message}). Record into it first (beia mock --record-from URL --recordings ${dir}), or give the folder that holds recording.json files.`,
        { cause: error },
      );
    });
    if (!info.isDirectory()) throw new Error(`The recordings folder ${dir} is not a folder. Give a folder of recordings (--recordings DIR).`);
    return new RecordingFolder(dir, await readForwarded(join(dir, BUDGET_FILE)));
  }

  /** Requests forwarded to the live API with this folder, across restarts. */
  get forwarded(): number {
    return this.#forwarded;
  }

  /**
   * Takes one forward from the budget before the request goes out: refused when `limit` are
   * taken. The check and the count are one synchronous step, so concurrent requests cannot pass
   * the limit; the count is on disk before this resolves, so a restart does not reset it.
   */
  async reserveForward(limit: number | undefined): Promise<{ ok: boolean; forwarded: number }> {
    if (limit !== undefined && this.#forwarded >= limit) return { ok: false, forwarded: this.#forwarded };
    this.#forwarded += 1;
    const forwarded = this.#forwarded;
    // Each write writes the count as it is then: one that follows this reservation covers it too.
    const write = this.#budgetWrite.then(() =>
      writeFileAtomic(
        join(this.dir, BUDGET_FILE),
        `${JSON.stringify({ forwarded: this.#forwarded, about: 'Requests beia mock --record-from forwarded to the live API with this folder; --record-budget N stops at N.' }, null, 2)}\n`,
      ),
    );
    this.#budgetWrite = write.catch(() => {});
    await write;
    return { ok: true, forwarded };
  }

  /** The recorded images of an upload (by its sha256), or undefined; a damaged recording is an error that names it. */
  async find(uploadSha256: string, includeCroppedImage: boolean): Promise<ReplayedImages | undefined> {
    const key = recordingKey(uploadSha256, includeCroppedImage);
    let meta: RecordingMeta;
    try {
      meta = JSON.parse(await readFile(join(this.dir, key, RECORDING_FILE), 'utf8')) as RecordingMeta;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`The recording ${join(this.dir, key)} cannot be read: ${(error as Error).message}. Run beia recordings verify ${this.dir}.`, {
        cause: error,
      });
    }
    const read = async (image: RecordedImage | undefined, name: string) => {
      if (!image) throw new Error(`The recording ${join(this.dir, key)} lists no ${name} image. Run beia recordings verify ${this.dir}.`);
      const bytes = await readFile(join(this.dir, key, image.file));
      if (sha256(bytes) !== image.sha256) {
        throw new Error(
          `The recording ${join(this.dir, key, image.file)} does not match its sha256 in recording.json. Run beia recordings verify ${this.dir}.`,
        );
      }
      return bytes;
    };
    const result = await read(meta.images?.result, 'result');
    const found: ReplayedImages = { result, width: meta.images.result.width, height: meta.images.result.height };
    if (includeCroppedImage) found.cropped = await read(meta.images.cropped, 'cropped');
    return found;
  }

  /** Keeps a live 200: its images and `recording.json` in a new folder that replaces any older one whole, then the index. */
  async keep(recording: NewRecording): Promise<RecordingMeta> {
    const key = recordingKey(recording.sha256, recording.includeCroppedImage);
    const describe = (file: string, bytes: Buffer): RecordedImage => {
      const size = pngSize(bytes);
      if (!size) throw new Error(`the live answer's ${file} is not a PNG`);
      return { file, bytes: bytes.length, sha256: sha256(bytes), ...size };
    };
    const images: RecordingMeta['images'] = { result: describe(IMAGE_FILES.result, recording.result) };
    if (recording.includeCroppedImage) {
      if (!recording.cropped) throw new Error('includeCroppedImage was true, but the live answer has no cropped image');
      images.cropped = describe(IMAGE_FILES.cropped, recording.cropped);
    }
    const meta: RecordingMeta = {
      format: 1,
      sha256: recording.sha256,
      includeCroppedImage: recording.includeCroppedImage,
      recordedAt: new Date().toISOString(),
      liveUrl: recording.liveUrl,
      mockVersion: MOCK_VERSION,
      upload: { bytes: recording.uploadBytes },
      answer: { status: 200, headers: recording.headers },
      images,
    };
    const staging = join(this.dir, `.${key}.${randomBytes(4).toString('hex')}.tmp`);
    const retired = `${staging}.old`;
    try {
      await mkdir(staging);
      await writeFile(join(staging, IMAGE_FILES.result), recording.result);
      if (images.cropped && recording.cropped) await writeFile(join(staging, IMAGE_FILES.cropped), recording.cropped);
      await writeFile(join(staging, RECORDING_FILE), `${JSON.stringify(meta, null, 2)}\n`);
      // A folder cannot be renamed over a full one: the old one steps aside first.
      await rename(join(this.dir, key), retired).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      await rename(staging, join(this.dir, key));
    } finally {
      await rm(staging, { recursive: true, force: true });
      await rm(retired, { recursive: true, force: true });
    }
    await this.writeIndex();
    return meta;
  }

  /** Every recording folder, with its `recording.json` or why it cannot be read. */
  async list(): Promise<Array<{ key: string; meta?: RecordingMeta; problem?: string }>> {
    const names = (await readdir(this.dir, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && KEY.test(entry.name))
      .map((entry) => entry.name)
      .sort();
    return Promise.all(
      names.map(async (key) => {
        try {
          return { key, meta: JSON.parse(await readFile(join(this.dir, key, RECORDING_FILE), 'utf8')) as RecordingMeta };
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          return { key, problem: code === 'ENOENT' ? `${RECORDING_FILE} is missing` : `${RECORDING_FILE} cannot be read: ${(error as Error).message}` };
        }
      }),
    );
  }

  /**
   * What is wrong with the folder, one line each, naming the file: a recording whose
   * `recording.json` is missing, unreadable or does not match its folder's name, an image
   * missing or not matching its size and sha256, an index that does not list exactly the
   * recordings. Empty when all is well.
   */
  async verify(): Promise<string[]> {
    const problems: string[] = [];
    const recordings = await this.list();
    for (const { key, meta, problem } of recordings) {
      const where = join(this.dir, key);
      if (problem || !meta) {
        problems.push(`${join(where, RECORDING_FILE)}: ${problem ?? 'unreadable'}`);
        continue;
      }
      const [, sha, cropped] = KEY.exec(key)!;
      if (meta.sha256 !== sha || meta.includeCroppedImage !== (cropped !== undefined)) {
        problems.push(
          `${join(where, RECORDING_FILE)}: describes ${recordingKey(String(meta.sha256), meta.includeCroppedImage === true)}, not the folder it is in`,
        );
      }
      const expected = cropped ? (['result', 'cropped'] as const) : (['result'] as const);
      for (const name of expected) {
        const image = meta.images?.[name];
        if (!image) {
          problems.push(`${join(where, RECORDING_FILE)}: lists no ${name} image`);
          continue;
        }
        const file = join(where, image.file);
        const bytes = await readFile(file).catch(() => undefined);
        if (!bytes) problems.push(`${file}: missing`);
        else if (bytes.length !== image.bytes || sha256(bytes) !== image.sha256) {
          problems.push(
            `${file}: changed (${bytes.length} bytes, sha256 ${sha256(bytes).slice(0, 12)}…; recording.json says ${image.bytes} bytes, ${String(image.sha256).slice(0, 12)}…)`,
          );
        }
      }
    }
    const listed = await readFile(join(this.dir, INDEX_FILE), 'utf8').then(
      (text) => ((JSON.parse(text) as { recordings?: Array<{ key?: string }> }).recordings ?? []).map((entry) => entry.key).sort(),
      () => undefined,
    );
    const keys = recordings.map((recording) => recording.key);
    if (keys.length > 0 && listed === undefined)
      problems.push(`${join(this.dir, INDEX_FILE)}: missing or unreadable (beia recordings prune ${this.dir} --broken writes it again)`);
    else if (listed !== undefined && JSON.stringify(listed) !== JSON.stringify(keys)) {
      problems.push(
        `${join(this.dir, INDEX_FILE)}: does not list exactly the recordings in the folder (beia recordings prune ${this.dir} --broken writes it again)`,
      );
    }
    return problems;
  }

  /**
   * Removes the recordings older than `olderThanDays` (by `recordedAt`) and, with `broken`,
   * those `verify` finds wrong; then writes the index again. With `dryRun`, only says which.
   */
  async prune(options: { olderThanDays?: number; broken?: boolean; dryRun?: boolean }): Promise<string[]> {
    const problems = options.broken ? await this.verify() : [];
    const cutoff = options.olderThanDays === undefined ? undefined : Date.now() - options.olderThanDays * 86_400_000;
    const removed: string[] = [];
    for (const { key, meta } of await this.list()) {
      const isBroken = options.broken === true && (!meta || problems.some((problem) => problem.startsWith(`${join(this.dir, key)}/`)));
      const isOld = cutoff !== undefined && meta !== undefined && Date.parse(meta.recordedAt) < cutoff;
      if (!isBroken && !isOld) continue;
      removed.push(key);
      if (!options.dryRun) await rm(join(this.dir, key), { recursive: true, force: true });
    }
    if (!options.dryRun) await this.writeIndex();
    return removed;
  }

  /** `index.json`: every readable recording, sorted by key, so that git shows a change as one. */
  async writeIndex(): Promise<void> {
    const write = this.#indexWrite.then(async () => {
      const recordings = (await this.list()).flatMap(({ key, meta }) => (meta ? [{ key, ...meta }] : []));
      const index = { format: 1, about: 'Every recording in this folder (README.md says what they are); written again on each change.', recordings };
      await writeFileAtomic(join(this.dir, INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
    });
    this.#indexWrite = write.catch(() => {});
    return write;
  }
}

async function readForwarded(file: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new Error(`Failed to read ${file}: ${(error as Error).message}.`, { cause: error });
  }
  const forwarded = (() => {
    try {
      return (JSON.parse(text) as { forwarded?: unknown }).forwarded;
    } catch {
      return undefined;
    }
  })();
  if (typeof forwarded !== 'number' || !Number.isSafeInteger(forwarded) || forwarded < 0) {
    throw new Error(`${file} is not a count of forwarded requests ({"forwarded": N}). Fix it by hand, or delete it to start the count at 0.`);
  }
  return forwarded;
}
