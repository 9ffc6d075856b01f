//! The job graph: parallelism and partitioners resolved, operators chained into tasks, and a fingerprint of the shape.

import { createHash } from 'node:crypto';
import { graphError } from '../core/errors.ts';
import { validateMaxParallelism } from '../state/key-groups.ts';
import type { JobConfig, PartitionerKind, StreamGraph, StreamNode } from './stream-graph.ts';

/** An edge between two tasks (or inside one, when chained). */
export interface JobEdge {
  /** Index among the job's network edges (chained edges have none). */
  readonly id: number;
  readonly sourceNode: number;
  readonly targetNode: number;
  readonly sourceVertex: number;
  readonly targetVertex: number;
  readonly partitioner: PartitionerKind;
  readonly keySelector?: (value: unknown) => unknown;
  /** Side output this edge reads, if not the main output. */
  readonly sideOutputTag?: string;
  /** Input (1 or 2) of the target operator this edge feeds. */
  readonly inputIndex: 1 | 2;
  /** `producer -> consumer` operator names, for messages. */
  readonly name: string;
}

/** A task: a chain of operators that run in one actor per subtask. */
export interface JobVertex {
  /** Index among the job's vertices. */
  readonly id: number;
  /** `Source: A -> Map -> Filter`. */
  readonly name: string;
  readonly parallelism: number;
  /** Node ids of the chain in topological order; the first is the head. */
  readonly nodes: number[];
  /** Chained (in-actor) edges between this vertex's nodes: from node → to nodes (and the side output they read). */
  readonly chainedOutputs: Map<number, { to: number; sideOutputTag?: string }[]>;
  /** Network edges leaving this vertex, by source node. */
  readonly networkOutputs: Map<number, JobEdge[]>;
  /** Network edges entering this vertex's head, in input order. */
  readonly inputs: JobEdge[];
}

/** The runnable shape of a job. */
export interface JobGraph {
  readonly config: JobConfig;
  readonly streamGraph: StreamGraph;
  readonly vertices: JobVertex[];
  readonly edges: JobEdge[];
  /** Resolved parallelism per node id. */
  readonly nodeParallelism: number[];
  /** Display name per node id, unique within the job (metrics key). */
  readonly nodeNames: string[];
  /** Vertex id per node id. */
  readonly vertexOfNode: number[];
  /** Operator id per node id: the uid, or one derived from the position (savepoints map state by it). */
  readonly operatorIds: string[];
  /** Ids of the job's `collect` sinks. */
  readonly collectIds: string[];
  /** Highest parallelism: the number of slots (worker threads) the job needs. */
  readonly slots: number;
  /** Hash of the graph's shape: coordinator and workers must agree on it. */
  readonly fingerprint: string;
}

function resolveParallelism(node: StreamNode, config: JobConfig): number {
  const p = node.parallelism ?? config.parallelism;
  if (node.maxSupportedParallelism !== undefined && p > node.maxSupportedParallelism) {
    if (node.parallelism !== undefined) {
      throw graphError(
        `operator '${node.name}' supports parallelism ${node.maxSupportedParallelism} at most, but was set to ${p}`,
        node.name,
      );
    }
    return node.maxSupportedParallelism;
  }
  return p;
}

