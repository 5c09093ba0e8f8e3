// The operator's generic Kubernetes runtime: client, informers, work queue, leader election, controller loop.
// Nothing here knows about LokiStack or LokiTenant.
export * from './client.js';
export * from './clock.js';
export * from './controller.js';
export * from './errors.js';
export * from './informer.js';
export * from './leader-election.js';
export * from './logger.js';
export * from './work-queue.js';
