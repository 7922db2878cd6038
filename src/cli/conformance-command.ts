import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { redactUrl } from '../shared/index.js';
import { networkOptions, readNetwork } from './network-flags.js';
import { NETWORK_FLAGS } from './network-flag-specs.js';
import { flagsOf, usageError } from './usage.js';
import {
  ALL_CASES,
  caseCost,
  compareObservations,
  type Drift,
  consoleLine,
  consoleReport,
  htmlReport,
  jsonReport,
  type HtmlReportOptions,
  type ObservationFile,
  junitReport,
  openTarget,
  planRun,
  readObservations,
  runConformance,
  summarize,
  summaryLine,
  writeObservations,
  type RunReport,
} from '../conformance/index.js';

const HELP = `beia conformance: check that a target keeps the BEIA contract

Usage:
  beia conformance --target URL|mock [options]
  beia conformance --compare OLD.json NEW.json

Target and credentials:
  --target URL|mock              the image endpoint, or "mock" for an in-process beia mock
  --license-id ID                BEIA_LICENSE_ID (required for a URL)
  --api-key KEY                  BEIA_API_KEY (required for a URL; never printed)
  --zero-credit-license ID:KEY   a license without credits, for the 402 cases
  --unlisted-source-address IP   a local address not on the license's allowlist, for the 403 cases

Reaching the target (as the client and beia process):
  --proxy URL                    a forward proxy; by default HTTPS_PROXY, HTTP_PROXY, NO_PROXY as curl reads them
  --source-address IP            BEIA_SOURCE_ADDRESS: the local address to send from (the registered static IP)
  --ca-file FILE                 BEIA_CA_FILE: more CA certificates (PEM) to trust (a TLS-inspecting proxy's)
  --admin                        the URL is a beia mock: use its admin API (--admin-token T,
                                 BEIA_MOCK_ADMIN_TOKEN); the run makes a zero-credit license if none is
                                 given, and removes what it made at its end (interrupted too)

Cost control:
  --dry-run                      print the plan and the most credits it can spend; send nothing
  --budget N                     refuse a plan above N credits; stop if credits fall faster than planned
  --only A,B   --skip A,B        by case id, rule (D7, M3), kind, or tag: free, paid, load,
                                 zero-credit-license, unlisted-source-address, admin-api

Reports:
  --reporter console|json|junit|html[=FILE]   several allowed; console on stdout by default;
                                 html: one self-contained page for a release manager
  --record FILE                  write what the target did for each unknown (for --compare, beia mock --profile)
  --previous FILE                a record of an earlier run: its drift goes into the reports

Before any paid case the run checks that the target answers at that path (and, with --admin, that
the admin API answers); a wrong URL, a dead port, a TLS or DNS error, or credentials the target
refuses stop it at once with one line that says what to fix.

Exit code: 0 nothing failed or errored, 1 a case failed, 2 the suite could not run (or did not:
the line says why), 130/143 interrupted (SIGINT/SIGTERM).`;

interface ReporterChoice {
  kind: 'console' | 'json' | 'junit' | 'html';
  file?: string;
}

