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
