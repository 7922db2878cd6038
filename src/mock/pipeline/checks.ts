import { FIELD } from '../../contract/index.js';
import type { CheckName } from '../config/index.js';
import { ApiError } from '../http/api-error.js';
import { ipMatcher } from '../net/ip.js';
import { untilAborted } from './abort.js';
import type { RequestState } from './request-state.js';

import { secretsEqual } from '../../shared/index.js';

/** One check of the image route: resolves when it passes, throws an {@link ApiError} when not. */
export type Check = (state: RequestState) => Promise<void>;

/**
 * The checks by name (CONTRACT.md M1). They run in `rules.checkOrder`; each reads the form or
 * the license only when it needs them, so any order works and the default order decides the
 * 403 from the `License-Id` header before the body is read.
 */
export const CHECKS: Record<CheckName, Check> = {
  async 'ip-allowlist'(state) {
    const license = await state.claimedLicense();
    if (!license) {
      // An unknown license: `auth` answers 401, unless the mock plays a live API that says 403.
      if (state.config.rules.unknownLicenseStatus === 403 && state.facts.licenseHeader !== undefined) throw unknownLicense403(state.facts.licenseHeader);
      return;
    }
    if (!ipMatcher(license.allowedIps).has(state.facts.clientAddress)) {
      throw new ApiError(
        'ip_not_allowed',
        `Requests for license ${license.licenseId} are not accepted from ${state.facts.clientAddress}. Call from a static IP registered with BEIA; on the mock, add the address to the license's allowedIps (config file, or PATCH /__admin/licenses/${license.licenseId}).`,
      );
    }
  },

  async 'content-type'(state) {
    // Reading the form checks the Content-Type first; a bad one rejects before any byte is read.
    await state.form().catch((error: unknown) => {
      if (error instanceof ApiError && error.code === 'unsupported_content_type') throw error;
    });
  },

  async form(state) {
    const form = await state.form();
    const files = new Set(form.parts.filter((p) => p.kind === 'file').map((p) => p.name));
    for (const name of [FIELD.licenseId, FIELD.apiKey, FIELD.includeCroppedImage]) {
      if (files.has(name)) throw new ApiError('invalid_field', `Field "${name}" was sent as a file; send it as a plain text field.`);
    }
    for (const name of [FIELD.licenseId, FIELD.apiKey]) {
      if (!form.fields.get(name)?.trim())
        throw new ApiError('missing_field', `Field "${name}" is missing or empty. Send ${FIELD.licenseId}, ${FIELD.apiKey} and ${FIELD.image} in the form.`);
    }
    if (!form.image) {
      const asText = form.fields.has(FIELD.image);
      throw new ApiError(
        asText ? 'invalid_field' : 'missing_field',
        asText
          ? `Field "${FIELD.image}" was sent as text; send it as a file part with a filename (curl -F "image=@photo.jpg").`
          : `Field "${FIELD.image}" is missing. Send the image as a file part named "${FIELD.image}".`,
      );
    }
    if (form.image.data.length === 0) throw new ApiError('missing_field', `Field "${FIELD.image}" is an empty file. Send the image's bytes.`);
    await state.includeCroppedImage();
  },

  async 'license-header'(state) {
    const header = state.facts.licenseHeader;
    const field = (await state.form()).fields.get(FIELD.licenseId);
    if (header === undefined) {
      if (!state.config.rules.requireLicenseHeader) return;
      throw new ApiError(
        'missing_license_header',
        `The License-Id header is missing. Send License-Id: ${field ?? '<your licenseId>'} as well as the licenseId field.`,
      );
    }
    if (field !== undefined && header !== field) {
      throw new ApiError(
        'license_header_mismatch',
        `The License-Id header "${header}" differs from the licenseId field "${field}". Send the same license id in both.`,
      );
    }
  },

  async auth(state) {
    const form = await state.form();
    const licenseId = (await state.claimedLicenseId()) ?? '';
    const license = await state.license(licenseId);
    // Compare even for an unknown license, so the answer takes the same time either way.
    const keyMatches = secretsEqual(form.fields.get(FIELD.apiKey) ?? '', license?.apiKey ?? '\u0000unknown');
    if (!license && state.config.rules.unknownLicenseStatus === 403) throw unknownLicense403(licenseId);
    if (!license || !keyMatches) {
      throw new ApiError('invalid_license', `License "${licenseId}" with this apiKey is not valid. Check both values; on the mock, see GET /__admin/licenses.`);
    }
    state.authenticated = license;
  },

  async credits(state) {
    const license = await state.claimedLicense();
    if (license && license.credits <= 0) throw noCredits(license.licenseId);
  },

  async slot(state) {
    const licenseId = await state.claimedLicenseId();
    if (licenseId === undefined) return;
    const admission = await state.store.admit(licenseId, state.config.processing.maxConcurrent);
    if (admission.ok) {
      state.ticket = admission.ticket;
      state.faultsArmed = admission.faultsArmed !== false;
      return;
    }
    if (admission.reason === 'unknown-license') return; // `auth` answers 401
    if (admission.reason === 'no-credits') throw noCredits(licenseId);
    const retryAfter = String(state.config.processing.retryAfterSeconds);
    const scope = {
      'license-busy': `license ${licenseId} already has its maximum of images in processing`,
      'server-busy': 'the server is at its global limit of images in processing',
      'credits-reserved': `every credit left on license ${licenseId} is held by an image in processing, and comes back if that image fails`,
    }[admission.reason];
    throw new ApiError('too_many_requests', `Too many images in processing: ${scope}. Retry after ${retryAfter} s, or send fewer images at once.`, {
      'Retry-After': retryAfter,
    });
  },

  async image(state) {
    const form = await state.form();
    const image = form.image;
    if (!image || image.data.length === 0) return; // `form` answers 400
    // The cropped image is cut from the same decode; a value `form` refuses renders without it.
    const withCropped = await state.includeCroppedImage().catch(() => false); // a value `form` refuses: `form` answers 400
    // Only a full decode catches a truncated file, so the check is the rendering itself (or a
    // cache hit: the same bytes rendered before).
    state.rendered = await untilAborted(state.renderer.render(image, withCropped, state.facts.signal), state.facts.signal);
  },
};

function unknownLicense403(licenseId: string): ApiError {
  return new ApiError(
    'ip_not_allowed',
    `No license "${licenseId}" is authorised for this address (rules.unknownLicenseStatus: 403, as a live API was seen to answer). Check the license id; on the mock, see GET /__admin/licenses.`,
  );
}

function noCredits(licenseId: string): ApiError {
  return new ApiError(
    'no_credits',
    `License ${licenseId} has no credits left. Buy credits from BEIA; on the mock, PATCH /__admin/licenses/${licenseId} with {"credits": N}.`,
  );
}
