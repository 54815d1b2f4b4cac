// Public surface of @kraken/trust: every export is listed by name.
export { caDigest, certificateServes, createClusterCa, issueCertificate, parseCertificate } from './cluster-ca.js';
export type { CertificateNames, ClusterCa, IssuedCertificate } from './cluster-ca.js';
export { formatJoinToken, parseJoinToken } from './join-token.js';
export type { JoinToken } from './join-token.js';
export { trustedCaAt } from './pinned-ca.js';
export type { TlsAddress } from './pinned-ca.js';
export { listenSecure } from './secure-listener.js';
export type { SecureListenOptions, SecureListening, ServedIdentity } from './secure-listener.js';
