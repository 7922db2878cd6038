// Helpers shared by the bench scripts.

/** A whole number from `min` to `max` given as --name, or a one-line error and exit 2. */
export function wholeOption(script, name, text, min, max) {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    console.error(`${script}: --${name} is "${text}"; expected a whole number from ${min} to ${max}.`);
    process.exit(2);
  }
  return n;
}