export async function runConformanceCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (error) {
    console.error(usageError('beia conformance', error, flagsOf(CONFORMANCE_FLAGS)));
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.compare) return compare(values.compare, positionals);
  if (positionals.length > 0) {
    console.error(
      usageError('beia conformance', new Error(`unexpected argument "${positionals[0]}" (every option is a --flag; the target goes in --target URL).`), []),
    );
    return 2;
  }

  let reporters: ReporterChoice[];
  let budget: number | undefined;
  let zeroCreditLicense: { licenseId: string; apiKey: string } | undefined;
  let previous: ObservationFile | undefined;
  try {
    // Read before anything is sent: a wrong path must not cost a run.
    if (values.previous) previous = await readObservations(values.previous);
    reporters = (values.reporter ?? ['console']).map(readReporter);
    if (values.budget !== undefined) {
      if (!/^\d+$/.test(values.budget)) throw new Error(`--budget is "${values.budget}"; expected a whole number of credits.`);
      budget = Number(values.budget);
    }
    if (values['zero-credit-license']) {
      const [licenseId, ...key] = values['zero-credit-license'].split(':');
      if (!licenseId || key.length === 0 || !key.join(':')) throw new Error('--zero-credit-license takes ID:KEY.');
      zeroCreditLicense = { licenseId, apiKey: key.join(':') };
    }
    if (!values.target) throw new Error('--target is required: the image endpoint URL, or "mock".');
  } catch (error) {
    console.error(usageError('beia conformance', error, []));
    return 2;
  }

  let opened: Awaited<ReturnType<typeof openTarget>>;
  const cliNetwork = readNetwork(values, env);
  try {
    const network = await networkOptions(cliNetwork);
    // The in-process mock has its own license: live credentials in the environment are not for it.
    const isMock = values.target === 'mock';
    const licenseId = values['license-id'] ?? (isMock ? undefined : env.BEIA_LICENSE_ID);
    const apiKey = values['api-key'] ?? (isMock ? undefined : env.BEIA_API_KEY);
    opened = await openTarget({
      target: values.target,
      ...(licenseId ? { licenseId } : {}),
      ...(apiKey ? { apiKey } : {}),
      ...(zeroCreditLicense ? { zeroCreditLicense } : {}),
      ...(values['unlisted-source-address'] ? { unlistedSourceAddress: values['unlisted-source-address'] } : {}),
      ...(values.admin ? { admin: true } : {}),
      ...(values.target === 'mock' ? {} : { network }),
      ...((values['admin-token'] ?? env.BEIA_MOCK_ADMIN_TOKEN) ? { adminToken: values['admin-token'] ?? env.BEIA_MOCK_ADMIN_TOKEN } : {}),
    });
  } catch (error) {
    console.error(`beia conformance: ${(error as Error).message}`);
    return 2;
  }

  // Where the requests go: said once, without the proxy's credentials, so a log shows the route taken.
  if (opened.target.kind === 'url' && (opened.target.proxy !== undefined || cliNetwork.sourceAddress !== undefined)) {
    const from = cliNetwork.sourceAddress === undefined ? '' : `, from ${cliNetwork.sourceAddress}`;
    console.error(
      `beia conformance: route ${redactUrl(opened.target.endpoint)} ${opened.target.proxy ? `through the proxy ${opened.target.proxy}` : 'direct'}${from}`,
    );
  }

  const selection = { only: list(values.only), skip: list(values.skip) };
  // Interrupted: the run aborts what it sends, removes what it made on the target, then exits.
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupt.signal.aborted) process.exit(signalExit(signal));
    console.error(`beia conformance: ${signal}: stopping and removing what the run made on the target (${signal} again to quit at once)`);
    interrupt.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (values['dry-run']) {
      const plan = planRun(ALL_CASES, opened.target, selection);
      for (const { case: c, skipReason } of plan.cases) {
        console.log(
          `${skipReason ? 'skip' : 'run '}  ${c.id.padEnd(28)} ${c.rule.padEnd(7)} ${String(caseCost(c)).padStart(2)} credit(s)${c.tags.shares?.length ? ` (shares ${c.tags.shares.join(', ')})` : ''}${skipReason ? `  ${skipReason}` : ''}`,
        );
      }
      console.log(`\nplan: ${plan.cases.filter((p) => !p.skipReason).length} cases, at most ${plan.maxCredits} credits (shared paid answers counted once)`);
      return budget !== undefined && plan.maxCredits > budget ? 2 : 0;
    }
    const live = reporters.some((r) => r.kind === 'console' && !r.file);
    const report = await runConformance(opened.target, ALL_CASES, {
      ...selection,
      ...(budget !== undefined ? { budget } : {}),
      ...(live ? { onOutcome: (o) => console.log(consoleLine(o)) } : {}),
      signal: interrupt.signal,
    });
    if (report.leftBehind) console.error(`beia conformance: could not remove from the target: ${report.leftBehind.join('; ')}`);
    if (report.notRun !== undefined) {
      // One line, whatever the reporters; the files say "did not run" too.
      console.error(`beia conformance ${summaryLine(report)}`);
      await writeReports(
        report,
        reporters.filter((r) => r.file),
        false,
        {},
      );
      return interrupt.signal.aborted ? signalExit(interrupt.signal.reason as NodeJS.Signals) : 2;
    }
    const html: HtmlReportOptions = {};
    if (previous) {
      const changes = compareObservations(previous.observations, report.observations, { before: previous.cases, after: report.observedBy });
      html.drift = { file: values.previous!, recordedAt: previous.recordedAt, changes };
      const behaviour = changes.filter((d) => d.kind === 'behaviour');
      if (live) {
        console.log(
          `since ${values.previous}: ${behaviour.length === 0 ? 'no drift in behaviour' : behaviour.map((d) => `${d.key}: ${JSON.stringify(d.before)} -> ${JSON.stringify(d.after)}`).join('; ')}`,
        );
      }
    }
    await writeReports(report, reporters, live, html);
    // The summary line ends every run, whatever the reporters: on stderr when a report takes stdout.
    if (!live) {
      if (reporters.some((r) => !r.file)) console.error(`beia conformance: ${summaryLine(report)}`);
      else console.log(`beia conformance: ${summaryLine(report)}`);
    }
    if (values.record) await writeObservations(values.record, report.target.endpoint, report.observations, report.observedBy);
    const summary = summarize(report.outcomes);
    if (interrupt.signal.aborted) return signalExit(interrupt.signal.reason as NodeJS.Signals);
    if (report.stopped) return 2;
    if (summary.failed > 0) return 1;
    if (summary.errored > 0) return 2;
    return 0;
  } catch (error) {
    console.error(`beia conformance: ${(error as Error).message}`);
    return 2;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await opened.close();
  }
}

