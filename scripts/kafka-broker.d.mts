/** Types for scripts/kafka-broker.mjs (a real single-node Kafka broker for integration tests). */
export declare const DEFAULT_KAFKA_VERSION: string;

export interface StartBrokerOptions {
  version?: string;
  port?: number;
  controllerPort?: number;
  serverProperties?: Record<string, string | number | boolean>;
  heap?: string;
  initialHeap?: string;
  jvmArgs?: string[];
  startTimeoutMs?: number;
  cacheDir?: string;
  handleSignals?: boolean;
}

export interface KafkaTestBroker {
  readonly brokers: string;
  readonly host: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly version: string;
  readonly clusterId: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly startupMs: number;
  readonly pid: number | undefined;
  readonly running: boolean;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(options?: { downtimeMs?: number; hard?: boolean }): Promise<void>;
  pause(): void;
  resume(): void;
}

export interface ProbeResult {
  brokers: { nodeId: number; host: string; port: number }[];
  apiVersions: Map<number, { min: number; max: number }>;
  coordinatorError?: number;
}

export declare function startBroker(options?: StartBrokerOptions): Promise<KafkaTestBroker>;
export declare function ensureKafkaJars(version?: string, options?: { cacheDir?: string }): Promise<string>;
export declare function probeBroker(
  brokers: string,
  options?: { timeoutMs?: number; groupCoordinator?: boolean },
): Promise<ProbeResult>;