/** Resolves parallelism and partitioners, chains operators, and fingerprints the result. */
export function buildJobGraph(graph: StreamGraph): JobGraph {
  const config = graph.config;
  const nodes = graph.nodes;
  if (nodes.length === 0) throw graphError('the job has no operators: add a source and a sink before executing');
  const parallelism = nodes.map((n) => resolveParallelism(n, config));
  for (const n of nodes) {
    const p = parallelism[n.id];
    if (!Number.isInteger(p) || p < 1) throw graphError(`operator '${n.name}' has invalid parallelism ${p}`, n.name);
    const problem = validateMaxParallelism(config.maxParallelism, p);
    if (problem) throw graphError(`operator '${n.name}': ${problem}`, n.name);
  }

  const consumers = new Map<number, number[]>();
  for (const n of nodes)
    for (const input of n.inputs) {
      const list = consumers.get(input.from) ?? [];
      list.push(n.id);
      consumers.set(input.from, list);
    }
  for (const n of nodes) {
    if (n.inputs.length === 0 && n.type !== 'source') throw graphError(`operator '${n.name}' has no input`, n.name);
  }

  // Resolve partitioners.
  const resolved = nodes.map((n) =>
    n.inputs.map((input) => {
      const from = parallelism[input.from];
      const to = parallelism[n.id];
      let kind: PartitionerKind;
      if (input.partitioner.kind === 'auto') kind = from === to ? 'forward' : 'rebalance';
      else kind = input.partitioner.kind;
      if (kind === 'forward' && from !== to) {
        throw graphError(
          `forward partitioning does not allow a change of parallelism: '${nodes[input.from].name}' (${from}) -> '${n.name}' (${to}); use rebalance() or rescale()`,
          n.name,
        );
      }
      return {
        from: input.from,
        kind,
        keySelector: input.partitioner.kind === 'hash' ? input.partitioner.keySelector : undefined,
        sideOutputTag: input.sideOutputTag,
        inputIndex: input.inputIndex ?? 1,
      };
    }),
  );

  // Chain: a node joins its input's chain on a forward edge with equal parallelism, if both allow it.
  const chainedTo = new Array<number | undefined>(nodes.length).fill(undefined);
  for (const n of nodes) {
    if (n.inputs.length !== 1 || n.twoInput) continue;
    const input = resolved[n.id][0];
    const up = nodes[input.from];
    if (input.kind === 'forward' && n.chainable && up.chainable && parallelism[up.id] === parallelism[n.id] && up.type !== 'sink') {
      chainedTo[n.id] = up.id;
    }
  }
  const headOf = (id: number): number => {
    let h = id;
    while (chainedTo[h] !== undefined) h = chainedTo[h] as number;
    return h;
  };

  const nameCounts = new Map<string, number>();
  for (const n of nodes) nameCounts.set(n.name, (nameCounts.get(n.name) ?? 0) + 1);
  const nodeNames = nodes.map((n) => ((nameCounts.get(n.name) ?? 0) > 1 ? `${n.name} #${n.id}` : n.name));

  const vertexOfNode = new Array<number>(nodes.length);
  const vertices: JobVertex[] = [];
  for (const n of nodes) {
    const head = headOf(n.id);
    if (head === n.id) {
      vertexOfNode[n.id] = vertices.length;
      vertices.push({
        id: vertices.length,
        name: '',
        parallelism: parallelism[n.id],
        nodes: [n.id],
        chainedOutputs: new Map(),
        networkOutputs: new Map(),
        inputs: [],
      });
    } else {
      const v = vertices[vertexOfNode[head]];
      vertexOfNode[n.id] = v.id;
      v.nodes.push(n.id);
      const from = chainedTo[n.id] as number;
      const list = v.chainedOutputs.get(from) ?? [];
      list.push({ to: n.id, sideOutputTag: resolved[n.id][0].sideOutputTag });
      v.chainedOutputs.set(from, list);
    }
  }
  for (const v of vertices) {
    (v as { name: string }).name = v.nodes
      .map((id) => (nodes[id].type === 'source' ? `Source: ${nodeNames[id]}` : nodeNames[id]))
      .join(' -> ');
  }

  const edges: JobEdge[] = [];
  for (const n of nodes) {
    if (chainedTo[n.id] !== undefined) continue;
    for (const input of resolved[n.id]) {
      const edge: JobEdge = {
        id: edges.length,
        sourceNode: input.from,
        targetNode: n.id,
        sourceVertex: vertexOfNode[input.from],
        targetVertex: vertexOfNode[n.id],
        partitioner: input.kind,
        keySelector: input.keySelector,
        sideOutputTag: input.sideOutputTag,
        inputIndex: input.inputIndex,
        name: `${nodeNames[input.from]} -> ${nodeNames[n.id]}`,
      };
      edges.push(edge);
      const source = vertices[edge.sourceVertex];
      const list = source.networkOutputs.get(input.from) ?? [];
      list.push(edge);
      source.networkOutputs.set(input.from, list);
      vertices[edge.targetVertex].inputs.push(edge);
    }
  }

  const collectIds = nodes.filter((n) => n.collectId !== undefined).map((n) => n.collectId as string);
  const dup = collectIds.find((id, i) => collectIds.indexOf(id) !== i);
  if (dup !== undefined) throw graphError(`two collect sinks share the id '${dup}'`);
  const uids = nodes.filter((n) => n.uid !== undefined).map((n) => n.uid as string);
  const dupUid = uids.find((id, i) => uids.indexOf(id) !== i);
  if (dupUid !== undefined) throw graphError(`two operators share the uid '${dupUid}'`);

  const slots = Math.max(...vertices.map((v) => v.parallelism));
  const shape = {
    job: config.jobName,
    maxParallelism: config.maxParallelism,
    batchSize: config.batchSize,
    credits: config.credits,
    bufferTimeoutMs: config.bufferTimeoutMs,
    autoWatermarkIntervalMs: config.autoWatermarkIntervalMs,
    checkpointing: config.checkpointing?.mode ?? null,
    nodes: nodes.map((n) => [n.id, n.type, nodeNames[n.id], n.uid ?? null, parallelism[n.id], n.keyed, n.chainable, n.collectId ?? null]),
    vertices: vertices.map((v) => v.nodes),
    edges: edges.map((e) => [e.sourceNode, e.targetNode, e.partitioner, e.sideOutputTag ?? null, e.inputIndex]),
  };
  const fingerprint = createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 32);

  return {
    config,
    streamGraph: graph,
    vertices,
    edges,
    nodeParallelism: parallelism,
    nodeNames,
    vertexOfNode,
    operatorIds: nodes.map((n) => n.uid ?? `${n.id}-${n.type}`),
    collectIds,
    slots,
    fingerprint,
  };
}
