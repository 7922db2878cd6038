import { formData } from '../../src/conformance/wire.js';

export interface ImageFormFields {
  licenseId?: string;
  apiKey?: string;
  image?: Uint8Array;
  filename?: string;
  includeCroppedImage?: string;
}

/** The vendor's request as a Web FormData (for `app.request()`), each field only when given. */
export function imageForm(fields: ImageFormFields = {}): FormData {
  const { licenseId = '1234', apiKey = '5678', image, filename = '001.jpg', includeCroppedImage } = fields;
  const form = new FormData();
  if (licenseId !== '') form.append('licenseId', licenseId);
  if (apiKey !== '') form.append('apiKey', apiKey);
  if (image) form.append('image', new Blob([new Uint8Array(image)], { type: 'application/octet-stream' }), filename);
  if (includeCroppedImage !== undefined) form.append('includeCroppedImage', includeCroppedImage);
  return form;
}

export type RawPart = { name: string; value: string } | { name: string; filename: string; contentType?: string; data: Uint8Array };

/** A multipart/form-data body built by hand, for what FormData cannot express or to cut it short. */
export function rawForm(parts: RawPart[], boundary = 'test-boundary-7d1f'): { body: Buffer; contentType: string } {
  const body = formData(
    parts.map((part) => ('value' in part ? part : { ...part, contentType: part.contentType ?? 'application/octet-stream' })),
    boundary,
  );
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
