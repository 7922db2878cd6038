import { describe, expect, it } from 'vitest';
import { compareObservations } from '../../src/conformance/index.js';

// Issue 21: a field inside an observation that one record has and the other lacks is drift of
// that observation, named by its path, classified as a changed leaf of it is.
describe('compareObservations, a nested field on one side only', () => {
  it('reports a field that appears inside an observation as behaviour', () => {
    const before = { parts: { creditsFormat: 'text' } };
    const after = { parts: { creditsFormat: 'text', contentIds: ['result', 'credits'] } };
    expect(compareObservations(before, after)).toEqual([{ key: 'parts.contentIds', before: undefined, after: ['result', 'credits'], kind: 'behaviour' }]);
  });

  it('reports a field that disappears from inside an observation as behaviour, with the case', () => {
    const before = { 'creditsRemaining.onErrors': { 401: false, 415: true } };
    const after = { 'creditsRemaining.onErrors': { 401: false } };
    expect(compareObservations(before, after, { before: { 'creditsRemaining.onErrors': 'M3-credits-on-errors' } })).toEqual([
      { key: 'creditsRemaining.onErrors.415', before: true, after: undefined, kind: 'behaviour', case: 'M3-credits-on-errors' },
    ]);
  });

  it('reports each leaf of a nested object that appears or disappears, two levels down', () => {
    const before = { answer: { headers: { 'credits-remaining': '3' } } };
    const after = { answer: { headers: { 'credits-remaining': '3' }, body: { code: 'no_credits', retry: null } } };
    expect(compareObservations(before, after).map((d) => [d.key, d.kind])).toEqual([
      ['answer.body.code', 'behaviour'],
      ['answer.body.retry', 'behaviour'],
    ]);
    expect(compareObservations(after, before).map((d) => [d.key, d.before, d.after])).toEqual([
      ['answer.body.code', 'no_credits', undefined],
      ['answer.body.retry', null, undefined],
    ]);
  });

  it('keeps a null that becomes absent apart from no change', () => {
    expect(compareObservations({ o: { retryAfter: null } }, { o: {} })).toEqual([{ key: 'o.retryAfter', before: null, after: undefined, kind: 'behaviour' }]);
  });

  it('classifies a nested field of a raced burst that appears as the leaves are classified: counts as timing', () => {
    const raced = { parallel: 4, succeeded: 4, refused429: 0, heldMs: null, statuses: { 200: 4 } };
    const more = { parallel: 4, succeeded: 2, refused429: 2, heldMs: null, statuses: { 200: 2, 429: 2 }, retryAfter: '1' };
    const drift = compareObservations({ 'concurrency.burst': raced }, { 'concurrency.burst': more });
    expect(drift.filter((d) => d.kind === 'behaviour')).toEqual([]);
    expect(drift.map((d) => d.key)).toContain('concurrency.burst.statuses.429');
    expect(drift.map((d) => d.key)).toContain('concurrency.burst.retryAfter');
  });

  it('classifies the leaves of a nested object that appears in a raced burst as its counts: timing, not behaviour', () => {
    const bare = { parallel: 4, succeeded: 4, refused429: 0, heldMs: null };
    const counted = { ...bare, statuses: { 200: 4 } };
    expect(compareObservations({ 'concurrency.burst': bare }, { 'concurrency.burst': counted })).toEqual([
      { key: 'concurrency.burst.statuses.200', before: undefined, after: 4, kind: 'timing' },
    ]);
  });

  it('reports an empty object that appears where it is', () => {
    expect(compareObservations({ o: { a: 1 } }, { o: { a: 1, seen: {} } })).toEqual([{ key: 'o.seen', before: undefined, after: {}, kind: 'behaviour' }]);
  });
});
