// The operator renders the engine's config; the engine's own parsers are the judge. Every size's config.yaml and the
// runtime overrides must load in the engine unchanged (with -config.expand-env and the pod's environment), and the
// operator's selector check must agree with the engine's LogQL parser.
import { loadConfig } from '../../engine/src/core/config/config.js';
import { parseRuntimeConfig } from '../../engine/src/core/config/runtime-config.js';
import { parseMatchers } from '../../engine/src/core/logql/syntax/parser.js';
import { LOKISTACK_SIZES, type LokiStackSize } from '../../operator/src/api/v1/index.js';
import { DISTRIBUTED_RING_STORE, renderConfig } from '../../operator/src/manifests/config.js';
import { renderRuntimeConfig } from '../../operator/src/manifests/runtime-config.js';
import { selectorError } from '../../operator/src/validation/selector.js';
import { NOW, s3Facts, sampleStack, sampleTenant } from './lokistack-fixtures.js';

const POD_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  AWS_ACCESS_KEY_SECRET: 'it\'s/a+"secret": #1 \\',
  POD_IP: '10.1.2.3',
  POD_NAME: 'logs-ingester-0',
};

/** Loads like the engine's CLI: -config.expand-env=true with the pod's environment. */
function load(text: string, target: string) {
  return loadConfig({ text, fileName: 'config.yaml', flags: { expandEnv: true, target }, env: POD_ENV, now: NOW.getTime() });
}

const retention = { days: 30, streams: [{ selector: '{namespace="audit"}', days: 365, priority: 2 }] };

describe('rendered config.yaml in the engine', () => {
  it.each(LOKISTACK_SIZES.filter((s) => s !== '1x.demo'))('loads for size %s', (size: LokiStackSize) => {
    const stack = sampleStack({
      size,
      rules: { enabled: true },
      limits: { global: { ingestion: { ingestionRate: 9, perStreamRateLimit: 6 }, queries: { queryTimeout: '2m' }, retention } },
      storage: {
        secret: { name: 'loki-s3', type: 's3' },
        tls: { caName: 'storage-ca', caKey: 'ca.crt' },
        schemas: [
          { version: 'v11', effectiveDate: '2022-01-01' },
          { version: 'v12', effectiveDate: '2023-01-01' },
          { version: 'v13', effectiveDate: '2024-06-01' },
          { version: 'v13', effectiveDate: '2025-07-01' },
        ],
      },
    });
    const cfg = load(renderConfig(stack, s3Facts(), { now: NOW }), 'ingester');
    // Pods find each other through Leases in the stack's namespace; queriers pull work and look up the index remotely.
    expect(cfg.ingester.lifecycler.ring.kvstore.store).toBe(DISTRIBUTED_RING_STORE);
    expect(DISTRIBUTED_RING_STORE).toBe('kubernetes');
    expect(cfg.frontend_worker.scheduler_address).toBe('logs-query-scheduler-headless.observability.svc:3100');
    expect(cfg.frontend.scheduler_address).toBe(cfg.frontend_worker.scheduler_address);
    expect(cfg.storage_config.tsdb_shipper.index_gateway_client.server_address).toBe('logs-index-gateway.observability.svc:3100');

    expect(cfg.auth_enabled).toBe(true);
    expect(cfg.schema_config.configs.map((p) => [p.from, p.schema, p.store, p.object_store])).toEqual([
      ['2022-01-01', 'v11', 'boltdb-shipper', 's3'],
      ['2023-01-01', 'v12', 'boltdb-shipper', 's3'],
      ['2024-06-01', 'v13', 'tsdb', 's3'],
      ['2025-07-01', 'v13', 'tsdb', 's3'],
    ]);
    expect(cfg.storage_config.aws).toMatchObject({
      bucketnames: 'chunks',
      endpoint: 'https://s3.eu-west-1.amazonaws.com',
      region: 'eu-west-1',
      access_key_id: 'AKIAEXAMPLE',
      // A block scalar keeps an expanded secret with YAML-special characters one verbatim string.
      secret_access_key: POD_ENV.AWS_ACCESS_KEY_SECRET,
      s3forcepathstyle: false,
    });
    expect(cfg.storage_config.aws.http_config.ca_file).toBe('/etc/strata/storage-ca/ca.crt');
    expect(cfg.ruler.storage.type).toBe('s3');
    expect(cfg.ingester.lifecycler.ring.replication_factor).toBe(2);
    expect(cfg.ingester.lifecycler.address).toBe('10.1.2.3');
    expect(cfg.ingester.lifecycler.id).toBe('logs-ingester-0');
    expect(cfg.ingester.wal).toMatchObject({ enabled: true, dir: '/var/strata/wal' });
    expect(cfg.compactor).toMatchObject({ retention_enabled: true, delete_request_store: 's3', working_directory: '/var/strata/compactor' });
    expect(cfg.common.compactor_address).toBe('http://logs-compactor.observability.svc:3100');
    expect(cfg.limits_config).toMatchObject({
      ingestion_rate_mb: 9,
      per_stream_rate_limit: 6 * 1024 * 1024,
      query_timeout: 120_000,
      retention_period: 30 * 86_400_000,
      retention_stream: [{ selector: '{namespace="audit"}', priority: 2, period: 365 * 86_400_000 }],
      allow_structured_metadata: true,
    });
    expect(cfg.runtime_config.file).toBe('/etc/strata/runtime/runtime.yaml');
  });

  it('loads for 1x.demo on the filesystem as the single binary, with the in-memory ring', () => {
    const stack = sampleStack({
      size: '1x.demo',
      storage: { secret: { name: 'unused', type: 'filesystem' }, schemas: [{ version: 'v13', effectiveDate: '2024-06-01' }] },
      rules: { enabled: true },
    });
    const cfg = load(renderConfig(stack, undefined, { now: NOW }), 'all');
    expect(cfg.common.ring.kvstore.store).toBe('inmemory');
    expect(cfg.schema_config.configs.map((p) => p.object_store)).toEqual(['filesystem']);
    expect(cfg.storage_config.filesystem.directory).toBe('/var/strata/chunks');
    expect(cfg.ruler.storage).toMatchObject({ type: 'local', local: { directory: '/var/strata/rules' } });
    expect(cfg.compactor.delete_request_store).toBe('filesystem');
  });

  it('loads for 1x.demo on S3 while the period in effect is v12 (structured metadata then off)', () => {
    const stack = sampleStack({
      size: '1x.demo',
      storage: {
        secret: { name: 'loki-s3', type: 's3' },
        schemas: [
          { version: 'v12', effectiveDate: '2023-01-01' },
          { version: 'v13', effectiveDate: '2025-07-01' },
        ],
      },
    });
    const cfg = load(renderConfig(stack, s3Facts(), { now: NOW }), 'all');
    expect(cfg.limits_config.allow_structured_metadata).toBe(false);
    expect(cfg.schema_config.configs.map((p) => p.schema)).toEqual(['v12', 'v13']);
  });
});

