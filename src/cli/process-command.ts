import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  BeiaClient,
  BeiaResultError,
  describeRoute,
  EndpointUnreachableError,
  LIVE_ENDPOINT,
  processBatch,
  type BatchEvent,
  type ProcessResult,
} from '../client/index.js';
import { redactUrl } from '../shared/index.js';
import { networkOptions, readNetwork, type CliNetwork } from './network-flags.js';
import { NETWORK_FLAGS } from './network-flag-specs.js';
import { BeiaApiError } from '../contract/index.js';
import { writeFileAtomic } from '../shared/index.js';
import { expandInputs } from './inputs.js';
import { Manifest, planJobs, type Job } from './process-plan.js';
import { flagsOf, usageError } from './usage.js';
import { failureReason, plainProgress, terminalProgress, type ProgressCounts, type ProgressView } from './progress.js';

const HELP = `beia process: send images to BEIA (or the mock) and save the results

Usage: beia process <files, folders or globs...> --out DIR [options]

Options:
  --out DIR            where DIR/<name>.png (and DIR/<name>.cropped.png) are written
  --cropped            also ask for and save the cropped image
  --concurrency N      images in flight at once (default 2)
  --endpoint URL       BEIA_ENDPOINT       default ${LIVE_ENDPOINT}
  --license-id ID      BEIA_LICENSE_ID     required
  --api-key KEY        BEIA_API_KEY        required (prefer the variable: flags show in ps)
  --force              process inputs whose output already exists
  --retries N          retries after a 429, a 500 or a failure before sending (default 3)
  --timeout-ms MS      per attempt (default 120000)
  --stop-after N       stop after N images in a row got no answer: the endpoint is down (default 3; 0: never)
  --proxy URL          a forward proxy for every request; by default HTTPS_PROXY, HTTP_PROXY and NO_PROXY as curl reads them
  --source-address IP  BEIA_SOURCE_ADDRESS  the local address to send from (the registered static IP)
  --ca-file FILE       BEIA_CA_FILE         more CA certificates (PEM) to trust: a TLS-inspecting proxy's
  -h, --help           this help

Outputs are written atomically, so an interrupted run leaves no half image, and a second run
skips what is done. It stops early on 401, 402 and 403, and when the endpoint stops answering;
Ctrl-C finishes the images in flight.
Exit code: 0 when every input was processed (or already was), 1 otherwise, 2 for bad usage, 130
when interrupted.`;

export interface ProcessCommandOptions {
  inputs: string[];
  out: string;
  cropped: boolean;
  concurrency: number;
  endpoint: string;
  licenseId: string;
  apiKey: string;
  force: boolean;
  retries: number;
  timeoutMs: number;
  stopAfterNetworkFailures: number;
  network: CliNetwork;
}

const PROCESS_FLAGS = {
  out: { type: 'string', short: 'o' },
  cropped: { type: 'boolean' },
  concurrency: { type: 'string' },
  endpoint: { type: 'string' },
  'license-id': { type: 'string' },
  'api-key': { type: 'string' },
  force: { type: 'boolean' },
  retries: { type: 'string' },
  'timeout-ms': { type: 'string' },
  'stop-after': { type: 'string' },
  ...NETWORK_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags, then environment. Throws a message naming what is missing or wrong. */
export function readProcessOptions(argv: string[], env: NodeJS.ProcessEnv): ProcessCommandOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: PROCESS_FLAGS,
  });
  if (values.help) return 'help';
  if (positionals.length === 0) throw new Error('no input: name image files, folders or globs.');
  if (!values.out) throw new Error('--out DIR is required: the folder for the results.');
  const licenseId = values['license-id'] ?? env.BEIA_LICENSE_ID;
  const apiKey = values['api-key'] ?? env.BEIA_API_KEY;
  if (!licenseId) throw new Error('no license: pass --license-id or set BEIA_LICENSE_ID.');
  if (!apiKey) throw new Error('no API key: set BEIA_API_KEY (or pass --api-key).');
  return {
    inputs: positionals,
    out: values.out,
    cropped: values.cropped ?? false,
    concurrency: count('--concurrency', values.concurrency ?? '2', 1),
    endpoint: values.endpoint ?? env.BEIA_ENDPOINT ?? LIVE_ENDPOINT,
    licenseId,
    apiKey,
    force: values.force ?? false,
    retries: count('--retries', values.retries ?? '3', 0),
    timeoutMs: count('--timeout-ms', values['timeout-ms'] ?? '120000', 1),
    stopAfterNetworkFailures: count('--stop-after', values['stop-after'] ?? '3', 0),
    network: readNetwork(values, env),
  };
}

