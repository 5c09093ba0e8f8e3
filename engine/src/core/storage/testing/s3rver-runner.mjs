/* global process */
// Runs s3rver in its own Node process so NODE_OPTIONS=--openssl-legacy-provider applies to it (its list
// pagination tokens use DES, which OpenSSL 3 only offers through the legacy provider).
// Usage: node s3rver-runner.mjs <directory> <bucket>...  — prints {"port":N} once listening.
import S3rver from 's3rver';

const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
const address = await server.run();
process.stdout.write(JSON.stringify({ port: address.port }) + '\n');

const stop = () => {
  server.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The test process went away without stopping us: do not linger.
process.on('disconnect', stop);
