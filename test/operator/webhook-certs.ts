// Serving certificates for the admission webhook in tests, made with openssl: signed by the test control plane's CA
// (so the apiserver trusts them through the caBundle) or by a throw-away CA of their own.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServingCert {
  dir: string;
  certFile: string;
  keyFile: string;
  /** The CA certificate (PEM) that signed it: the webhook configuration's caBundle. */
  caPem: string;
}

/** A throw-away CA (EC P-256: fast to generate). */
export async function makeCa(dir: string): Promise<{ certFile: string; keyFile: string }> {
  const keyFile = join(dir, 'ca.key');
  const certFile = join(dir, 'ca.crt');
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  await run('openssl', ['req', '-x509', '-new', '-key', keyFile, '-days', '2', '-subj', '/CN=strata-webhook-test-ca', '-out', certFile]);
  return { certFile, keyFile };
}

/**
 * A serving certificate for 127.0.0.1 (and localhost) signed by the CA at caCertPath/caKeyPath, written to a new
 * temporary directory (or `into`). `name` distinguishes several certificates in one directory.
 */
export async function makeServingCert(
  ca: { certFile: string; keyFile: string },
  options: { into?: string; name?: string } = {},
): Promise<ServingCert> {
  const dir = options.into ?? mkdtempSync(join(tmpdir(), 'strata-webhook-'));
  const name = options.name ?? 'tls';
  const keyFile = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  const certFile = join(dir, `${name}.crt`);
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  await run('openssl', ['req', '-new', '-key', keyFile, '-subj', '/CN=127.0.0.1', '-out', csr]);
  // Go (the apiserver) ignores the CN: the address must be a subjectAltName.
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await run('openssl', [
    'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile,
    // The serial file goes next to our certificate, never into the control plane's directory.
    '-CAcreateserial', '-CAserial', join(dir, `${name}.srl`), '-days', '2', '-extfile', ext, '-out', certFile,
  ]);
  return { dir, certFile, keyFile, caPem: readFileSync(ca.certFile, 'utf8') };
}
