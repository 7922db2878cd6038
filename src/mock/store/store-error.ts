/**
 * The store could not read or record state (a file it cannot write, Redis out of reach). The
 * mock answers such a request with a 500 that says so, and spends nothing it could not record.
 */
export class StoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreError';
  }
}