function count(flag: string, text: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min) throw new Error(`${flag} is "${text}"; expected a whole number of at least ${min}.`);
  return Number(text);
}

/** `beia process`: expand the inputs, skip what is done, send the rest, write atomically, summarise. */
export async function runProcessCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let options: ProcessCommandOptions | 'help';
  try {
    options = readProcessOptions(argv, env);
  } catch (error) {
    io.stderr.write(`${usageError('beia process', error, flagsOf(PROCESS_FLAGS))}\n`);
    return 2;
  }
  if (options === 'help') {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }

  let client: BeiaClient;
  try {
    client = await openClient(options);
  } catch (error) {
    io.stderr.write(`beia process: ${(error as Error).message}\n`);
    return 2;
  }

  const view: ProgressView = io.stderr.isTTY ? terminalProgress(io.stderr) : plainProgress(io.stdout);
  showRoute(view, options);
  const tally = new Tally(view);
  const manifest = await Manifest.load(options.out);
  const jobs = await planAndSkip(options, manifest, tally);
  const interrupt = onInterrupt(view, io, tally.counts);
  const summary = await processBatch(client, jobs, {
    concurrency: options.concurrency,
    includeCroppedImage: options.cropped,
    signal: interrupt.signal,
    stopAfterNetworkFailures: options.stopAfterNetworkFailures,
    onResult: (item, result) => writeOutputs(item as Job, result, manifest),
    onEvent: (event) => showEvent(event, tally, options.endpoint),
  });
  interrupt.remove();
  view.finish();

  const notStarted = summary.notStarted.length;
  io.stdout.write(`${summaryLine(tally, notStarted, summary.creditsRemaining)}\n`);
  if (interrupt.interrupted()) return 130;
  return tally.counts.failed === 0 && notStarted === 0 ? 0 : 1;
}

/** The output folder made, the network read (proxy, CAs, source address), the client built on them. */
async function openClient(options: ProcessCommandOptions): Promise<BeiaClient> {
  await mkdir(options.out, { recursive: true });
  const network = await networkOptions(options.network);
  return new BeiaClient({
    ...network,
    endpoint: options.endpoint,
    licenseId: options.licenseId,
    apiKey: options.apiKey,
    maxConcurrent: options.concurrency,
    retries: options.retries,
    timeoutMs: options.timeoutMs,
  });
}

/** With a proxy or a source address, the way the requests go, first. */
function showRoute(view: ProgressView, options: ProcessCommandOptions): void {
  if (options.network.proxy === undefined && options.network.sourceAddress === undefined) return;
  const from = options.network.sourceAddress === undefined ? '' : `, from ${options.network.sourceAddress}`;
  view.line(`route ${redactUrl(options.endpoint)} ${describeRoute(options.endpoint, options.network.proxy)}${from}`);
}

/** The run's counts and its failures by code, shown as they change. */
class Tally {
  readonly counts: ProgressCounts = { total: 0, done: 0, skipped: 0, failed: 0, inFlight: 0, creditsRemaining: undefined };
  readonly failures = new Map<string, number>();

  constructor(readonly view: ProgressView) {}

  fail(id: string, code: string, message: string): void {
    this.counts.failed += 1;
    this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
    this.view.line(`fail  ${id}: ${message}`);
    this.view.update(this.counts);
  }
}

