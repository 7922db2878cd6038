import { PassThrough } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { jsonLogger, type RequestLogLine } from './logger.js';

const line = (status: number): RequestLogLine => ({ time: 't', level: 'info', msg: 'request', method: 'POST', path: '/p', status, durationMs: 1 });

describe('jsonLogger', () => {
  it('writes the lines of one turn of the event loop in one write, each a JSON line', async () => {
    const stream = new PassThrough();
    const writes: string[] = [];
    stream.on('data', (chunk: Buffer) => writes.push(chunk.toString()));
    const log = jsonLogger(stream);
    log(line(200));
    log(line(402));
    log(line(415));
    expect(writes).toEqual([]);
    await nextTurn();
    await nextTurn();
    expect(writes).toHaveLength(1);
    expect(
      writes[0]!
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as RequestLogLine).status),
    ).toEqual([200, 402, 415]);
    log(line(201));
    await nextTurn();
    await nextTurn();
    expect(writes).toHaveLength(2);
  });

  it('writes at once when a turn has logged 64 KiB', () => {
    const stream = new PassThrough();
    let written = 0;
    stream.on('data', (chunk: Buffer) => (written += chunk.length));
    const log = jsonLogger(stream);
    for (let i = 0; i < 1000; i++) log({ ...line(200), path: `/${'x'.repeat(100)}` });
    expect(written).toBeGreaterThanOrEqual(64 * 1024);
  });
});
