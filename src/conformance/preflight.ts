import { FIELD, HEADER, IMAGE_PATH } from '../contract/index.js';
import { MockAdminError } from '../mock/light.js';
import { redactUrl } from '../shared/index.js';
import type { Target } from './context.js';
import type { Wire } from './wire.js';

/**
 * The run cannot start, or cannot go on, for a reason the caller can fix (a wrong URL, a wrong
 * key, an admin API that does not answer): nothing about the target was learnt. The message is
 * one line that says what is wrong and which flag or variable fixes it. Reports say "did not run".
 */
export class NotRunError extends Error {
  override readonly name = 'NotRunError';
}

/** TLS failures of the certificate chain: the fix is the CA, not the URL. */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** Errors of the connection itself: the target is not there (or not reachable from here). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function codeOf(error: unknown): string | undefined {
  const seen = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = seen?.code ?? seen?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A message on one line, for the one line a run that cannot run prints. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * What a network error says about the target, in one line with the fix; undefined when it is not
 * one of the errors that mean the target cannot be reached at all (a reset in the middle of a
 * large upload, say, is the target's answer to that request).
 */
export function connectionProblem(error: unknown, endpoint: string): string | undefined {
  const code = codeOf(error);
  if (code === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  const host = url.hostname;
  const where = `${host}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
  if (code === 'ECONNREFUSED') return `nothing answers at ${where} (connection refused): start the server, or correct the host and port in --target`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `the host ${host} in --target does not resolve (DNS ${code}): correct the host name in --target, or check this machine's DNS`;
  if (UNREACHABLE.has(code))
    return `no connection to ${where} (${code}): check the host and port in --target, and that this machine can reach it (firewall, VPN, proxy)`;
  if (UNTRUSTED_CERTIFICATE.has(code))
    return `the TLS certificate of ${host} is not trusted (${code}): for a private or self-signed CA, give its certificate in NODE_EXTRA_CA_CERTS=/path/to/ca.pem; or correct --target`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return `the TLS certificate of ${host} is not valid now (${code}): renew the server's certificate, or correct --target`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `the TLS certificate of ${host} does not name that host (${code}): use the host name the certificate names in --target`;
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO')
    return `${where} does not speak TLS (${code}): use http:// instead of https:// in --target, or the server's TLS port`;
  return undefined;
}

/**
 * Proves, before any paid case, that the run can tell anything about the target: a free request
 * (a form with the license and no key nor image, which no target can charge) reaches something at
 * that path; and, for a beia mock's admin API, that it answers and takes the token. A connection
 * or TLS error, or a 404 or 405 (the URL is not the endpoint), is a {@link NotRunError}.
 */
export async function preflight(target: Target, wire: Wire): Promise<void> {
  const shown = redactUrl(target.endpoint);
  let status: number;
  try {
    ({ status } = await wire.send({
      headers: { [HEADER.licenseId]: target.credentials.licenseId },
      parts: [{ name: FIELD.licenseId, value: target.credentials.licenseId }],
    }));
  } catch (error) {
    const problem = connectionProblem(error, target.endpoint);
    if (problem) throw new NotRunError(problem, { cause: error });
    if ((error as Error).name === 'AbortError') throw error;
    throw new NotRunError(oneLine(`the target at ${shown} could not be reached: ${(error as Error).message}; check --target`), { cause: error });
  }
  if (status === 404 || status === 405) {
    const url = new URL(target.endpoint);
    const hint =
      url.pathname === IMAGE_PATH
        ? `is --target the BEIA image endpoint (${IMAGE_PATH})?`
        : `--target must be the image endpoint, not ${url.pathname === '/' ? 'the base URL' : 'another path'}: try ${url.origin}${IMAGE_PATH}`;
    throw new NotRunError(`the target answered ${status} to POST ${shown}: nothing takes images at that path; ${hint}`);
  }
  if (target.admin) await adminPreflight(target);
}

/** The admin API answers (it is a beia mock), takes the token, and knows the run's license. */
async function adminPreflight(target: Target): Promise<void> {
  const admin = target.admin!;
  const origin = new URL(target.endpoint).origin;
  try {
    await admin.health();
  } catch (error) {
    const reason = error instanceof MockAdminError && error.status !== 0 ? `it answered ${error.status}` : 'no answer';
    throw new NotRunError(
      `no beia mock admin API answers at ${origin}/__admin/health (${reason}): --admin is for a beia mock at a URL; leave it out for another target`,
      { cause: error },
    );
  }
  const { licenseId } = target.credentials;
  try {
    await admin.license(licenseId);
  } catch (error) {
    if (error instanceof MockAdminError && error.status === 401)
      throw new NotRunError(`the mock's admin API refused the admin token (401): give the token the mock printed in --admin-token or BEIA_MOCK_ADMIN_TOKEN`, {
        cause: error,
      });
    if (error instanceof MockAdminError && error.status === 404)
      throw new NotRunError(
        `the mock has no license "${licenseId}" (its admin API answered 404): correct --license-id or BEIA_LICENSE_ID (GET ${origin}/__admin/licenses lists the mock's licenses)`,
        { cause: error },
      );
    throw new NotRunError(oneLine(`the mock's admin API failed: ${(error as Error).message}`), { cause: error });
  }
}

/**
 * A 401 or 403 to a request that carried the caller's own credentials where the plan expected
 * them to be accepted: the caller's mistake, in one line with the fix.
 */
export function credentialsRefused(status: number, which: 'run' | 'zero-credit-license', licenseId: string): string {
  if (which === 'zero-credit-license')
    return `the target refused the zero-credit license "${licenseId}" (${status} to a request it should have answered 402): correct --zero-credit-license ID:KEY, or leave it out`;
  if (status === 401)
    return `the target refused license "${licenseId}" and its API key (401 to a request it should have accepted): correct the key or the license id (BEIA_API_KEY and BEIA_LICENSE_ID, or --api-key and --license-id)`;
  return `the target refused license "${licenseId}" from this machine (403 to a request it should have accepted): run from an address on the license's allowlist (D8), or correct the license id (BEIA_LICENSE_ID or --license-id)`;
}
