import { X509Certificate, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { ErrorCode, KrakenError } from '@kraken/common';

/** Where a leader's API answers. */
export interface TlsAddress {
  host: string;
  port: number;
}

/**
 * The cluster CA as the server at `address` presents it, once it is the one `caDigest` names (a
 * join token's): the trust anchor for every later connection to the cluster. Nothing is sent but
 * the TLS handshake, so a machine posing as the leader learns no token. Refuses (Unauthorized) a
 * server whose chain has no CA of that digest, or whose certificate that CA did not issue.
 * Without a digest (a bare token), the self-signed CA at the end of the chain is taken on first use.
 */
export async function trustedCaAt(address: TlsAddress, caDigest: string | undefined, timeoutMs = 10_000): Promise<string> {
  const where = `${address.host}:${String(address.port)}`;
  const chain = await presentedChain(address, timeoutMs);
  const ca = chain.find((cert) => (caDigest === undefined ? cert.ca && cert.checkIssued(cert) : createHash('sha256').update(cert.raw).digest('base64url') === caDigest));
  if (ca === undefined) {
    throw new KrakenError(
      ErrorCode.Unauthorized,
      caDigest === undefined
        ? `${where} presented no certificate authority of its own: sent it nothing`
        : `${where} presented no certificate authority with the join token's digest ${caDigest}: sent it nothing (a leader of another cluster, a machine posing as one, or a mistyped token)`,
      { details: { caDigest } },
    );
  }
  const [leaf] = chain;
  if (leaf === undefined || !(leaf === ca || (leaf.checkIssued(ca) && leaf.verify(ca.publicKey)))) {
    throw new KrakenError(ErrorCode.Unauthorized, `${where} presented a certificate that the cluster CA did not issue: sent it nothing`, { details: { caDigest } });
  }
  return ca.toString();
}

/** The certificates the server presents, its own first, each issuer after what it issued. */
async function presentedChain(address: TlsAddress, timeoutMs: number): Promise<X509Certificate[]> {
  const where = `${address.host}:${String(address.port)}`;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: address.host,
      port: address.port,
      // SNI takes names, not addresses
      ...(isIP(address.host) === 0 ? { servername: address.host } : {}),
      // the chain is judged by its CA's digest below, not by a trust store that cannot know it
      rejectUnauthorized: false,
      timeout: timeoutMs,
    });
    const fail = (error: KrakenError): void => {
      socket.destroy();
      reject(error);
    };
    socket.once('secureConnect', () => {
      const chain = chainOf(socket.getPeerCertificate(true));
      socket.end();
      resolve(chain);
    });
    socket.once('timeout', () => {
      fail(new KrakenError(ErrorCode.Unavailable, `${where} did not finish a TLS handshake in ${String(timeoutMs)} ms`, { details: { unreachable: true } }));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const plain = error.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(error.message);
      fail(
        plain
          ? new KrakenError(ErrorCode.Unauthorized, `${where} does not speak TLS (an agent started with --insecure-no-tls, or from before the cluster CA): a token with a CA digest joins only a leader that proves it holds that CA`, { cause: error })
          : new KrakenError(ErrorCode.Unavailable, `cannot reach ${where}: ${error.message}`, { cause: error, details: { unreachable: true } }),
      );
    });
  });
}

/**
 * The certificates of a peer, its own first, following each one's issuer while the server sent
 * it. Node gives an empty object for no certificate, leaves the issuer out when it was not sent,
 * and makes the last (self-signed) one its own issuer.
 */
function chainOf(peer: tls.DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let cert: Partial<tls.DetailedPeerCertificate> | undefined = peer;
  while (cert?.raw !== undefined && cert.fingerprint256 !== undefined && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}
