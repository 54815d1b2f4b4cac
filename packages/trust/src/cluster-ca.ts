import { X509Certificate, createHash, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { ErrorCode, KrakenError } from '@kraken/common';
import type * as X509Lib from '@peculiar/x509';

/**
 * @peculiar/x509, loaded by the few that make certificates (a leader), not by every agent and
 * command that only checks them with node:crypto: it brings tsyringe and the Reflect polyfill.
 */
async function x509Lib(): Promise<typeof X509Lib> {
  // its ASN.1 serializers are resolved through tsyringe, which needs the Reflect API
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(globalThis.crypto);
  return x509;
}

/** P-256: small keys and signatures, fast to make on a Raspberry Pi, and every TLS stack speaks it. */
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

const DAY_MS = 24 * 60 * 60 * 1000;
/** A cluster outlives its machines; its CA is made once and never rolled by itself. */
const CA_VALID_DAYS = 20 * 365;
/** Agents ask for a new certificate at every start and when their addresses change, so a year is plenty. */
const AGENT_CERT_VALID_DAYS = 365;
/** Clocks on small machines without an RTC start wrong; a certificate valid from a day back still works there. */
const BACKDATE_MS = DAY_MS;

/** The cluster's certificate authority: its certificate and private key (PKCS#8), both PEM. */
export interface ClusterCa {
  certPem: string;
  keyPem: string;
}

/** A certificate the cluster CA issued, with its private key, and the chain a server presents (leaf then CA). */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  chainPem: string;
}

/** Which names a certificate answers for: IP addresses and host names (`localhost`, `<host>.local`). */
export interface CertificateNames {
  /** The subject's common name: the node id. */
  commonName: string;
  /** IP addresses and DNS names; each is put in the subject alternative names as what it is. */
  names: readonly string[];
}

/** Makes the CA a cluster's founding leader keeps with its secrets. */
export async function createClusterCa(clusterId: string, now = new Date()): Promise<ClusterCa> {
  const x509 = await x509Lib();
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=Kraken cluster CA ${escapeDn(clusterId)}`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_VALID_DAYS * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      // pathLen 0: it signs agents' certificates, never another CA
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/**
 * The CA's digest as join tokens carry it: SHA-256 of the certificate's DER bytes, base64url (43
 * characters). A joiner compares it with the CA the leader presents before it sends anything.
 */
export function caDigest(certPem: string): string {
  return createHash('sha256').update(parseCertificate(certPem, 'the cluster CA').raw).digest('base64url');
}

/** Issues an agent's certificate for `names` (server and client use: the API, and broker connections). */
export async function issueCertificate(ca: ClusterCa, subject: CertificateNames, now = new Date()): Promise<IssuedCertificate> {
  if (subject.names.length === 0) throw new KrakenError(ErrorCode.InvalidInput, `a certificate for ${subject.commonName} needs at least one address or name`);
  const x509 = await x509Lib();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', pemBody(ca.keyPem, 'PRIVATE KEY'), ALGORITHM, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${escapeDn(subject.commonName)}`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + AGENT_CERT_VALID_DAYS * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([...new Set(subject.names)].map((name) => (isIP(name) === 0 ? { type: 'dns', value: name } : { type: 'ip', value: name }))),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const certPem = cert.toString('pem');
  return { certPem, keyPem: await privateKeyPem(keys.privateKey), chainPem: `${certPem}\n${ca.certPem.trim()}\n` };
}

/**
 * Whether `certPem` can go on serving: issued by `caPem`, valid for another `marginDays`, and
 * answering for every one of `names`. An agent asks for a new certificate when it cannot.
 */
export function certificateServes(certPem: string, caPem: string, names: readonly string[], now = new Date(), marginDays = 30): boolean {
  const cert = parseCertificate(certPem, 'the agent certificate');
  const ca = parseCertificate(caPem, 'the cluster CA');
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
  if (new Date(cert.validTo).getTime() - now.getTime() < marginDays * DAY_MS) return false;
  return names.every((name) => (isIP(name) === 0 ? cert.checkHost(name) !== undefined : cert.checkIP(name) !== undefined));
}

/** Node's view of a PEM certificate, or an InvalidConfig error naming `what`. */
export function parseCertificate(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new KrakenError(ErrorCode.InvalidConfig, `${what} is not a PEM certificate: ${(error as Error).message}`, { cause: error });
  }
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

function pemBody(pem: string, label: string): Buffer {
  const match = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(pem);
  if (match?.[1] === undefined) throw new KrakenError(ErrorCode.InvalidConfig, `expected a PEM ${label.toLowerCase()}`);
  return Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
}

/** A positive 128-bit serial (the first bit clear, so DER does not read it as negative). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/** Node ids and cluster ids are plain, but a DN would take `,` or `=` in one as syntax. */
function escapeDn(value: string): string {
  return value.replace(/[,=+<>#;"\\]/g, '\\$&');
}
