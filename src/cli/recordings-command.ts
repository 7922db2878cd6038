import { parseArgs } from 'node:util';
import { RecordingFolder, type RecordedImage } from '../mock/index.js';
import { flagsOf, usageError } from './usage.js';

const HELP = `beia recordings: see, check and clean a folder of recordings of the live API

Usage:
  beia recordings list DIR       one line per recording: sha256, cropped or not, when, the images
  beia recordings verify DIR     every file present and matching its sha256 in recording.json, and
                                 index.json listing exactly the recordings; exit 1 naming what is wrong
  beia recordings prune DIR [--older-than DAYS] [--broken] [--dry-run]
                                 remove the recordings made more than DAYS ago, and/or those verify
                                 finds wrong; index.json is written again

Options:
  --older-than DAYS    prune: recordings whose recordedAt is more than DAYS days ago
  --broken             prune: recordings with a file missing, changed or unreadable
  --dry-run            prune: only list what would be removed
  -h, --help           this help

DIR is what beia mock --record-from URL --recordings DIR writes, and beia mock --recordings DIR
replays (docs/recordings.md). Exit code: 0 when all is well, 1 when something is wrong, 2 for bad usage.`;

const FLAGS = {
  'older-than': { type: 'string' },
  broken: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ACTIONS = ['list', 'verify', 'prune'] as const;
type Action = (typeof ACTIONS)[number];

interface RecordingsOptions {
  action: Action;
  dir: string;
  olderThanDays?: number;
  broken: boolean;
  dryRun: boolean;
}

/** argv → what to do; throws with a message naming what is wrong. */
export function readRecordingsOptions(argv: string[]): RecordingsOptions | 'help' {
  const { values, positionals } = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: true });
  if (values.help) return 'help';
  const [action, dir, ...extra] = positionals;
  if (!ACTIONS.includes(action as Action)) {
    throw new Error(
      action === undefined ? 'say what to do: list, verify or prune, then the folder.' : `unknown action "${action}"; expected list, verify or prune.`,
    );
  }
  if (dir === undefined) throw new Error(`${action} needs the recordings folder: beia recordings ${action} DIR.`);
  if (extra.length > 0) throw new Error(`one folder at a time; also got ${extra.join(' ')}.`);
  const options: RecordingsOptions = { action: action as Action, dir, broken: values.broken ?? false, dryRun: values['dry-run'] ?? false };
  if (values['older-than'] !== undefined) {
    if (!/^\d{1,6}(\.\d+)?$/.test(values['older-than'])) throw new Error(`--older-than is "${values['older-than']}"; expected a number of days (30, or 0.5).`);
    options.olderThanDays = Number(values['older-than']);
  }
  const pruneOnly = options.olderThanDays !== undefined || options.broken || options.dryRun;
  if (options.action !== 'prune' && pruneOnly) throw new Error('--older-than, --broken and --dry-run are for prune.');
  if (options.action === 'prune' && options.olderThanDays === undefined && !options.broken) {
    throw new Error('prune needs what to remove: --older-than DAYS, --broken, or both.');
  }
  return options;
}

/** `beia recordings list|verify|prune DIR`. */
export async function runRecordingsCommand(argv: string[]): Promise<number> {
  let options: RecordingsOptions | 'help';
  try {
    options = readRecordingsOptions(argv);
  } catch (error) {
    console.error(usageError('beia recordings', error, flagsOf(FLAGS)));
    return 2;
  }
  if (options === 'help') {
    console.log(HELP);
    return 0;
  }
  let folder: RecordingFolder;
  try {
    folder = await RecordingFolder.open(options.dir);
  } catch (error) {
    console.error(`beia recordings: ${(error as Error).message}`);
    return 1;
  }
  switch (options.action) {
    case 'list': {
      const recordings = await folder.list();
      for (const { key, meta, problem } of recordings) {
        if (!meta) console.log(`${key}  ${problem ?? 'unreadable'}`);
        else {
          const images = [image('result', meta.images.result), ...(meta.images.cropped ? [image('cropped', meta.images.cropped)] : [])].join(', ');
          console.log(`${meta.sha256}  ${meta.includeCroppedImage ? 'cropped' : 'plain  '}  ${meta.recordedAt}  ${images}  from ${meta.liveUrl}`);
        }
      }
      console.log(`${recordings.length} recordings in ${folder.dir}; ${folder.forwarded} requests forwarded to the live API with it (budget.json)`);
      return recordings.some((recording) => !recording.meta) ? 1 : 0;
    }
    case 'verify': {
      const problems = await folder.verify();
      for (const problem of problems) console.error(problem);
      const count = (await folder.list()).length;
      console.log(
        problems.length === 0 ? `${count} recordings in ${folder.dir}: every file present and matching.` : `${problems.length} problems in ${folder.dir}.`,
      );
      return problems.length === 0 ? 0 : 1;
    }
    case 'prune': {
      const prune: { olderThanDays?: number; broken: boolean; dryRun: boolean } = { broken: options.broken, dryRun: options.dryRun };
      if (options.olderThanDays !== undefined) prune.olderThanDays = options.olderThanDays;
      const removed = await folder.prune(prune);
      for (const key of removed) console.log(`${options.dryRun ? 'would remove' : 'removed'} ${key}`);
      console.log(
        `${removed.length} recordings ${options.dryRun ? 'would be removed' : 'removed'}; ${options.dryRun ? 'nothing changed' : 'index.json written again'}.`,
      );
      return 0;
    }
  }
}

function image(name: string, recorded: RecordedImage): string {
  return `${name} ${recorded.width}x${recorded.height} ${recorded.bytes} bytes`;
}
