import { describe, expect, it } from 'vitest';
import { CHECK_NAMES, DEFAULT_CONFIG } from '../mock/index.js';
import { applyProfile, compareObservations, orderWith } from './observations.js';

describe('orderWith', () => {
  it('moves only what an observation puts earlier, just before the check it beat', () => {
    expect(orderWith([...CHECK_NAMES], [['image', 'auth']])).toEqual([
      'ip-allowlist',
      'content-type',
      'form',
      'license-header',
      'image',
      'auth',
      'credits',
      'slot',
    ]);
  });

  it('keeps slot with credits, since the slot check also refuses a license without credits', () => {
    expect(orderWith([...CHECK_NAMES], [['credits', 'auth']])).toEqual([
      'ip-allowlist',
      'content-type',
      'form',
      'license-header',
      'credits',
      'slot',
      'auth',
      'image',
    ]);
    expect(
      orderWith(
        [...CHECK_NAMES],
        [
          ['image', 'auth'],
          ['auth', 'credits'],
        ],
      ).indexOf('slot'),
    ).toBeGreaterThan(
      orderWith(
        [...CHECK_NAMES],
        [
          ['image', 'auth'],
          ['auth', 'credits'],
        ],
      ).indexOf('auth'),
    );
  });

  it('stops on contradicting observations instead of looping', () => {
    expect(
      orderWith(
        [...CHECK_NAMES],
        [
          ['image', 'auth'],
          ['auth', 'image'],
        ],
      ),
    ).toHaveLength(CHECK_NAMES.length);
  });
});

describe('applyProfile', () => {
  it('maps each observation to its setting and leaves the rest alone', () => {
    const config = applyProfile(DEFAULT_CONFIG, {
      errorBody: 'text',
      parts: { names: [null, null, null], contentIds: ['result', 'cropped', 'credits'], creditsFormat: 'json' },
      'creditsRemaining.onErrors': { 400: false, 401: false, 415: false },
      'licenseHeader.missing': 200,
      'booleans.maybe': 'false',
      latencyMs: 850,
      'concurrency.burst': { succeeded: 3, refused429: 1 },
      'order.auth-vs-image': 415,
    });
    expect(config.rules).toMatchObject({
      errorBody: 'text',
      partLabels: 'content-id',
      creditsPartFormat: 'json',
      // Not on 415; the statuses not seen (402, 429, 500, and 400 once the license is known) keep the header.
      creditsRemainingOnErrors: [400, 402, 429, 500],
      requireLicenseHeader: false,
      strictBooleans: false,
      lenientBooleans: false,
    });
    expect(config.processing.delayMs).toBe(850);
    expect(config.licenses[0]!.maxConcurrent).toBe(3);
    expect(config.rules.checkOrder.indexOf('image')).toBeLessThan(config.rules.checkOrder.indexOf('auth'));
    expect(config.limits).toEqual(DEFAULT_CONFIG.limits);
  });

  it('sets Credits-Remaining per status as seen, "maybe" read as true, and a 403 for an unknown license', () => {
    const seen = (observations: Record<string, unknown>) => applyProfile(DEFAULT_CONFIG, observations).rules;
    expect(
      seen({ 'creditsRemaining.onErrors': { 415: false }, 'creditsRemaining.on402': true, 'creditsRemaining.on429': false }).creditsRemainingOnErrors,
    ).toEqual([400, 402, 500]);
    const none = {
      'creditsRemaining.onErrors': { 415: false },
      'creditsRemaining.on402': false,
      'creditsRemaining.on429': false,
      'creditsRemaining.on500': false,
    };
    expect(applyProfile({ ...DEFAULT_CONFIG, rules: { ...DEFAULT_CONFIG.rules, creditsRemainingOnErrors: false } }, none).rules.creditsRemainingOnErrors).toBe(
      false,
    );
    expect(seen({ 'creditsRemaining.onErrors': { 415: true }, 'creditsRemaining.on402': true }).creditsRemainingOnErrors).toBe(true);
    expect(seen({ 'booleans.maybe': 'true' })).toMatchObject({ strictBooleans: false, lenientBooleans: true });
    expect(seen({ 'booleans.maybe': 400 })).toMatchObject({ strictBooleans: true });
    expect(seen({ 'license.unknown': 403 }).unknownLicenseStatus).toBe(403);
    expect(seen({}).unknownLicenseStatus).toBe(401);
  });
});

describe('compareObservations', () => {
  it('reports changed, added and removed keys as behaviour, and timings apart, only when they double', () => {
    expect(compareObservations({ a: 1, latencyMs: 100, gone: true }, { a: 2, latencyMs: 180, added: 'x' })).toEqual([
      { key: 'a', before: 1, after: 2, kind: 'behaviour' },
      // Observed in one record only: a case skipped in one run, or new in this version; not behaviour.
      { key: 'added', before: undefined, after: 'x', kind: 'coverage' },
      { key: 'gone', before: true, after: undefined, kind: 'coverage' },
    ]);
    expect(compareObservations({ latencyMs: 100 }, { latencyMs: 400 })).toEqual([{ key: 'latencyMs', before: 100, after: 400, kind: 'timing' }]);
  });

  it('names the one field that changed inside an observation, and the case that observed it', () => {
    const before = { 'creditsRemaining.onErrors': { 400: false, 401: false, 415: true }, errorBody: 'json-envelope' };
    const after = { 'creditsRemaining.onErrors': { 400: false, 401: false, 415: false }, errorBody: 'json-envelope' };
    expect(compareObservations(before, after, { after: { 'creditsRemaining.onErrors': 'M3-credits-on-errors' } })).toEqual([
      { key: 'creditsRemaining.onErrors.415', before: true, after: false, kind: 'behaviour', case: 'M3-credits-on-errors' },
    ]);
  });

  it('sees no drift in the same counts of parallel answers', () => {
    const burst = (statuses: Record<string, number>) => ({ 'concurrency.burst': { parallel: 4, succeeded: 2, refused429: 2, statuses } });
    expect(compareObservations(burst({ 200: 2, 429: 2 }), burst({ 200: 2, 429: 2 }))).toEqual([]);
    expect(compareObservations(burst({ 200: 2, 429: 2 }), burst({ 200: 3, 429: 1 }))).toHaveLength(2);
    // A record of an older beia-kit listed them in arrival order.
    const listed = { 'concurrency.burst': { parallel: 4, succeeded: 2, refused429: 2, statuses: [429, 200, 429, 200] } };
    expect(compareObservations(listed, burst({ 200: 2, 429: 2 }))).toEqual([]);
  });
});
