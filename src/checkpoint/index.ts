//! Checkpointing: barrier alignment, the coordinator, snapshot formats, and configuration.

export { BarrierAligner, type AlignerState, type AlignmentHooks, type Barrier, type CheckpointingMode } from './barrier-aligner.ts';
export type { CheckpointConfig, RestartStrategy } from './config.ts';
export {
  CheckpointCoordinator,
  type CheckpointCoordinatorConfig,
  type CheckpointIo,
  type CheckpointOutcome,
  type CompletedCheckpoint,
} from './coordinator.ts';
export { stateForSubtask, type OperatorCheckpoint, type OperatorSubtaskState, type RestoredOperatorState } from './snapshots.ts';
export {
  CheckpointStorage,
  loadCheckpoint,
  type CheckpointListing,
  type CheckpointSnapshot,
  type CheckpointStorageOptions,
  type CheckpointWriteResult,
  type LatestCheckpoint,
  type SkippedCheckpoint,
  type StoredCheckpoint,
} from './storage.ts';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_FORMAT_VERSION,
  METADATA_FILE,
  checkPlainData,
  type CheckpointKind,
  type CheckpointMetadata,
  type JsonValue,
  type StateEntry,
  type StateFileMetadata,
} from './storage-format.ts';
