import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { flagsUsage, parseFlags } from './core/config/flags.js';
import { VERSION } from './core/version.js';
import { configToYaml, loadConfig } from './core/config/config.js';
import { Engine } from './core/engine.js';
import { LogfmtLogger, type LogLevel } from './core/util/logger.js';
import { nativeAddonPath, nativeAvailable, nativeUnavailableReason } from './core/util/native.js';
import { createApp } from './modules/http/app-factory.js';

/**
 * `node engine/dist/main.js [-config.file=FILE] [-target=all] [-runtime-config.file=FILE] [-config.expand-env]
 * [-print-config-stderr] [-log.level=info]`. Without -config.file the embedded default configuration runs (filesystem
 * storage under ./data, auth disabled, HTTP on 3100).
 */
async function main(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  if (flags.help) {
    process.stdout.write(flagsUsage());
    return;
  }
  if (flags.version) {
    process.stdout.write(`strata, version ${VERSION}\n`);
    return;
  }
  // File (or the embedded default), then flags, then Loki's `common:` resolution, then validation.
  const config = loadConfig({
    text: flags.configFile ? readFileSync(flags.configFile, 'utf8') : undefined,
    fileName: flags.configFile,
    flags,
    env: process.env,
  });
  if (flags.printConfigStderr) process.stderr.write(configToYaml(config));
  const target = config.target;
  const logger = new LogfmtLogger((config.server.log_level as LogLevel) ?? 'info');
  const engine = new Engine(config, target, { logger }, flags.runtimeConfigFile);
  const app = await createApp(engine, logger);
  const host = config.server.http_listen_address || '0.0.0.0';
  await app.listen(config.server.http_listen_port, host);
  logger.info('Strata started', { target, http: `${host}:${config.server.http_listen_port}`, native_read_path: nativeAvailable() });
  if (!nativeAvailable()) {
    logger.warn(`native addon not loaded (${nativeAddonPath}: ${nativeUnavailableReason()}): reads use the slower fallbacks`);
  }
  if (engine.components.has('ruler')) {
    // Accepted so deployments that name it start, but this version evaluates no rules: say so instead of pretending.
    logger.warn('the ruler component is not implemented in this version: no recording or alerting rules are evaluated');
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('received signal, flushing and shutting down', { signal });
    engine
      .stop()
      .then(() => app.close())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error('shutdown failed', { err });
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  // Listening before the WAL replay lets /ready answer 503 with the reason while it runs.
  await engine.start();
  logger.info('Strata is ready');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
