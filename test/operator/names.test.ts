import {
  MAX_STACK_NAME_LENGTH,
  commonLabels,
  componentName,
  componentOfSlug,
  componentSelector,
  configMapName,
  headlessServiceName,
  labelSelectorString,
  runtimeConfigMapName,
  serviceAccountName,
  serviceHost,
} from '../../operator/src/names.js';

describe('names', () => {
  it('derives object names from the stack name and Loki component names', () => {
    expect(componentName('logs', 'ingester')).toBe('logs-ingester');
    expect(componentName('logs', 'queryFrontend')).toBe('logs-query-frontend');
    expect(headlessServiceName('logs', 'ingester')).toBe('logs-ingester-headless');
    expect(configMapName('logs')).toBe('logs-config');
    expect(runtimeConfigMapName('logs')).toBe('logs-runtime');
    expect(serviceAccountName('logs')).toBe('logs-engine');
    expect(serviceHost('logs', 'obs', 'compactor')).toBe('logs-compactor.obs.svc');
    expect(componentOfSlug('index-gateway')).toBe('indexGateway');
    expect(componentOfSlug('gateway')).toBeUndefined();
  });

  it('keeps selector labels minimal and adds managed-by / part-of to object labels', () => {
    expect(componentSelector('logs', 'indexGateway')).toEqual({
      'app.kubernetes.io/name': 'strata',
      'app.kubernetes.io/instance': 'logs',
      'app.kubernetes.io/component': 'index-gateway',
    });
    expect(commonLabels('logs')).toEqual({
      'app.kubernetes.io/name': 'strata',
      'app.kubernetes.io/instance': 'logs',
      'app.kubernetes.io/managed-by': 'strata-operator',
      'app.kubernetes.io/part-of': 'strata',
    });
    expect(labelSelectorString(componentSelector('logs', 'ruler'))).toBe(
      'app.kubernetes.io/name=strata,app.kubernetes.io/instance=logs,app.kubernetes.io/component=ruler',
    );
  });

  it('bounds the stack name so every derived Service and StatefulSet name stays valid', () => {
    // "-query-scheduler-headless" is the longest Service suffix (25 characters of a 63-character DNS label).
    expect(MAX_STACK_NAME_LENGTH).toBe(38);
    const longest = 'a'.repeat(MAX_STACK_NAME_LENGTH);
    expect(headlessServiceName(longest, 'queryScheduler').length).toBe(63);
    expect(componentName(longest, 'singleBinary').length).toBeLessThanOrEqual(52);
  });
});
