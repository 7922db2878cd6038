import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';

/** One input of `beia process`: a file to send, or an argument that named nothing. */
export type Input = { path: string; outputName: string } | { missing: string; reason: string };

const GLOB = /[*?[]/;

/**
 * Expands files, folders (their files, not recursive, no dotfiles) and globs (`*`, `?`, `[...]`,
 * `**` for any depth, for shells that did not expand them) into files, each once, in order. An
 * argument that names an existing file is that file, even when its name has brackets. Files for
 * which `isResult` is true (the outputs of earlier runs) are left out, so results are never taken
 * for inputs.
 * Each gets an output name that depends on nothing else: its base name without extension.
 */
export async function expandInputs(args: readonly string[], isResult: (absolutePath: string) => boolean = () => false): Promise<Input[]> {
  const found: Input[] = [];
  const seen = new Set<string>();
  const add = (path: string) => {
    const absolute = resolve(path);
    if (seen.has(absolute) || isResult(absolute)) return;
    seen.add(absolute);
    found.push({ path, outputName: stem(path) });
  };
  for (const arg of args) {
    const info = await stat(arg).catch(() => undefined);
    if (!info && GLOB.test(arg)) {
      const matches = await globFiles(arg);
      if (matches.length === 0) found.push({ missing: arg, reason: 'the pattern matches no file' });
      matches.forEach(add);
    } else if (!info) found.push({ missing: arg, reason: 'no such file or folder' });
    else if (info.isDirectory()) {
      const entries = await readdir(arg, { withFileTypes: true });
      const files = entries
        .filter((e) => e.isFile() && !e.name.startsWith('.'))
        .map((e) => join(arg, e.name))
        .sort();
      if (files.length === 0) found.push({ missing: arg, reason: 'the folder has no files' });
      files.forEach(add);
    } else add(arg);
  }
  return found;
}

function stem(path: string): string {
  const name = basename(path);
  return name.slice(0, name.length - extname(name).length) || name;
}

/** Files matching a glob pattern, sorted. */
export async function globFiles(pattern: string): Promise<string[]> {
  const segments = pattern.split(/[\\/]/);
  const firstWild = segments.findIndex((segment) => GLOB.test(segment));
  const base = segments.slice(0, firstWild).join('/') || (pattern.startsWith('/') ? '/' : '.');
  const rest = segments.slice(firstWild).join('/');
  const matcher = globRegExp(rest);
  const deep = rest.includes('**');
  const depth = rest.split('/').length;
  const results: string[] = [];
  const walk = async (dir: string, level: number) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      const rel = relative(base, full).split(sep).join('/');
      if (entry.isFile() && matcher.test(rel)) results.push(full);
      else if (entry.isDirectory() && (deep || level + 1 < depth)) await walk(full, level + 1);
    }
  };
  await walk(base, 0);
  return results.sort();
}

function globRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*' && pattern[i + 1] === '*') {
      source += pattern[i + 2] === '/' ? '(?:[^/]+/)*' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const end = pattern.indexOf(']', i);
      if (end === -1) source += '\\[';
      else {
        source += `[${pattern.slice(i + 1, end).replace(/^!/, '^')}]`;
        i = end;
      }
    } else source += char.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
