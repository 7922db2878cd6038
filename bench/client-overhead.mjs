// Prints the reference client's overhead against a bare undici.request of the same upload, as a
// ratio measured in one run. Not a test: timings are printed, never asserted.
//
//   npm run build && node bench/client-overhead.mjs [iterations] [uploadKiB]
//
// The server is a bare node:http server on 127.0.0.1 that reads the whole upload and answers a
// fixed PNG with Credits-Remaining, so the numbers are the client's own cost, not image processing.
import { createServer } from 'node:http';
import { request } from 'undici';
import { BeiaClient } from '../dist/client/index.js';

const iterations = Math.min(Number(process.argv[2] ?? 300), 5000);
const uploadKiB = Math.min(Number(process.argv[3] ?? 512), 64 * 1024);
const png = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);
const image = Buffer.alloc(uploadKiB * 1024, 0xab);
image[0] = 0xff;
image[1] = 0xd8;
image[2] = 0xff;

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, 'credits-remaining': '100' });
    res.end(png);
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${server.address().port}/beia-api/v1/image`;

// The same multipart/form-data body the client sends, built once for the bare request.
const boundary = '----bench-boundary';
const head = Buffer.from(
  `--${boundary}\r\nContent-Disposition: form-data; name="licenseId"\r\n\r\n1234\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="apiKey"\r\n\r\n5678\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: application/octet-stream\r\n\r\n`,
);
const body = Buffer.concat([head, image, Buffer.from(`\r\n--${boundary}--\r\n`)]);

async function bare() {
  const res = await request(endpoint, {
    method: 'POST',
    headers: { 'license-id': '1234', 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length) },
    body,
  });
  await res.body.arrayBuffer();
}
const client = new BeiaClient({ endpoint, licenseId: '1234', apiKey: '5678', retries: 0, maxConcurrent: 1 });
const viaClient = () => client.process(image, { filename: 'a.jpg' });

const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
const times = { bare: [], client: [] };
for (let i = 0; i < 30; i++) {
  await bare();
  await viaClient();
} // warm-up
for (let i = 0; i < iterations; i++) {
  // Interleaved, so drift in the machine's load hits both alike.
  for (const [name, run] of i % 2
    ? [
        ['bare', bare],
        ['client', viaClient],
      ]
    : [
        ['client', viaClient],
        ['bare', bare],
      ]) {
    const started = process.hrtime.bigint();
    await run();
    times[name].push(Number(process.hrtime.bigint() - started) / 1e6);
  }
}
server.close();
const bareMs = median(times.bare);
const clientMs = median(times.client);
console.log(`upload ${uploadKiB} KiB, ${iterations} requests each, sequential, loopback`);
console.log(`bare undici.request  median ${bareMs.toFixed(3)} ms`);
console.log(`BeiaClient.process   median ${clientMs.toFixed(3)} ms`);
console.log(`overhead ratio (client / bare): ${(clientMs / bareMs).toFixed(2)}`);
