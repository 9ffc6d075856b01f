//! Keyed state: descriptors, key groups, and the backends behind them.

export { ValueStateDescriptor, type StateDescriptor } from './descriptors.ts';
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
export { HeapKeyedStateBackend, mapKey, type KeyedStateBackend, type ValueState } from './keyed-backend.ts';
