import { defaultConfig, loadConfig } from './config.js';
import { applyFlags, FlagError, flagsUsage, parseFlags } from './flags.js';

describe('parseFlags (Go flag syntax)', () => {
  it('has everything off when no flags are given', () => {
    expect(parseFlags([])).toEqual({
      expandEnv: false,
      printConfigStderr: false,
      logConfigReverseOrder: false,
      help: false,
      version: false,
    });
  });

  it('accepts -flag=value, --flag=value and -flag value', () => {
    const f = parseFlags([
      '-config.file=/etc/strata/config.yaml',
      '--target=read',
      '-runtime-config.file',
      '/etc/strata/overrides.yaml',
      '--log.level',
      'debug',
      '-server.http-listen-port=8080',
      '-common.path-prefix',
      '/var/lib/strata',
      '-runtime-config.reload-period=1m',
    ]);
    expect(f).toMatchObject({
      configFile: '/etc/strata/config.yaml',
      target: 'read',
      runtimeConfigFile: '/etc/strata/overrides.yaml',
      logLevel: 'debug',
      httpListenPort: 8080,
      pathPrefix: '/var/lib/strata',
      runtimeConfigReloadPeriod: 60_000,
    });
  });

  it('treats a bare boolean flag as true and accepts Go boolean spellings', () => {
    expect(parseFlags(['-config.expand-env', '-print-config-stderr'])).toMatchObject({ expandEnv: true, printConfigStderr: true });
    expect(parseFlags(['-auth.enabled=false']).authEnabled).toBe(false);
    expect(parseFlags(['-auth.enabled=1']).authEnabled).toBe(true);
    expect(parseFlags(['--auth.enabled=F']).authEnabled).toBe(false);
    expect(parseFlags(['-auth.enabled']).authEnabled).toBe(true);
  });

  it('lets the last occurrence win, and takes the next argument as a value even if it starts with "-"', () => {
    expect(parseFlags(['-target=read', '-target=write']).target).toBe('write');
    expect(parseFlags(['-common.path-prefix', '-weird']).pathPrefix).toBe('-weird');
  });

  it('stops at "--"', () => {
    expect(parseFlags(['-target=all', '--']).target).toBe('all');
  });

  it.each([
    [['-x'], 'flag provided but not defined: -x'],
    [['--config.fil=a'], 'flag provided but not defined: -config.fil'],
    [['-config.file'], 'flag needs an argument: -config.file'],
    [['-server.http-listen-port=http'], 'invalid value "http" for flag -server.http-listen-port: parse error'],
    [['-server.http-listen-port=70000'], 'invalid value "70000" for flag -server.http-listen-port: port must be between 0 and 65535'],
    [['-auth.enabled=maybe'], 'invalid boolean value "maybe" for -auth.enabled: parse error'],
    [['-log.level=verbose'], 'invalid value "verbose" for flag -log.level: must be one of debug, info, warn, error'],
    [['-runtime-config.reload-period=10'], 'invalid value "10" for flag -runtime-config.reload-period: parse error'],
    [['---target=all'], 'bad flag syntax: ---target=all'],
    [['-=x'], 'bad flag syntax: -=x'],
    [['config.yaml'], 'unexpected argument "config.yaml": flags must start with "-"'],
    [['-auth.enabled', 'false'], 'unexpected argument "false": flags must start with "-"'],
    [['--', 'extra'], 'unexpected argument "extra"'],
  ])('%j → %s', (argv, message) => {
    expect(() => parseFlags(argv)).toThrow(FlagError);
    expect(() => parseFlags(argv)).toThrow(message);
  });

  it('prints usage for every flag', () => {
    const usage = flagsUsage();
    expect(usage).toContain('-config.file string');
    expect(usage).toContain('-server.http-listen-port int');
    expect(usage).toContain('-config.expand-env\n');
  });
});

describe('applyFlags', () => {
  it('overrides only what was given, without touching the input', () => {
    const cfg = defaultConfig();
    const out = applyFlags(
      cfg,
      parseFlags([
        '-target=write',
        '-auth.enabled=false',
        '-log.level=warn',
        '-server.http-listen-port=3200',
        '-server.http-listen-address=127.0.0.1',
        '-server.grpc-listen-port=9200',
        '-common.path-prefix=/data',
        '-runtime-config.file=/o.yaml',
      ]),
    );
    expect(out.target).toBe('write');
    expect(out.auth_enabled).toBe(false);
    expect(out.server).toMatchObject({ log_level: 'warn', http_listen_port: 3200, http_listen_address: '127.0.0.1', grpc_listen_port: 9200 });
    expect(out.common.path_prefix).toBe('/data');
    expect(out.runtime_config.file).toBe('/o.yaml');
    expect(cfg).toEqual(defaultConfig());
    expect(applyFlags(cfg, parseFlags([]))).toEqual(cfg);
  });

  it('beats the file in loadConfig, and -common.path-prefix moves the derived directories', () => {
    const text = `auth_enabled: true
server:
  http_listen_port: 3100
schema_config:
  configs:
    - from: 2024-01-01
      store: tsdb
      object_store: filesystem
      schema: v13
      index: { prefix: index_, period: 24h }
`;
    const cfg = loadConfig({
      text,
      fileName: 'config.yaml',
      flags: parseFlags(['-auth.enabled=false', '-server.http-listen-port=4100', '-common.path-prefix=/srv/strata']),
    });
    expect(cfg.auth_enabled).toBe(false);
    expect(cfg.server.http_listen_port).toBe(4100);
    expect(cfg.ingester.wal.dir).toBe('/srv/strata/wal');
  });

  it('validates a -target given on the command line', () => {
    expect(() => loadConfig({ flags: parseFlags(['-target=indexer']) })).toThrow('unrecognised module name: "indexer"');
  });

  it('expands the environment in the file only with -config.expand-env', () => {
    const text = `server:\n  http_listen_port: \${PORT:-3100}\nschema_config:\n  configs:\n    - { from: 2024-01-01, store: tsdb, object_store: filesystem, schema: v13, index: { prefix: i_, period: 24h } }\n`;
    expect(loadConfig({ text, env: { PORT: '5000' }, flags: parseFlags(['-config.expand-env']) }).server.http_listen_port).toBe(5000);
    expect(() => loadConfig({ text, env: { PORT: '5000' } })).toThrow('server.http_listen_port');
  });
});
