/** Types for scripts/schema-registry.mjs (a real Confluent-compatible schema registry for integration tests). */
export declare const APICURIO_VERSION: string;
export declare const CCOMPAT_PATH: string;

export interface StartRegistryOptions {
  kafkaBrokers?: string;
  port?: number;
  heap?: string;
  startTimeoutMs?: number;
  cacheDir?: string;
}

export interface TestSchemaRegistry {
  /** The Confluent API base URL, `http://127.0.0.1:PORT/apis/ccompat/v7`. */
  readonly url: string;
  readonly port: number;
  readonly version: string;
  readonly logFile: string;
  readonly startupMs: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export declare function startRegistry(options?: StartRegistryOptions): Promise<TestSchemaRegistry>;
export declare function ensureRegistryBuild(options?: { cacheDir?: string }): Promise<string>;
