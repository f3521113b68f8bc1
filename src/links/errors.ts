// Errors of the meter links: each says what went wrong and what to do about it.

export type LinkErrorCode =
  | 'bad-url' // the meter URL is not one this program understands
  | 'device-not-found' // no such serial device
  | 'permission-denied' // the device exists but this user may not open it
  | 'device-busy' // another program holds the device
  | 'not-a-serial-device' // the path is a file or device that is no serial port
  | 'connection-refused' // nothing listens on the TCP bridge's port
  | 'host-not-found' // the bridge's host name does not resolve
  | 'connect-timeout' // the bridge did not accept the connection in time
  | 'host-unreachable' // no route to the bridge's host
  | 'closed' // the link was closed (unplugged head, bridge dropped the connection)
  | 'tool-missing' // an external program the link needs is not installed
  | 'io'; // any other operating-system error

export class LinkError extends Error {
  override readonly name = 'LinkError';
  readonly code: LinkErrorCode;

  constructor(code: LinkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /**
   * Worth another attempt within the same exchange: a dropped connection or a slow connect.
   * A missing device, a refused connection or a typo is reported at once; the daemon tries
   * again at its next scheduled read.
   */
  get retryable(): boolean {
    return this.code === 'closed' || this.code === 'connect-timeout';
  }
}

export function errnoOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}
