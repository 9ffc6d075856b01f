//! Seeing a running job: the metrics registry, the REST server with Prometheus and the dashboard, and the watermark explainer.

export { MetricsRegistry, computeRates } from './registry.ts';
export type { JobRates, MetricsRegistryOptions, ObservedJob, RateSample, SubtaskRates } from './registry.ts';
export { buildObserverApp, isLoopback, startObserver } from './server.ts';
export type { Observer, ObserverOptions } from './server.ts';
export { IDLENESS_HINT_AFTER_MS, explainWatermarks, formatAgo, formatTime } from './explain.ts';
export type { ExplainedOperator, WatermarkExplanation, WatermarkHop, WatermarkOrigin } from './explain.ts';
export { METRIC_PREFIX, createPrometheusExporter } from './prometheus.ts';
export type { PrometheusExporter } from './prometheus.ts';
export { resolveSavepointTarget } from './rest-savepoints.ts';
export type { TargetCheck } from './rest-savepoints.ts';
