import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { Dispatcher } from 'undici';
import { redactUrl } from '../shared/index.js';
import { undici } from './undici.js';

/** How requests reach the API: where CI runners really are (an egress proxy, a TLS-inspecting CA, a registered address). */
export interface NetworkOptions {
  /**
   * A forward proxy: one URL for every request (`http://user:pass@proxy:3128`), or per scheme with
   * exclusions, as curl reads `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (see {@link proxyFromEnvironment}).
   * HTTPS goes through it with CONNECT, so the proxy sees the host, never the request.
   */
  proxy?: string | ProxyChoice;
  /** More CA certificates (PEM) to trust besides the system's: a TLS-inspecting proxy's, or `beia mock --https`'s. */
  ca?: string | Buffer;
  /** The local address requests leave from: the registered static IP of a runner that has several. */
  sourceAddress?: string;
}

/** A proxy per scheme, with hosts that bypass it (`NO_PROXY` syntax: `localhost,.internal,10.0.0.0/8`... as undici reads it). */
export interface ProxyChoice {
  http?: string;
  https?: string;
  noProxy?: string;
}

/**
 * The dispatcher for {@link NetworkOptions}, or undefined when none is asked for (undici's own
 * default then). The extra CA is added to the system's, never in place of them.
 *
 * @example
 * ```ts
 * const dispatcher = networkDispatcher({ proxy: 'http://proxy.corp:3128', ca: readFileSync('corp-ca.pem'), sourceAddress: '203.0.113.7' });
 * new BeiaClient({ licenseId, apiKey, dispatcher });
 * ```
 */
export function networkDispatcher(options: NetworkOptions): Dispatcher | undefined {
  const { proxy, ca, sourceAddress } = options;
  if (proxy === undefined && ca === undefined && sourceAddress === undefined) return undefined;
  if (sourceAddress !== undefined && isIP(sourceAddress) === 0) {
    throw new TypeError(`sourceAddress is "${sourceAddress}"; expected an IP address of this machine (the registered static IP), e.g. 203.0.113.7.`);
  }
  const tls = ca === undefined ? {} : { ca: [...rootCertificates, ca.toString()] };
  const local = sourceAddress === undefined ? {} : { localAddress: sourceAddress };
  // To the target directly: localAddress is the Agent's own option; the CA goes to the TLS connect.
  const direct = { ...local, connect: { ...tls } };
  // Through a proxy: the connection to the proxy leaves from the source address; the TLS inside the tunnel trusts the CA.
  const proxied = { proxyTls: { ...tls, ...local }, requestTls: { ...tls } };
  const { Agent, EnvHttpProxyAgent, ProxyAgent } = undici();
  if (proxy === undefined) return new Agent(direct);
  if (typeof proxy === 'string') return new ProxyAgent({ uri: checkedProxy(proxy), ...proxied });
  // Empty strings, not undefined: undici would read the process's environment otherwise, and a library never does.
  return new EnvHttpProxyAgent({
    ...direct,
    ...proxied,
    httpProxy: proxy.http === undefined ? '' : checkedProxy(proxy.http),
    httpsProxy: proxy.https === undefined ? '' : checkedProxy(proxy.https),
    noProxy: proxy.noProxy ?? '',
  });
}

/**
 * The proxy settings of an environment, as curl reads them: `HTTPS_PROXY`/`https_proxy`,
 * `HTTP_PROXY`/`http_proxy`, `NO_PROXY`/`no_proxy` (lower case first); undefined when none is set.
 *
 * @example
 * ```ts
 * proxyFromEnvironment({ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'localhost' }); // { https: 'http://proxy:3128', noProxy: 'localhost' }
 * ```
 */
export function proxyFromEnvironment(env: Record<string, string | undefined>): ProxyChoice | undefined {
  const read = (name: string) => {
    const value = env[name.toLowerCase()] ?? env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const choice: ProxyChoice = {};
  const https = read('HTTPS_PROXY');
  const http = read('HTTP_PROXY');
  const noProxy = read('NO_PROXY');
  if (https !== undefined) choice.https = https;
  if (http !== undefined) choice.http = http;
  if (choice.http === undefined && choice.https === undefined) return undefined;
  if (noProxy !== undefined) choice.noProxy = noProxy;
  return choice;
}

/** Where requests to `target` go, for a console or a report: the proxy without its credentials, or `direct`. */
export function describeRoute(target: string, proxy: string | ProxyChoice | undefined): string {
  if (proxy === undefined) return 'direct';
  if (typeof proxy === 'string') return `through the proxy ${redactUrl(proxy)}`;
  const url = new URL(target);
  const chosen = url.protocol === 'https:' ? (proxy.https ?? proxy.http) : proxy.http;
  if (chosen === undefined || bypasses(url, proxy.noProxy ?? '')) return 'direct';
  return `through the proxy ${redactUrl(chosen)}`;
}

/** NO_PROXY as curl reads it, for what is reported: `*`, host names and their subdomains (`.example.com` or `example.com`), with an optional port. */
function bypasses(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[,\s]+/)
    .filter(Boolean)
    .some((entry) => {
      if (entry === '*') return true;
      const [name = '', entryPort] = entry
        .toLowerCase()
        .replace(/^\*?\./, '')
        .split(/:(?=\d+$)/);
      return (host === name || host.endsWith(`.${name}`)) && (entryPort === undefined || entryPort === port);
    });
}

function checkedProxy(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new TypeError(`The proxy "${redactUrl(uri)}" is not a URL; expected http://[user:password@]host:port (or https://...).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`The proxy ${redactUrl(uri)} is ${url.protocol.slice(0, -1)}; expected an http:// or https:// forward proxy (SOCKS is not supported).`);
  }
  return uri;
}
