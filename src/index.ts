/**
 * The package entry point (`vigil-llm`): the producer SDK for services, the OpenTelemetry bridge,
 * and the embeddable engine with its contracts, sources, sinks, rules and query API.
 */
export * from './sdk/index.js';
export * from './otel/index.js';
export * from './model/index.js';
export * from './codec/index.js';
export * from './rules/index.js';
export * from './sources/index.js';
export * from './sinks/index.js';
export { VigilError, isVigilError, ERROR_CODES } from './errors.js';
export type { ErrorCode } from './errors.js';
export { VigilEngine } from './engine/vigil-engine.js';
export type { VigilEngineOptions } from './engine/vigil-engine.js';
export { createEngine, loadRules, defaultRulesFile, demoRulesFile } from './engine/engine-factory.js';
export type { EngineSettings } from './engine/engine-factory.js';
export { parseConfig, loadConfigFile } from './config/vigil-config.js';
export type { VigilConfig } from './config/vigil-config.js';
export { createQueryServer } from './api/query-server.js';
export type { QueryServerOptions } from './api/query-server.js';
export { replayFile } from './runtime/replay.js';
export type { ReplayOptions, ReplayProgress, ReplaySummary } from './runtime/replay.js';
export { startKafkaRunner } from './runtime/kafka-runner.js';
export type { KafkaRunner } from './runtime/kafka-runner.js';
