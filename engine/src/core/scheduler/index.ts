/** Loki's query-scheduler without the transport: fair per-tenant queues that queriers pull from. */
export { QueryScheduler, TOO_MANY_OUTSTANDING, type QuerySchedulerOptions, type ScheduledRequest, type SchedulerHooks } from './query-scheduler.js';
export { QuerierWorker, SchedulerDownstream, type QuerierWorkerOptions, type SubQueryScheduler } from './scheduler-downstream.js';
