//! The execution plan: which subtask runs in which slot, and every data channel between subtasks.

import type { JobEdge, JobGraph } from '../graph/job-graph.ts';
import { consumersOf } from '../graph/partitioners.ts';

/** One data channel: a producer subtask's output for an edge to one consumer subtask. */
export interface ChannelSpec {
  readonly id: number;
  readonly edge: JobEdge;
  readonly producerSubtask: number;
  readonly consumerSubtask: number;
  /** Channel index among the producer's channels for this edge (the partitioner's target index). */
  readonly outIndex: number;
  /** Channel index in the consumer's mailbox. */
  inIndex: number;
  /** `producer[i] -> consumer[j]`. */
  readonly name: string;
}

/** A subtask placed in a slot. */
export interface PlacedSubtask {
  readonly vertex: number;
  readonly subtask: number;
  readonly slot: number;
}

/**
 * Slot sharing as in Flink: slot i hosts subtask i of every task whose parallelism exceeds i,
 * so a job needs as many slots as its highest parallelism.
 */
export class ExecutionPlan {
  readonly channels: ChannelSpec[] = [];
  readonly slots: PlacedSubtask[][];
  private readonly outputs = new Map<string, ChannelSpec[]>();
  private readonly inputs = new Map<string, ChannelSpec[]>();

  constructor(readonly graph: JobGraph) {
    this.slots = Array.from({ length: graph.slots }, () => []);
    for (const v of graph.vertices) {
      for (let s = 0; s < v.parallelism; s++) this.slots[s].push({ vertex: v.id, subtask: s, slot: s });
    }
    for (const edge of graph.edges) {
      const producers = graph.vertices[edge.sourceVertex].parallelism;
      const consumers = graph.vertices[edge.targetVertex].parallelism;
      for (let i = 0; i < producers; i++) {
        const targets = consumersOf(edge.partitioner, i, producers, consumers);
        const out: ChannelSpec[] = [];
        targets.forEach((j, outIndex) => {
          const spec: ChannelSpec = {
            id: this.channels.length,
            edge,
            producerSubtask: i,
            consumerSubtask: j,
            outIndex,
            inIndex: -1,
            name: `${graph.nodeNames[edge.sourceNode]}[${i}] -> ${graph.nodeNames[edge.targetNode]}[${j}]`,
          };
          this.channels.push(spec);
          out.push(spec);
        });
        this.outputs.set(`${edge.id}/${i}`, out);
      }
    }
    // Mailbox order: by the consumer's input edges in order, then producer subtask.
    for (const v of graph.vertices) {
      for (let s = 0; s < v.parallelism; s++) {
        const list: ChannelSpec[] = [];
        for (const edge of v.inputs) {
          for (const c of this.channels) if (c.edge === edge && c.consumerSubtask === s) list.push(c);
        }
        list.forEach((c, k) => (c.inIndex = k));
        this.inputs.set(`${v.id}/${s}`, list);
      }
    }
  }

  /** The channels subtask `subtask` of the edge's producer writes, in partitioner order. */
  outputChannels(edge: JobEdge, subtask: number): ChannelSpec[] {
    return this.outputs.get(`${edge.id}/${subtask}`) ?? [];
  }

  /** The channels feeding a subtask, in mailbox order. */
  inputChannels(vertex: number, subtask: number): ChannelSpec[] {
    return this.inputs.get(`${vertex}/${subtask}`) ?? [];
  }

  /** Slot of a channel's producer and consumer. */
  slotsOf(channel: ChannelSpec): { producer: number; consumer: number } {
    return { producer: channel.producerSubtask, consumer: channel.consumerSubtask };
  }
}
