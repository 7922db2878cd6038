/**
 * The network flags' declarations for `parseArgs`, the same in every command that takes them
 * (`network-flags.ts` reads their values). A file of its own, without imports, so that `beia mock` can
 * declare them without loading the client before its first answer.
 */
export const NETWORK_FLAGS = {
  proxy: { type: 'string' },
  'source-address': { type: 'string' },
  'ca-file': { type: 'string' },
} as const;
