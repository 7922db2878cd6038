import { describe, expect, it } from 'vitest';
import { ImageGallery } from './gallery.js';

const sha = (n: number) => n.toString(16).padStart(64, '0');

describe('the gallery kept from the dashboard’s first read (keepFrom: opened)', () => {
  it('keeps nothing until has, stats or view is called, then keeps as before', async () => {
    for (const open of [(g: ImageGallery) => g.stats(), (g: ImageGallery) => g.has(sha(9)), (g: ImageGallery) => g.view(sha(9), 'upload', 'thumb')]) {
      const gallery = new ImageGallery({ entries: 5, maxBytes: 1_000_000, maxInputPixels: 1_000_000, keepFrom: 'opened' });
      gallery.keep(sha(1), { upload: Buffer.alloc(100) });
      expect(gallery.active).toBe(false);
      await open(gallery);
      expect(gallery.active).toBe(true);
      expect(gallery.has(sha(1))).toEqual([]);
      gallery.keep(sha(2), { upload: Buffer.alloc(100) });
      expect(gallery.has(sha(2))).toEqual(['upload']);
    }
  });

  it('keeps from the start by default', () => {
    const gallery = new ImageGallery({ entries: 5, maxBytes: 1_000_000, maxInputPixels: 1_000_000 });
    gallery.keep(sha(1), { upload: Buffer.alloc(100) });
    expect(gallery.has(sha(1))).toEqual(['upload']);
  });
});

describe('dashboard.keepImagesFrom', () => {
  it('"opened": a mock keeps no image until the dashboard first reads its state', async () => {
    const { createMockApp } = await import('../app.js');
    const { validateConfig } = await import('../config/index.js');
    const { jpeg } = await import('../../../test/helpers/images.js');
    const { app } = createMockApp({ config: validateConfig({ dashboard: { keepImagesFrom: 'opened' } }) });
    const post = async () => {
      const form = new FormData();
      form.set('licenseId', '1234');
      form.set('apiKey', '5678');
      form.set('image', new Blob([new Uint8Array(await jpeg(40, 30))]), 'photo.jpg');
      expect((await app.request('/beia-api/v1/image', { method: 'POST', body: form, headers: { 'License-Id': '1234' } })).status).toBe(200);
    };
    const kept = async () => ((await (await app.request('/__admin/ui/state')).json()) as { gallery?: { entries: number } }).gallery?.entries;
    await post();
    expect(await kept()).toBe(0);
    await post();
    expect(await kept()).toBe(1);
  });
});
