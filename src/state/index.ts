//! Keyed and operator state: descriptors, TTL, key groups, the heap backend, operator and broadcast state, timers, and snapshot formats.

export {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
  type AggregateFunction,
  type ReduceFunctionLike,
  type StateDescriptor,
  type StateKind,
} from './descriptors.ts';
export {
  DEFAULT_INCREMENTAL_CLEANUP,
  StateTtlConfig,
  StateTtlConfigBuilder,
  StateVisibility,
  SYSTEM_TTL_TIME_PROVIDER,
  UpdateType,
  isExpired,
  type IncrementalCleanupStrategy,
  type TtlTimeProvider,
  type TtlValue,
} from './ttl.ts';
export {
  DEFAULT_MAX_PARALLELISM,
  UPPER_BOUND_MAX_PARALLELISM,
  assignKeyToParallelOperator,
  assignToKeyGroup,
  computeOperatorIndexForKeyGroup,
  keyGroupRangeForSubtask,
  keyHashCode,
  murmurHash,
  validateMaxParallelism,
  type KeyGroupRange,
} from './key-groups.ts';
export { compareMappedKeys, mapKey, unmapKey } from './map-keys.ts';
export type {
  AggregatingState,
  InternalAggregatingState,
  InternalKvState,
  InternalListState,
  InternalMapState,
  InternalMergingState,
  InternalReducingState,
  InternalValueState,
  ListState,
  MapState,
  ReducingState,
  ValueState,
} from './state-types.ts';
export {
  HeapKeyedStateBackend,
  type HeapKeyedStateBackendOptions,
  type KeyedSnapshotProgress,
  type KeyedSnapshotResult,
  type KeyedStateBackend,
} from './keyed-backend.ts';
export { RocksDbKeyedStateBackend, type RocksDbKeyedStateBackendOptions } from './rocksdb-backend.ts';
export { defaultRocksDbDir, rocksDbDirPrefix, sweepRocksDbDirs } from './rocksdb-store.ts';
export { KEYED_SNAPSHOT_VERSION, type KeyGroupStateSnapshot, type KeyedStateSnapshot } from './snapshot-format.ts';
export {
  HeapOperatorStateStore,
  OPERATOR_SNAPSHOT_VERSION,
  redistributeOperatorState,
  type OperatorListMode,
  type OperatorStateSnapshot,
  type OperatorStateStore,
} from './operator-state.ts';
export { HeapBroadcastState, type BroadcastState, type ReadOnlyBroadcastState } from './broadcast-state.ts';
export {
  HeapInternalTimerService,
  TIMER_SNAPSHOT_VERSION,
  type InternalTimer,
  type TimerColumns,
  type TimerKeyGroupSnapshot,
  type TimerServiceOptions,
} from './timer-service.ts';
