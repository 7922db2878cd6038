import { describe, expect, it } from 'vitest';
import { inProcessMock } from './helpers/app.js';
import { jpeg } from './helpers/images.js';

describe('verify reads includeCroppedImage as the image route read it', () => {
  it('with lenient booleans, "yes" asked for the cropped image (lenientBooleans: true), and verify counts it so', async () => {
    const mock = inProcessMock({ rules: { strictBooleans: false, lenientBooleans: true } });
    const res = await mock.postImage({ image: await jpeg(64, 48), includeCroppedImage: 'yes' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^multipart\/mixed/);
    const verify = async (includeCroppedImage: boolean) =>
      (await (
        await mock.app.request('/__admin/verify', { method: 'POST', body: JSON.stringify({ pattern: { includeCroppedImage }, count: { exactly: 1 } }) })
      ).json()) as {
        ok: boolean;
      };
    expect((await verify(true)).ok).toBe(true);
    expect((await verify(false)).ok).toBe(false);
  });
});
