/**
 * The code blocks of a Markdown page and the marker before each, for test/snippets.test.ts.
 *
 *   <!-- snippet: NAME [mock] [token] [docker] [file=PATH] [files=A,B] [exit=N] -->
 *   <!-- not run: NAME: why -->
 *
 * `mock`: a `beia mock` on 127.0.0.1:8080 (a network namespace of the block's own, so the port is
 * free whatever else runs), `token` with an admin token in BEIA_MOCK_ADMIN_TOKEN; `docker`: needs
 * the Docker engine and the image; `file=PATH`: not run but written to PATH for a later block of
 * the page; `files=`: copies of examples/001.jpg the block reads; `exit=N`: the status it ends with.
 */
export interface Block {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  marker?: Marker;
}

export type Marker =
  | { kind: 'snippet'; name: string; mock: boolean; token: boolean; docker: boolean; file?: string; files: string[]; exit: number }
  | { kind: 'not run'; name: string; reason: string };

/** Languages that are code a reader runs: each block of these must be run or say why not. */
export const CODE_LANGS = new Set(['sh', 'bash', 'shell', 'ts', 'typescript', 'js', 'javascript', 'python', 'py', 'yaml', 'yml', 'cs', 'csharp']);

const SNIPPET = /^\s*<!-- snippet: ([\w-]+)((?: [\w-]+(?:=\S+)?)*) -->\s*$/;
const NOT_RUN = /^\s*<!-- not run: ([\w-]+): (.+\S) -->\s*$/;

export function parseMarker(line: string): Marker | string | undefined {
  const snippet = SNIPPET.exec(line);
  if (snippet) {
    const options = new Map(
      snippet[2]!
        .trim()
        .split(' ')
        .filter(Boolean)
        .map((option) => {
          const [key, value = ''] = option.split('=');
          return [key!, value] as const;
        }),
    );
    const unknown = [...options.keys()].filter((key) => !['mock', 'token', 'docker', 'file', 'files', 'exit'].includes(key));
    if (unknown.length > 0) return `unknown snippet option ${unknown.join(', ')}`;
    return {
      kind: 'snippet',
      name: snippet[1]!,
      mock: options.has('mock') || options.has('token'),
      token: options.has('token'),
      docker: options.has('docker'),
      ...(options.get('file') ? { file: options.get('file')! } : {}),
      files: options.get('files')?.split(',').filter(Boolean) ?? [],
      exit: Number(options.get('exit') ?? 0),
    };
  }
  const notRun = NOT_RUN.exec(line);
  if (notRun) return { kind: 'not run', name: notRun[1]!, reason: notRun[2]! };
  if (/<!--\s*(snippet|not run)/.test(line)) return 'a marker that does not parse';
  return undefined;
}

/** The fenced blocks of a page, each with the marker on the line before it (or a problem with it). */
export function blocksOf(page: string, markdown: string): { blocks: Block[]; problems: string[] } {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  const problems: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j]!)) body.push(lines[j++]!.slice(indent));
    const marker = i > 0 ? parseMarker(lines[i - 1]!) : undefined;
    if (typeof marker === 'string') problems.push(`${page}:${i}: ${marker}`);
    blocks.push({
      page,
      line: i + 1,
      lang: open[2]!,
      code: `${body.join('\n')}\n`,
      ...(typeof marker === 'object' ? { marker } : {}),
    });
    i = j;
  }
  return { blocks, problems };
}
