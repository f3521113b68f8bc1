// A failed connection to an HTTP(S) sink, in plain words: https:// to a port that speaks plain
// HTTP, a certificate this machine does not trust, or a server that cannot be reached. Shared by
// the InfluxDB and Domoticz sinks, which name their own settings in the fix.

export type ConnectionFailureKind =
  | 'unreachable' // refused, reset, unknown host …
  | 'plain-http' // https:// to a port that speaks plain HTTP
  | 'untrusted-certificate'; // self-signed, unknown CA, expired, wrong name

export interface ConnectionFailure {
  readonly kind: ConnectionFailureKind;
  readonly message: string;
}

export interface ConnectionTarget {
  /** http(s)://host:port[/prefix], without credentials. */
  readonly url: string;
  /** "InfluxDB", "Domoticz". */
  readonly server: string;
  /** Where its settings live: "sinks.influxdb". */
  readonly settings: string;
}

/** OpenSSL's and Node's codes for a certificate this process does not trust. */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

export function connectionFailure(error: Error, target: ConnectionTarget): ConnectionFailure {
  const { url, settings } = target;
  const https = new URL(url).protocol === 'https:';
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (https && (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO' || /wrong version number|packet length too long|http request/i.test(error.message))) {
    return { kind: 'plain-http', message: `${url} speaks plain HTTP, not HTTPS: use ${url.replace(/^https:/, 'http:')} in ${settings}.url` };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { kind: 'untrusted-certificate', message: `the certificate of ${url} is not issued for ${new URL(url).hostname} (${code}): use a name the certificate lists in ${settings}.url` };
  }
  if (code !== undefined && UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    const what =
      code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
        ? 'is expired or not valid yet'
        : code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN'
          ? 'is self-signed, so not trusted here'
          : 'is signed by a CA this machine does not trust';
    return {
      kind: 'untrusted-certificate',
      message: `the certificate of ${url} ${what} (${code}): give the server's CA certificate (PEM) as ${settings}.ca_file, or set NODE_EXTRA_CA_CERTS=/path/to/ca.pem for the logger`,
    };
  }
  return { kind: 'unreachable', message: `cannot reach ${target.server} at ${url} (${code ?? error.message}): check the url and that the server runs` };
}
