import { FIELD } from '../../contract/index.js';
import { ApiError } from '../http/api-error.js';

const TRUE = new Set(['true', '1']);
const FALSE = new Set(['false', '0']);

/**
 * `includeCroppedImage` (M4): absent is false; `true/false/1/0` in any case; anything else a 400,
 * or, with `strictBooleans` off, read as `lenientBooleans` (false unless set).
 */
export function readIncludeCropped(value: string | undefined, rules: { strictBooleans: boolean; lenientBooleans?: boolean }): boolean {
  if (value === undefined) return false;
  const normalised = value.trim().toLowerCase();
  if (TRUE.has(normalised)) return true;
  if (FALSE.has(normalised)) return false;
  if (!rules.strictBooleans) return rules.lenientBooleans ?? false;
  throw new ApiError('invalid_field', `Field "${FIELD.includeCroppedImage}" is "${value.slice(0, 40)}"; expected true or false.`);
}
