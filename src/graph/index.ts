//! The graph layer: the logical stream graph, chaining into a job graph, partitioners, fingerprint.

export {
  StreamGraph,
  type JobConfig,
  type PartitionerKind,
  type PartitionerSpec,
  type StreamInput,
  type StreamNode,
} from './stream-graph.ts';
export { buildJobGraph, type JobEdge, type JobGraph, type JobVertex } from './job-graph.ts';
export { KeyGroupSelector, consumersOf, createChannelSelector } from './partitioners.ts';
export { isJobDefinition, type JobDefinition } from './job-definition.ts';
