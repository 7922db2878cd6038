import { readFile } from 'node:fs/promises';
import { proxyFromEnvironment, type NetworkOptions, type ProxyChoice } from '../client/index.js';

/** `--proxy`, `--source-address` and `--ca-file` as read from flags and the environment, before any file is read. */
export interface CliNetwork {
  proxy?: string | ProxyChoice;
  sourceAddress?: string;
  caFile?: string;
}

/**
 * The network flags every command that calls the API takes, and their environment: `--proxy URL`
 * (else `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` as curl reads them), `--source-address IP`
 * (`BEIA_SOURCE_ADDRESS`), `--ca-file FILE` (`BEIA_CA_FILE`). Flags win.
 */
export function readNetwork(
  values: { proxy?: string | undefined; 'source-address'?: string | undefined; 'ca-file'?: string | undefined },
  env: NodeJS.ProcessEnv,
): CliNetwork {
  const network: CliNetwork = {};
  const proxy = values.proxy ?? proxyFromEnvironment(env);
  if (proxy !== undefined) network.proxy = proxy;
  const sourceAddress = values['source-address'] ?? (env.BEIA_SOURCE_ADDRESS || undefined);
  if (sourceAddress !== undefined) network.sourceAddress = sourceAddress;
  const caFile = values['ca-file'] ?? (env.BEIA_CA_FILE || undefined);
  if (caFile !== undefined) network.caFile = caFile;
  return network;
}

/** The client's network options, the CA file read; a file that cannot be read is an error that names it. */
export async function networkOptions(network: CliNetwork): Promise<Pick<NetworkOptions, 'proxy' | 'ca' | 'sourceAddress'>> {
  const options: Pick<NetworkOptions, 'proxy' | 'ca' | 'sourceAddress'> = {};
  if (network.proxy !== undefined) options.proxy = network.proxy;
  if (network.sourceAddress !== undefined) options.sourceAddress = network.sourceAddress;
  if (network.caFile !== undefined) {
    const file = network.caFile;
    options.ca = await readFile(file, 'utf8').catch((error: unknown) => {
      throw new Error(`Failed to read the CA file ${file} (--ca-file, BEIA_CA_FILE): ${(error as Error).message}. Give a PEM file of CA certificates.`, {
        cause: error,
      });
    });
    if (!options.ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new Error(
        `The CA file ${file} (--ca-file, BEIA_CA_FILE) holds no PEM certificate ("-----BEGIN CERTIFICATE-----"). Give the CA's certificate, not its key.`,
      );
    }
  }
  return options;
}
