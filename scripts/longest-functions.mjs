// npm run functions -- [--top N] [--over N] [--under DIR]: the longest functions of src/**/*.ts
// (tests excluded), read with the TypeScript compiler API: every function declaration, method,
// constructor, accessor, arrow function and function expression, with its length in lines (from
// its first line to its last, both counted), longest first. A nested function is listed on its
// own and its lines count in its parent's too. --top N lists the N longest (25 by default);
// --over N lists every function longer than N lines (then --top limits only when given);
// --under DIR keeps those in one folder (src/mock, src/conformance/reporters).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const usage = 'Usage: npm run functions -- [--top N] [--over N] [--under DIR]   (defaults: the 25 longest in src)';
let values;
try {
  ({ values } = parseArgs({
    options: { top: { type: 'string' }, over: { type: 'string' }, under: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  }));
} catch (error) {
  console.error(`functions: ${error.message}. ${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
for (const name of ['top', 'over']) {
  if (values[name] !== undefined && !/^\d+$/.test(values[name])) {
    console.error(`functions: --${name} is "${values[name]}"; expected a whole number.`);
    process.exit(2);
  }
}

const root = fileURLToPath(new URL('..', import.meta.url));
const under = values.under ?? 'src';
const folder = resolve(root, under);
const src = join(root, 'src');
if ((folder !== src && !folder.startsWith(src + sep)) || !existsAsFolder(folder)) {
  console.error(`functions: --under ${under} is not a folder inside src.`);
  process.exit(2);
}

const functions = sourceFiles(folder).flatMap((file) => functionsIn(file));
functions.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line);
const over = values.over === undefined ? undefined : Number(values.over);
const top = values.top !== undefined ? Number(values.top) : over === undefined ? 25 : Infinity;
const matching = functions.filter((f) => over === undefined || f.lines > over);
const shown = matching.slice(0, top);

const scope = `${relative(root, folder).split(sep).join('/')}/**/*.ts`;
const which =
  over === undefined
    ? `the ${shown.length} longest`
    : `over ${over} lines: ${matching.length}${shown.length < matching.length ? ` (the ${shown.length} longest shown)` : ''}`;
console.log(`Functions in ${scope} (tests excluded): ${functions.length}; ${which}.`);
console.log('Lines run from first to last; a nested function is listed on its own and its lines count in its parent too.');
console.log('');
const nameWidth = Math.max(8, ...shown.map((f) => f.name.length));
console.log(`${'lines'.padStart(5)}  ${'function'.padEnd(nameWidth)}  where`);
for (const f of shown) console.log(`${String(f.lines).padStart(5)}  ${f.name.padEnd(nameWidth)}  ${f.file}:${f.line}`);

function existsAsFolder(path) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function sourceFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

function functionsIn(path) {
  const text = readFileSync(path, 'utf8');
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const file = relative(root, path).split(sep).join('/');
  const found = [];
  const visit = (node, outer) => {
    let inner = outer;
    if (isFunction(node)) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const own = nameOf(node, source);
      inner = outer === undefined ? own : `${outer} > ${own}`;
      found.push({ name: inner, file, line: first + 1, lines: last - first + 1 });
    }
    ts.forEachChild(node, (child) => visit(child, inner));
  };
  visit(source, undefined);
  return found;
}

function isFunction(node) {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node)
  );
}

// A name a reader can find: the declared one, the variable or property an anonymous function is
// given to, or the call it is passed to.
function nameOf(node, source) {
  const owner = ts.isClassLike(node.parent) ? `${node.parent.name?.text ?? '(class)'}.` : '';
  if (ts.isConstructorDeclaration(node)) return `${owner}constructor`;
  if (ts.isGetAccessorDeclaration(node)) return `${owner}get ${propertyName(node.name, source)}`;
  if (ts.isSetAccessorDeclaration(node)) return `${owner}set ${propertyName(node.name, source)}`;
  if (ts.isMethodDeclaration(node)) return `${owner}${propertyName(node.name, source)}`;
  if (node.name) return node.name.text;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isPropertyAssignment(parent)) return propertyName(parent.name, source);
  if (ts.isPropertyDeclaration(parent))
    return `${ts.isClassLike(parent.parent) ? `${parent.parent.name?.text ?? '(class)'}.` : ''}${propertyName(parent.name, source)}`;
  if (ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken) return shorten(parent.left.getText(source));
  if (ts.isCallExpression(parent) || ts.isNewExpression(parent)) return `(passed to ${shorten(parent.expression.getText(source))})`;
  return ts.isArrowFunction(node) ? '(arrow)' : '(function)';
}

function propertyName(name, source) {
  return ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)
    ? name.text
    : shorten(name.getText(source));
}

function shorten(text) {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 40 ? `${flat.slice(0, 39)}…` : flat;
}