/** The inputs expanded and planned: what fails at once and what is already done are shown, the rest returned as jobs. */
async function planAndSkip(options: ProcessCommandOptions, manifest: Manifest, tally: Tally): Promise<Job[]> {
  const inputs = await expandInputs(options.inputs, (path) => manifest.get(path) !== undefined);
  const decisions = await planJobs(inputs, options, manifest);
  tally.counts.total = decisions.length;
  const jobs: Job[] = [];
  for (const decision of decisions) {
    if (decision.kind === 'fail') tally.fail(decision.id, decision.code, decision.reason);
    else if (decision.kind === 'skip') {
      tally.counts.skipped += 1;
      tally.view.line(`skip  ${decision.id}: ${decision.reason}`);
    } else jobs.push(decision.job);
  }
  tally.view.update(tally.counts);
  return jobs;
}

/** Ctrl-C (or SIGTERM) once: finish the images in flight and start no more; twice: quit now. */
function onInterrupt(view: ProgressView, io: { stderr: NodeJS.WriteStream }, counts: ProgressCounts) {
  const interrupt = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) {
      view.finish();
      io.stderr.write('beia process: interrupted again, quitting without waiting.\n');
      process.exit(130);
    }
    interrupted = true;
    view.line(`stop  interrupted: finishing the ${counts.inFlight} image(s) in flight; Ctrl-C again to quit now`);
    interrupt.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: interrupt.signal,
    interrupted: () => interrupted,
    remove: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** An answer's images written atomically, then the manifest: a second run skips it. */
async function writeOutputs(job: Job, result: ProcessResult, manifest: Manifest): Promise<void> {
  await writeFileAtomic(job.outputs.result, result.result);
  if (job.outputs.cropped) {
    if (!result.cropped) throw Object.assign(new Error(`the answer had no cropped image; ${job.outputs.result} was written`), { code: 'no_cropped_image' });
    await writeFileAtomic(job.outputs.cropped, result.cropped);
  }
  await manifest.record(job);
}

/** One event of the batch, counted and shown. */
function showEvent(event: BatchEvent, tally: Tally, endpoint: string): void {
  const { counts, view } = tally;
  if (event.type === 'start') counts.inFlight += 1;
  if (event.type === 'done') {
    counts.inFlight -= 1;
    counts.done += 1;
    counts.creditsRemaining = lowest(counts.creditsRemaining, event.result.creditsRemaining);
    const credits = event.result.creditsRemaining === undefined ? '' : ` (credits ${event.result.creditsRemaining})`;
    view.line(`ok    ${event.item.id} -> ${(event.item as Job).outputs.result}${credits}`);
  }
  if (event.type === 'failed') {
    counts.inFlight -= 1;
    if (event.error instanceof BeiaApiError || event.error instanceof BeiaResultError)
      counts.creditsRemaining = lowest(counts.creditsRemaining, event.error.creditsRemaining);
    const { code, message } = failureReason(event.error);
    tally.fail(event.item.id, code, message);
    return;
  }
  if (event.type === 'stopping' && event.reason instanceof BeiaApiError) {
    view.line(`stop  ${event.reason.status}: every further image would fail the same way; not starting the rest`);
  }
  if (event.type === 'stopping' && event.reason instanceof EndpointUnreachableError) {
    view.line(`stop  ${endpoint} is unreachable: ${event.reason.message}`);
  }
  view.update(counts);
}

/** `processed N, skipped N (already done), failed N (code N, ...), credits left N`. */
function summaryLine(tally: Tally, notStarted: number, batchCredits: number | undefined): string {
  const { counts } = tally;
  const byReason = [...tally.failures].map(([code, n]) => `${code} ${n}`).join(', ');
  const credits = counts.creditsRemaining ?? batchCredits;
  return [
    `processed ${counts.done}`,
    `skipped ${counts.skipped} (already done)`,
    `failed ${counts.failed}${notStarted ? ` + not started ${notStarted}` : ''}${byReason ? ` (${byReason})` : ''}`,
    `credits left ${credits ?? 'unknown'}`,
  ].join(', ');
}

/** Answers finish out of order: the lowest count seen is the latest. */
function lowest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}
