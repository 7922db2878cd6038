/**
 * One style of usage error for every command: what is wrong, a "did you mean" when a known flag
 * or command is close, and one line pointing to the help. Never the whole help: it would scroll
 * the error away.
 *
 * @example
 * ```ts
 * usageError('beia mock', new TypeError("Unknown option '--prot'"), ['--port', '--host']);
 * // beia mock: unknown option --prot. Did you mean --port?
 * // Run "beia mock --help" for the options and their environment variables.
 * ```
 */
export function usageError(command: string, error: unknown, known: readonly string[]): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
  let text: string;
  if (unknown !== undefined) {
    const near = closest(unknown, known);
    text = `unknown option ${unknown}.${near ? ` Did you mean ${near}?` : ''}`;
  } else {
    // parseArgs: "Option '--port <value>' argument missing" and the like, without their advice on "--".
    text = message.replace(/\. To specify an option argument starting with a dash.*$/s, '.');
  }
  return `${command}: ${text}\nRun "${command} --help" for the options and their environment variables.`;
}

/** The flags a `parseArgs` options object declares, as they are typed: `--port`, `-h`. */
export function flagsOf(options: Record<string, { type: string; short?: string }>): string[] {
  return Object.entries(options).flatMap(([name, option]) => [`--${name}`, ...(option.short ? [`-${option.short}`] : [])]);
}

/**
 * The known word nearest to `word`, when it is near enough to be a typo (at most a third of its
 * letters off, or a prefix of at least three): `--prot` → `--port`, `proces` → `process`.
 */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = candidate.startsWith(word) && word.replace(/^-+/, '').length >= 3 ? 0.5 : editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.replace(/^-+/, '').length / 3)) ? best : undefined;
}

/** Levenshtein distance, with a swap of two neighbours counting as one (Damerau). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = value;
    }
  }
  return rows[a.length]![b.length]!;
}
