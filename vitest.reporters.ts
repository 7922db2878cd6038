/**
 * When BEIA_TEST_REPORT_DIR is set (CI does), each vitest run also writes a JSON report there,
 * named after its step and the Node it runs on (`unit-node24.22.3.json`), for .ci/run to add up
 * into one "N passed, N failed" line over the whole Node matrix.
 */
export function reportersFor(step: string): { reporters?: string[]; outputFile?: Record<string, string> } {
  const dir = process.env.BEIA_TEST_REPORT_DIR;
  if (!dir) return {};
  return { reporters: ['default', 'json'], outputFile: { json: `${dir}/${step}-node${process.versions.node}.json` } };
}
