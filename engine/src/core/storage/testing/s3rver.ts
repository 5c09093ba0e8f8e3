import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A real S3 wire peer for tests: s3rver in a child process on a random loopback port. */
export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Options for S3ObjectClient / from-config (path style, s3rver's fixed credentials). */
  clientOptions(bucket: string): {
    endpoint: string;
    region: string;
    bucket: string;
    accessKeyId: string;
    secretAccessKey: string;
    forcePathStyle: boolean;
  };
  stop(): Promise<void>;
}

const RUNNER = fileURLToPath(new URL('./s3rver-runner.mjs', import.meta.url));

export async function startS3rver(buckets: string[], startTimeoutMs = 15_000): Promise<S3rverHandle> {
  const directory = await mkdtemp(join(tmpdir(), 'strata-s3rver-'));
  const child = spawn(process.execPath, [RUNNER, directory, ...buckets], {
    // Only what the child needs: the legacy provider for s3rver's DES continuation tokens.
    env: { NODE_OPTIONS: '--openssl-legacy-provider' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let port: number;
  try {
    port = await readPort(child, startTimeoutMs);
  } catch (e) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw e;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    clientOptions: (bucket) => ({
      endpoint,
      region: 'us-east-1',
      bucket,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
    }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function readPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`s3rver did not start within ${timeoutMs} ms: ${err}`)), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
      } catch (e) {
        reject(e as Error);
      }
    });
    child.once('exit', (code, signal) => fail(new Error(`s3rver exited (${code ?? signal}): ${err}`)));
  });
}
