/** The broker's one error type: a status and a QStash-style message, sent as `{"error": message}`. */
export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new BrokerError(400, message);
export const notFound = (message: string) => new BrokerError(404, message);
