// The benchmark's reference servers, each in a process of its own: node:http + busboy, no framework.
//
//   node bench/servers/reference.mjs baseline <canned.png>   checks the three fields, answers the canned PNG
//   node bench/servers/reference.mjs floor                   also decodes the upload in full with sharp and
//                                                            encodes a same-size PNG at compressionLevel 1
//                                                            (with includeCroppedImage=true, the central
//                                                            half as well, from the same decoded pixels)
//
// The baseline is the physical limit for this request on this machine; the floor is the least
// work an image never seen before can cost. Prints "listening <port>" once ready.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import busboy from 'busboy';
import sharp from 'sharp';

const [mode, cannedPath] = process.argv.slice(2);
if (mode !== 'baseline' && mode !== 'floor') {
  console.error('usage: reference.mjs baseline <canned.png> | floor');
  process.exit(2);
}
const canned = mode === 'baseline' ? readFileSync(cannedPath) : undefined;

function fail(res, status, message) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ error: message }));
}

async function answer(fields, image, res) {
  if (canned) {
    res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': canned.length });
    res.end(canned);
    return;
  }
  const { data, info } = await sharp(image, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  const result = await sharp(data, raw).png({ compressionLevel: 1 }).toBuffer();
  let body = result;
  if (fields.get('includeCroppedImage') === 'true') {
    const width = Math.max(1, info.width >> 1);
    const height = Math.max(1, info.height >> 1);
    const cropped = await sharp(data, raw)
      .extract({ left: (info.width - width) >> 1, top: (info.height - height) >> 1, width, height })
      .png({ compressionLevel: 1 })
      .toBuffer();
    body = Buffer.concat([result, cropped]);
  }
  res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': body.length });
  res.end(body);
}

const server = createServer((req, res) => {
  if (req.method !== 'POST') return fail(res, 404, 'not found');
  let parser;
  try {
    parser = busboy({ headers: req.headers, limits: { fileSize: 20 * 1024 * 1024 + 1 } });
  } catch {
    return fail(res, 400, 'not multipart');
  }
  const fields = new Map();
  let image;
  parser.on('field', (name, value) => fields.set(name, value));
  parser.on('file', (name, stream) => {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
      if (name === 'image') image = Buffer.concat(chunks);
    });
  });
  parser.on('error', () => fail(res, 400, 'malformed'));
  parser.on('close', () => {
    if (!fields.get('licenseId') || !fields.get('apiKey') || !image) return fail(res, 400, 'missing field');
    answer(fields, image, res).catch(() => fail(res, 415, 'not an image'));
  });
  req.pipe(parser);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
