// The etcd the ring and distributed suites use lives with the benchmarks, which start it too.
export { ETCD_BIN, EtcdServer } from '../../engine/src/bench/etcd-process.js';
