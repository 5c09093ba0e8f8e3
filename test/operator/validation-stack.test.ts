import type { ObjectStorageSchema } from '../../operator/src/api/v1/index.js';
import { errorsOf, warningsOf } from '../../operator/src/validation/field-error.js';
import { earliestValidDate, parseEffectiveDate, schemaTimeline, validateSchemas } from '../../operator/src/validation/schemas.js';
import { validateStack } from '../../operator/src/validation/stack.js';
import { NOW, sampleStack } from './lokistack-fixtures.js';

const s = (version: 'v11' | 'v12' | 'v13', effectiveDate: string): ObjectStorageSchema => ({ version, effectiveDate });
const APPLIED = [s('v12', '2023-01-01'), s('v13', '2024-06-01')];

function errors(schemas: ObjectStorageSchema[], applied: ObjectStorageSchema[] | undefined = APPLIED, now = NOW) {
  return errorsOf(validateSchemas(schemas, applied, now));
}

describe('schema rules', () => {
  it('parses only real calendar days', () => {
    expect(parseEffectiveDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseEffectiveDate('2023-02-29')).toBeUndefined();
    expect(parseEffectiveDate('2024-1-01')).toBeUndefined();
  });

  it('suggests the first midnight UTC at or after now + 2h', () => {
    expect(earliestValidDate(new Date('2025-06-15T12:00:00Z'))).toBe('2025-06-16');
    expect(earliestValidDate(new Date('2025-06-15T22:30:00Z'))).toBe('2025-06-17');
    expect(earliestValidDate(new Date('2025-06-15T22:00:00Z'))).toBe('2025-06-16');
  });

  it('accepts the applied history unchanged, plus any future entry', () => {
    expect(validateSchemas(APPLIED, APPLIED, NOW)).toEqual([]);
    expect(errors([...APPLIED, s('v13', '2025-06-16')])).toEqual([]);
    // Future entries may be changed or removed freely.
    expect(errors(APPLIED, [...APPLIED, s('v13', '2025-07-01')])).toEqual([]);
  });

  it('accepts anything on a new stack (no history yet) as long as one entry is in effect', () => {
    expect(errors([s('v11', '2020-01-01'), s('v13', '2022-01-01')], [])).toEqual([]);
    expect(errors([s('v13', '2025-06-20')], [])).toEqual([
      expect.objectContaining({
        field: 'spec.storage.schemas',
        reason: 'InvalidObjectStorageSchema',
        message: expect.stringContaining('no schema entry is in effect yet: at least one entry needs an effectiveDate on or before 2025-06-15'),
      }),
    ]);
  });

  it('rejects unparseable and duplicate dates', () => {
    expect(errors([...APPLIED, s('v13', '2025-02-30')], APPLIED)[0]).toMatchObject({
      field: 'spec.storage.schemas[2].effectiveDate',
      message: 'spec.storage.schemas[2].effectiveDate: "2025-02-30" is not a valid date (YYYY-MM-DD, UTC)',
    });
    expect(errors([...APPLIED, s('v13', '2025-08-01'), s('v13', '2025-08-01')])[0]).toMatchObject({
      field: 'spec.storage.schemas[3].effectiveDate',
      message: expect.stringContaining('2025-08-01 is also the effectiveDate of entry 2; effective dates must be unique'),
    });
  });

  it('rejects a retroactive add, naming the earliest valid date', () => {
    const [e] = errors([...APPLIED, s('v13', '2025-01-01')]);
    expect(e).toMatchObject({ field: 'spec.storage.schemas[2]', reason: 'InvalidObjectStorageSchema' });
    expect(e!.message).toContain('cannot add the schema entry v13 from 2025-01-01 retroactively');
    expect(e!.message).toContain('use an effectiveDate on or after 2025-06-16');
  });

  it('treats an entry starting within the next 2 hours as already locked', () => {
    const late = new Date('2025-06-15T22:30:00Z');
    expect(errors([...APPLIED, s('v13', '2025-06-16')], APPLIED, late)[0]!.message).toContain('on or after 2025-06-17');
    // Once applied, that entry is history and must stay.
    expect(errors(APPLIED, [...APPLIED, s('v13', '2025-06-16')], late)[0]!.message).toContain(
      'cannot remove the applied schema entry v13 from 2025-06-16',
    );
  });

  it('rejects changing or removing an entry in effect', () => {
    expect(errors([s('v11', '2023-01-01'), s('v13', '2024-06-01')])[0]).toMatchObject({
      field: 'spec.storage.schemas[0].version',
      message: expect.stringContaining('cannot change the schema in effect from 2023-01-01 (v12 → v11)'),
    });
    expect(errors([s('v13', '2024-06-01')])[0]).toMatchObject({
      field: 'spec.storage.schemas',
      message: expect.stringContaining('cannot remove the applied schema entry v12 from 2023-01-01'),
    });
    // Moving an entry's date is a remove plus an add.
    expect(errors([s('v12', '2023-01-02'), s('v13', '2024-06-01')]).map((e) => e.message)).toEqual([
      expect.stringContaining('cannot add the schema entry v12 from 2023-01-02 retroactively'),
      expect.stringContaining('cannot remove the applied schema entry v12 from 2023-01-01'),
    ]);
  });

  it('rejects a downgrade, even in the future', () => {
    expect(errors([...APPLIED, s('v12', '2025-09-01')])).toEqual([
      expect.objectContaining({
        field: 'spec.storage.schemas[2].version',
        message: expect.stringContaining('v12 from 2025-09-01 would downgrade the schema from v13 from 2024-06-01'),
      }),
    ]);
    // A downgrade already in the applied history (written before this rule) is left alone.
    const legacy = [s('v13', '2022-01-01'), s('v12', '2023-01-01')];
    expect(errors([...legacy, s('v13', '2025-07-01')], legacy)).toEqual([]);
  });

  it('warns while the newest entry is not v13, suggesting the earliest valid date', () => {
    const old = [s('v11', '2020-01-01'), s('v12', '2023-01-01')];
    expect(warningsOf(validateSchemas(old, old, NOW))).toEqual([
      {
        field: 'spec.storage.schemas',
        reason: 'StorageNeedsSchemaUpdate',
        severity: 'warning',
        message:
          'spec.storage.schemas: the newest schema entry (v12 from 2023-01-01) is not v13; add {version: v13, effectiveDate: "2025-06-16"} ' +
          '(the earliest valid date) for TSDB and structured metadata',
      },
    ]);
    expect(warningsOf(validateSchemas([...old, s('v13', '2025-07-01')], old, NOW))).toEqual([]);
  });

  it('builds the timeline: active, upcoming and past entries', () => {
    expect(schemaTimeline([s('v13', '2025-07-01'), ...APPLIED], NOW)).toEqual({
      active: s('v13', '2024-06-01'),
      upcoming: [s('v13', '2025-07-01')],
      past: [s('v12', '2023-01-01')],
    });
    expect(schemaTimeline([s('v13', '2030-01-01')], NOW)).toEqual({ upcoming: [s('v13', '2030-01-01')], past: [] });
  });
});

