// Type declarations for broker.mjs (the local single-node Kafka broker helper), so TypeScript tests can import it.

export declare const PROJECT_ROOT: string;
export declare const DEFAULT_KAFKA_VERSION: string;
export declare const TOOLS: Readonly<Record<string, string>>;

export declare function kafkaVersion(): string;
export declare function cacheDir(): string;
export declare function libDir(version?: string): string;
export declare function defaultDataDir(): string;
export declare function freePort(): Promise<number>;
export declare function tempDataDir(prefix?: string): string;

export interface FetchResult {
  libDir: string;
  version: string;
  /** true when nothing was downloaded */
  cached: boolean;
  ms: number;
}
export declare function fetchKafka(opts?: { version?: string; quiet?: boolean; timeoutMs?: number }): Promise<FetchResult>;

export interface StartOptions {
  /** default $WEIR_KAFKA_DATA_DIR or <root>/.weir-tmp/kafka */
  dataDir?: string;
  /** broker port; default: the port used before in this data dir, $WEIR_KAFKA_PORT, or a free one */
  port?: number;
  controllerPort?: number;
  /** wipe the data dir first */
  fresh?: boolean;
  /** extra or overriding server.properties entries */
  config?: Record<string, string | number | boolean>;
  startTimeoutMs?: number;
  /** keep the broker running after this process exits (default false: it gets SIGTERM on exit) */
  detached?: boolean;
  quiet?: boolean;
  version?: string;
}

export interface StopOptions {
  /** default 'SIGTERM'; 'SIGKILL' simulates a crash */
  signal?: NodeJS.Signals;
  /** how long to wait for a clean shutdown before SIGKILL; default 30000 or $WEIR_KAFKA_STOP_TIMEOUT_MS */
  timeoutMs?: number;
  /** delete the data dir after stopping */
  removeData?: boolean;
  quiet?: boolean;
}

export interface StopResult {
  /** false if no broker was running */
  stopped: boolean;
  /** true if it had to be SIGKILLed */
  forced: boolean;
  pid: number | null;
  ms: number;
}

export interface BrokerHandle {
  /** '127.0.0.1:PORT' */
  readonly bootstrap: string;
  readonly host: string;
  readonly port: number;
  readonly controllerPort: number;
  /** pid of the broker JVM (changes on restart) */
  readonly pid: number;
  /** the broker's log4j log file */
  readonly logFile: string;
  readonly dataDir: string;
  readonly clusterId: string;
  readonly version: string;
  /** true if startBroker found this broker already running and attached to it */
  readonly attached: boolean;
  readonly timings: { startMs: number; formatMs: number; fetch: FetchResult };
  stop(opts?: StopOptions): Promise<StopResult>;
  /** stop (if running) and start again on the same data dir and ports */
  restart(stopOpts?: StopOptions): Promise<BrokerHandle>;
}

export declare function startBroker(opts?: StartOptions): Promise<BrokerHandle>;
export declare function stopBroker(target?: StopOptions & { dataDir?: string; pid?: number }): Promise<StopResult>;

export interface BrokerStatus {
  dataDir: string;
  running: boolean;
  ready: boolean;
  pid?: number | null;
  port?: number;
  controllerPort?: number;
  bootstrap?: string;
  clusterId?: string;
  version?: string;
  logFile?: string;
  startedAt?: string;
  stoppedAt?: string;
}
export declare function brokerStatus(opts?: { dataDir?: string }): Promise<BrokerStatus>;

export type KafkaTarget =
  | (BrokerHandle & { external: false })
  | { bootstrap: string; external: true; pid: null; logFile: null; stop(): Promise<{ stopped: false }>; restart: undefined };
/** $WEIR_KAFKA_BOOTSTRAP when set (the user's cluster), else a local broker from startBroker(opts). */
export declare function ensureKafka(opts?: StartOptions): Promise<KafkaTarget>;

export declare function probeMetadata(
  port: number,
  host?: string,
  timeoutMs?: number,
): Promise<{ brokers: { nodeId: number; host: string; port: number }[]; clusterId: string | null; controllerId: number }>;

export declare function runKafkaTool(
  tool: string,
  args: string[],
  opts?: { input?: string; timeoutMs?: number; version?: string },
): Promise<{ code: number; output: string }>;

export declare function createTopic(
  bootstrap: string,
  topic: string,
  opts?: { partitions?: number; config?: Record<string, string | number> },
): Promise<void>;

export interface TxSmokeResult {
  ok: boolean;
  readCommitted: number;
  abortedSeen: number;
  readUncommitted: number;
  moved: number;
  output: number;
  committedOffsets: number;
  createTopicsMs: number;
  initTransactionsMs: number;
  produceMs: number;
  totalMs: number;
  wallMs: number;
}
export declare function runTxSmoke(bootstrap: string, opts?: { prefix?: string; timeoutMs?: number }): Promise<TxSmokeResult>;

/** Every record of `topic` as a read_committed consumer sees it, read up to each partition's last stable offset. */
export declare function readCommitted(
  bootstrap: string,
  topic: string,
  opts?: { timeoutMs?: number },
): Promise<{ partition: number; offset: number; key: string | null; value: string | null }[]>;
