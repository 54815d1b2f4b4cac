import { X509Certificate } from 'node:crypto';
import { caDigest, certificateServes, createClusterCa, issueCertificate } from './cluster-ca.js';

describe('cluster CA', () => {
  it('makes a CA that issues agent certificates for addresses and names, which Node verifies against it', async () => {
    const ca = await createClusterCa('kraken-abc123');
    const issued = await issueCertificate(ca, { commonName: 'agent-1', names: ['10.0.0.5', 'localhost', 'pi-4.local', '10.0.0.5'] });

    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(issued.certPem);
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toContain('kraken-abc123');
    expect(cert.ca).toBe(false);
    expect(cert.subject).toBe('CN=agent-1');
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIP('10.0.0.5')).toBe('10.0.0.5');
    expect(cert.checkHost('pi-4.local')).toBe('pi-4.local');
    expect(cert.checkIP('10.0.0.6')).toBeUndefined();
    expect(cert.subjectAltName?.split(', ')).toEqual(['IP Address:10.0.0.5', 'DNS:localhost', 'DNS:pi-4.local']);
    expect(issued.chainPem).toContain(ca.certPem.trim());
    expect(issued.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('names the CA by a 43-character digest that differs between clusters', async () => {
    const one = await createClusterCa('one');
    const other = await createClusterCa('other');
    expect(caDigest(one.certPem)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(caDigest(one.certPem)).toBe(caDigest(`\n${one.certPem}`));
    expect(caDigest(one.certPem)).not.toBe(caDigest(other.certPem));
  });

  it('says a certificate serves while it is the CA\'s, valid past the margin and covers every name; not otherwise', async () => {
    const ca = await createClusterCa('c');
    const other = await createClusterCa('c');
    const issued = await issueCertificate(ca, { commonName: 'agent-1', names: ['10.0.0.5', 'localhost'] });

    expect(certificateServes(issued.certPem, ca.certPem, ['10.0.0.5'])).toBe(true);
    expect(certificateServes(issued.certPem, ca.certPem, ['10.0.0.5', '10.0.0.9'])).toBe(false);
    expect(certificateServes(issued.certPem, other.certPem, ['10.0.0.5'])).toBe(false);
    const nearTheEnd = new Date(Date.now() + 350 * 24 * 60 * 60 * 1000);
    expect(certificateServes(issued.certPem, ca.certPem, ['10.0.0.5'], nearTheEnd)).toBe(false);
  });

  it('refuses a certificate for no name, and a CA that is not PEM, naming what is wrong', async () => {
    const ca = await createClusterCa('c');
    await expect(issueCertificate(ca, { commonName: 'agent-1', names: [] })).rejects.toThrow(/agent-1 needs at least one address or name/);
    expect(() => caDigest('not a certificate')).toThrow(/the cluster CA is not a PEM certificate/);
  });
});