describe('validateStack', () => {
  it('accepts the sample stack and protects its status history', () => {
    const stack = sampleStack();
    expect(validateStack(stack, NOW)).toEqual([]);
    stack.status = { storage: { schemas: APPLIED } };
    stack.spec.storage.schemas = [s('v13', '2024-06-01')];
    expect(validateStack(stack, NOW).map((e) => e.reason)).toEqual(['InvalidObjectStorageSchema']);
    // The webhook may supply the history itself (e.g. the old object's spec).
    expect(validateStack({ ...stack, status: undefined }, NOW, { appliedSchemas: APPLIED }).map((e) => e.reason)).toEqual([
      'InvalidObjectStorageSchema',
    ]);
  });

  it('allows filesystem storage only with 1x.demo', () => {
    const fs = { secret: { name: 'unused', type: 'filesystem' as const }, schemas: APPLIED };
    expect(validateStack(sampleStack({ size: '1x.demo', storage: fs }), NOW)).toEqual([]);
    expect(validateStack(sampleStack({ size: '1x.pico', storage: fs }), NOW)).toEqual([
      {
        field: 'spec.storage.secret.type',
        reason: 'InvalidObjectStorageType',
        severity: 'error',
        message: 'spec.storage.secret.type: filesystem storage is only allowed with size 1x.demo (one single-binary pod); size 1x.pico needs object storage (s3)',
      },
    ]);
  });

  it('checks the replication factor against ingesters and zones', () => {
    expect(validateStack(sampleStack({ replication: { factor: 4 } }), NOW)[0]!.message).toBe(
      'spec.replication.factor: 4 copies need at least 4 ingesters, but the stack runs 3 (spec.template.ingester.replicas)',
    );
    expect(validateStack(sampleStack({ replication: { factor: 4 }, template: { ingester: { replicas: 4 } } }), NOW)).toEqual([]);
    // A zone entry is a topology key, not a zone: one key spreads any factor over the zones the nodes have.
    expect(validateStack(sampleStack({ replication: { factor: 2, zones: [{ topologyKey: 'topology.kubernetes.io/zone' }] } }), NOW)).toEqual([]);
    const twice = [{ topologyKey: 'topology.kubernetes.io/zone' }, { topologyKey: 'topology.kubernetes.io/zone' }];
    expect(validateStack(sampleStack({ replication: { factor: 2, zones: twice } }), NOW)[0]).toMatchObject({
      field: 'spec.replication.zones[1].topologyKey',
      reason: 'InvalidReplicationConfiguration',
    });
    expect(validateStack(sampleStack({ size: '1x.demo', replication: { factor: 2 } }), NOW)[0]!.field).toBe('spec.replication.factor');
  });

  it('keeps the compactor and the single binary at one pod', () => {
    expect(validateStack(sampleStack({ template: { compactor: { replicas: 2 } } }), NOW)).toEqual([
      expect.objectContaining({ field: 'spec.template.compactor.replicas', reason: 'InvalidComponentReplicas' }),
    ]);
  });

  it('rejects a global retention selector that does not parse', () => {
    const stack = sampleStack({ limits: { global: { retention: { days: 30, streams: [{ selector: '{app=~".*"}', days: 7 }] } } } });
    expect(validateStack(stack, NOW)).toEqual([
      expect.objectContaining({ field: 'spec.limits.global.retention.streams[0].selector', reason: 'InvalidRetentionSelector' }),
    ]);
  });

  it('rejects a stack name its derived names cannot carry', () => {
    expect(validateStack(sampleStack({}, 'a'.repeat(39)), NOW)[0]).toMatchObject({ field: 'metadata.name', reason: 'InvalidStackName' });
    expect(validateStack(sampleStack({}, '1logs'), NOW)[0]).toMatchObject({ field: 'metadata.name' });
    expect(validateStack(sampleStack({}, 'a'.repeat(38)), NOW)).toEqual([]);
  });

  it('lists errors before warnings', () => {
    const stack = sampleStack({ template: { compactor: { replicas: 3 } } });
    stack.spec.storage.schemas = [s('v12', '2023-01-01')];
    expect(validateStack(stack, NOW).map((e) => e.severity)).toEqual(['error', 'warning']);
  });
});