describe('rendered runtime overrides in the engine', () => {
  it('load, per tenant, with retention', () => {
    const text = renderRuntimeConfig([
      sampleTenant('a', 'team-a', {
        limits: { ingestion: { ingestionRate: 5, perStreamRateLimitBurst: 20, maxLineSize: 1024 }, queries: { maxQuerySeries: 50 } },
        retention: { days: 7, streams: [{ selector: '{app="debug"}', days: 1, priority: 3 }] },
      }),
      sampleTenant('b', 'defaults-only'),
    ]);
    const rt = parseRuntimeConfig(text, { fileName: 'runtime.yaml' });
    expect(rt.overrides['team-a']).toEqual({
      ingestion_rate_mb: 5,
      max_line_size: 1024,
      per_stream_rate_limit_burst: 20 * 1024 * 1024,
      max_query_series: 50,
      retention_period: 7 * 86_400_000,
      retention_stream: [{ selector: '{app="debug"}', priority: 3, period: 86_400_000 }],
    });
    expect(rt.overrides['defaults-only']).toEqual({});
    expect(parseRuntimeConfig(renderRuntimeConfig([])).overrides).toEqual({});
  });
});

describe('selector validation agrees with the engine LogQL parser', () => {
  it.each([
    '{app="api"}',
    '{app="api", namespace=~"prod|staging"}',
    '{app!="x", env="prod"}',
    '{ app = "spaces" , b !~ "c.*" }',
    '{app=~"(?i)api"}',
    '{app=`raw\\d+`}',
    '{app="\\u00e9\\x41\\101"}',
    '{app=~".+"}',
    '{app!~""}',
    '{}',
    '{app=~".*"}',
    '{app=""}',
    '{app!="x"}',
    '{app="x"',
    '{app=x}',
    '{app="x"} |= "error"',
    '{app=~"("}',
    '{1a="x"}',
    'app="x"',
    '{app="\\q"}',
  ])('%s', (selector) => {
    let engineOk = true;
    try {
      parseMatchers(selector);
    } catch {
      engineOk = false;
    }
    expect(selectorError(selector) === undefined).toBe(engineOk);
  });
});
