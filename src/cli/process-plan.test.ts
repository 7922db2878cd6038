import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Manifest } from './process-plan.js';

describe('the manifest of beia process', () => {
  it('keeps only entries of the shape it writes, checked at run time, from a file edited by hand', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'beia-manifest-'));
    const sha = 'a'.repeat(64);
    await writeFile(
      join(dir, '.beia-process.json'),
      JSON.stringify({
        version: 1,
        outputs: {
          [resolve(dir, 'good.png')]: { input: '/in/good.jpg', sha256: sha },
          [resolve(dir, 'no-sha.png')]: { input: '/in/x.jpg' },
          [resolve(dir, 'bad-sha.png')]: { input: '/in/y.jpg', sha256: 'not hex' },
          [resolve(dir, 'number.png')]: { input: 7, sha256: sha },
          [resolve(dir, 'null.png')]: null,
        },
      }),
    );
    const manifest = await Manifest.load(dir);
    expect(manifest.get(join(dir, 'good.png'))).toEqual({ input: '/in/good.jpg', sha256: sha });
    for (const name of ['no-sha.png', 'bad-sha.png', 'number.png', 'null.png']) expect(manifest.get(join(dir, name)), name).toBeUndefined();
  });

  it('starts empty from a file that is not JSON, or whose outputs are not an object', async () => {
    for (const text of ['{not json', '[]', '{"outputs":[1,2]}', 'null']) {
      const dir = await mkdtemp(join(tmpdir(), 'beia-manifest-'));
      await writeFile(join(dir, '.beia-process.json'), text);
      expect((await Manifest.load(dir)).get(join(dir, 'any.png')), text).toBeUndefined();
    }
  });
});