/** The exit code of a run ended by a signal, as a shell reports one: 128 + its number. */
function signalExit(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : 130;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: CONFORMANCE_FLAGS,
  });
}

const CONFORMANCE_FLAGS = {
  target: { type: 'string' },
  'license-id': { type: 'string' },
  'api-key': { type: 'string' },
  'zero-credit-license': { type: 'string' },
  'unlisted-source-address': { type: 'string' },
  ...NETWORK_FLAGS,
  admin: { type: 'boolean' },
  'admin-token': { type: 'string' },
  'dry-run': { type: 'boolean' },
  budget: { type: 'string' },
  only: { type: 'string', multiple: true },
  skip: { type: 'string', multiple: true },
  reporter: { type: 'string', multiple: true },
  record: { type: 'string' },
  previous: { type: 'string' },
  compare: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function list(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

function readReporter(text: string): ReporterChoice {
  const [kind, file] = text.split('=', 2) as [string, string | undefined];
  if (kind !== 'console' && kind !== 'json' && kind !== 'junit' && kind !== 'html')
    throw new Error(`--reporter is "${text}"; expected console, json, junit or html, each optionally =FILE.`);
  return file ? { kind, file } : { kind };
}

async function writeReports(report: RunReport, reporters: ReporterChoice[], liveConsole: boolean, html: HtmlReportOptions): Promise<void> {
  for (const reporter of reporters) {
    const text =
      reporter.kind === 'json'
        ? jsonReport(report)
        : reporter.kind === 'junit'
          ? junitReport(report)
          : reporter.kind === 'html'
            ? htmlReport(report, html)
            : consoleReport(report);
    if (reporter.file) await writeFile(reporter.file, text);
    else if (reporter.kind === 'console' && liveConsole) {
      // The lines were printed as the cases ended; the summary closes them.
      console.log(text.slice(text.indexOf('\n\n') + 1));
    } else process.stdout.write(text);
  }
}

async function compare(oldFile: string, positionals: string[]): Promise<number> {
  const newFile = positionals[0];
  if (!newFile || positionals.length > 1) {
    console.error('beia conformance: --compare takes two files: --compare OLD.json NEW.json');
    return 2;
  }
  try {
    const [before, after] = await Promise.all([readObservations(oldFile), readObservations(newFile)]);
    const drift = compareObservations(before.observations, after.observations, { before: before.cases, after: after.cases });
    console.log(`observations ${oldFile} (${before.recordedAt}) -> ${newFile} (${after.recordedAt})`);
    const shown = (value: unknown) => (value === undefined ? '(not observed)' : JSON.stringify(value));
    const behaviour = drift.filter((d) => d.kind === 'behaviour');
    const timing = drift.filter((d) => d.kind === 'timing');
    const coverage = drift.filter((d) => d.kind === 'coverage');
    const list = (found: Drift[]) => {
      for (const d of found) console.log(`  ${d.key}: ${shown(d.before)} -> ${shown(d.after)}${d.case ? `  (${d.case})` : ''}`);
    };
    if (behaviour.length) {
      console.log('behaviour:');
      list(behaviour);
    }
    if (timing.length) {
      // One request's time on a busy machine varies: shown, never a reason to fail a release.
      console.log('timing (reported, not counted as drift: times more than 2x and 100 ms apart, and the counts of a burst the suite could not pace):');
      list(timing);
    }
    if (coverage.length) {
      console.log('observed in one record only (a case skipped in one run, or new in this version; not counted):');
      list(coverage);
    }
    console.log(behaviour.length === 0 ? `no drift${timing.length || coverage.length ? ' in behaviour' : ''}` : `${behaviour.length} change(s) of behaviour`);
    return behaviour.length === 0 ? 0 : 1;
  } catch (error) {
    console.error(`beia conformance: ${(error as Error).message}`);
    return 2;
  }
}
