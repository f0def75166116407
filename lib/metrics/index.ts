/** Metrics: the one port conditions and templates read through (CloudWatch in AWS, a local store in local mode), and the Evaluate decision. */
export { CloudWatchMetricSource } from './cloudwatch';
export type { CloudWatchMetricSourceOptions } from './cloudwatch';
export { InvalidMetricDataError, MetricError, MissingDimensionError, UnknownMetricError } from './errors';
export { evaluateStepCondition, verifyRecovery } from './evaluate';
export type { ConditionResult, Evaluation, EvaluationInput, RecoveryCheck } from './evaluate';
export { DEFAULT_MAX_POINTS_PER_SERIES, LocalMetricStore } from './local-store';
export type { LocalMetricStoreJSON, LocalMetricStoreOptions, MetricDatumInput, MetricInput, PutMetricDataInput } from './local-store';
export { requireMetric, resolveMetricName } from './source';
export type { MetricPoint, MetricQuery, MetricSource } from './source';
export { baseUnitsPerUnit, fromBaseUnits, isStandardUnit, toBaseUnits, unitKind } from './units';
export type { UnitKind } from './units';
export { BASELINE_NAMESPACE, DetectionRuleError, detectionAlarms, detectionOfMachine, HIGH_RESOLUTION_PERIOD, LOG_PATTERN_NAMESPACE, logFilterPattern, renderExpression, ruleText, SIGNAL_ALARM_PREFIX, TRIGGER_ALARM_PREFIX } from './detection';
export type { AlarmExpression, AlarmMetric, AlarmSpec, ComparisonOperator, DetectionInput, DetectionOptions, DetectionRule, SkippedRule, TreatMissingData } from './detection';
export { AlarmEvaluationError, baselineSeries, evaluateAlarm, evaluateAlarmFromSource, statistic } from './alarm-evaluation';
export type { AlarmDatapoint, AlarmEvaluation, AlarmEvaluationOptions, AlarmState } from './alarm-evaluation';
