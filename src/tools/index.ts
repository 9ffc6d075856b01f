//! Tools on checkpoints and savepoints: the state inspector (read, diff) and the savepoint writer.

export {
  readSavepoint,
  type BroadcastStateInfo,
  type KeyGroupInfo,
  type KeyedStateEntry,
  type KeyedStateInfo,
  type OperatorInfo,
  type OperatorReader,
  type OperatorStateInfo,
  type SavepointInfo,
  type SavepointReader,
  type TimerEntry,
  type TimerServiceInfo,
} from './savepoint-reader.ts';
export {
  diffSavepoints,
  type ChangedEntry,
  type DiffOptions,
  type LoneEntry,
  type OperatorDiff,
  type SavepointDiff,
  type StateDiff,
} from './savepoint-diff.ts';
export {
  entriesFromFile,
  writeSavepoint,
  type EntriesFileOptions,
  type KeyedStateBootstrap,
  type OperatorBootstrap,
  type StateEntries,
  type WriteSavepointOptions,
  type WrittenSavepoint,
} from './savepoint-writer.ts';
export { canonicalText, formatBytes, keyIdentity, parseKeyArgument, toJsonValue } from './state-values.ts';
