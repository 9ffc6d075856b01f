//! weir/testing: deterministic simulation of a user's job (simulateJob, exploreJob), for vitest or any runner.

export { simulateJob } from './simulate.ts';
export type {
  CheckpointPhase,
  SimulateOptions,
  SimulatedCheckpoint,
  SimulatedFault,
  SimulatedRestart,
  SimulationResult,
} from './simulate.ts';
export { exploreJob, replayOf } from './explore.ts';
export type { ExploreOptions, ExploreReport } from './explore.ts';
export { SeededRandom } from './prng.ts';
export { SIMULATION_EPOCH, VirtualClock } from './sim-clock.ts';
