import { writeFileAtomic } from '../../shared/index.js';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type Forge from 'node-forge';

/** node-forge, loaded by the first {@link localCertificate}: a mock without `--https` never loads it. */
let forge: typeof Forge;

/** A server's key and certificate in PEM, and the CA that signed it (to trust), where one was made. */
export interface TlsFiles {
  key: string;
  cert: string;
  /** The CA's certificate file, for clients to trust; absent for a certificate the user gave. */
  caFile?: string;
}

const CA_DAYS = 3650;
const SERVER_DAYS = 825; // what browsers and Apple's TLS accept at most for a server certificate

/**
 * A small CA of the mock's own and a server certificate signed by it, kept in `dir` and reused on
 * later starts, so what a client trusts once (the CA file) stays trusted across restarts. The
 * server certificate is made again when it no longer names every one of `names` or is about to
 * expire; the CA only when it is missing. Keys are written readable by their owner only.
 *
 * @example
 * ```ts
 * const tls = await localCertificate('/home/me/.local/state/beia-kit/tls', ['localhost', '127.0.0.1', '::1']);
 * startMockServer({ tls });
 * // trust tls.caFile: NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE, curl --cacert
 * ```
 */
export async function localCertificate(dir: string, names: readonly string[]): Promise<TlsFiles & { caFile: string; made: 'ca' | 'server' | 'none' }> {
  forge ??= (await import('node-forge')).default;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca-key.pem');
  const certFile = join(dir, 'server.pem');
  const keyFile = join(dir, 'server-key.pem');

  let made: 'ca' | 'server' | 'none' = 'none';
  let ca = await readPair(caFile, caKeyFile);
  if (!ca) {
    ca = makeCa();
    await writeFileAtomic(caKeyFile, ca.key, { mode: 0o600 });
    await writeFileAtomic(caFile, ca.cert, { mode: 0o644 });
    made = 'ca';
  }
  let server = await readPair(certFile, keyFile);
  if (!server || made === 'ca' || !covers(server.cert, ca.cert, names)) {
    server = makeServer(ca, names);
    await writeFileAtomic(keyFile, server.key, { mode: 0o600 });
    await writeFileAtomic(certFile, server.cert, { mode: 0o644 });
    if (made === 'none') made = 'server';
  }
  return { key: server.key, cert: server.cert, caFile, made };
}

/** The names a certificate for a mock listening on `host` must carry: loopback, this machine, and the host itself. */
export function certificateNames(host: string): string[] {
  const names = ['localhost', '127.0.0.1', '::1', hostname().toLowerCase()];
  if (host !== '0.0.0.0' && host !== '::' && !names.includes(host.toLowerCase())) names.push(host.toLowerCase());
  return names;
}

async function readPair(certFile: string, keyFile: string): Promise<{ cert: string; key: string } | undefined> {
  try {
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    new X509Certificate(cert); // refuses a file that is not a certificate
    return { cert, key };
  } catch {
    return undefined;
  }
}

/** True when `cert` was signed by `caCert`, names each of `names`, and has a month left at least. */
function covers(cert: string, caCert: string, names: readonly string[]): boolean {
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.checkIssued(new X509Certificate(caCert))) return false;
    if (Date.parse(x509.validTo) - Date.now() < 30 * 86_400_000) return false;
    return names.every((name) => (isIP(name) ? x509.checkIP(name) !== undefined : x509.checkHost(name) !== undefined));
  } catch {
    return false;
  }
}

function keyPair(): { privateKey: Forge.pki.rsa.PrivateKey; publicKey: Forge.pki.rsa.PublicKey; pem: string } {
  // Node's own RSA key generation (fast, native); node-forge only writes the certificate.
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey);
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem: privateKey };
}

function certificate(publicKey: Forge.pki.PublicKey, days: number): Forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial of 16 random bytes (the top bit cleared: DER integers are signed).
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  return cert;
}

function makeCa(): { cert: string; key: string } {
  const keys = keyPair();
  const cert = certificate(keys.publicKey, CA_DAYS);
  const subject = [
    { name: 'commonName', value: `beia mock local CA (${hostname()})` },
    { name: 'organizationName', value: 'beia-kit, for tests only' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem };
}

function makeServer(ca: { cert: string; key: string }, names: readonly string[]): { cert: string; key: string } {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const keys = keyPair();
  const cert = certificate(keys.publicKey, SERVER_DAYS);
  cert.setSubject([{ name: 'commonName', value: names[0] ?? 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name })) },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.pem };
}
