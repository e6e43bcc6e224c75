export { runGate, GATE_DEFAULTS, GateUsageError, type GateInput, type GateResult, type GateRun, type GateSettings, type ScenarioGate } from './run.ts';
export { compareMetric, type CompareOptions, type MetricComparison } from './compare.ts';
export { readBaseline, writeBaseline, currentMachine, machineDifferences, type Baseline, type Machine } from './baseline.ts';
export { GATE_METRICS, GATE_METRIC_NAMES, readGateMetrics, type GateMetric } from './metrics.ts';
export { mannWhitneyGreater, median, type RankTest } from './stats.ts';
export { gateMarkdown, verdictOf } from './markdown.ts';
export { gateJUnit } from './junit.ts';
export { writeGateOutputs, type GateFiles } from './write.ts';
export { measureRun, type MeasureInput, type Measured } from './measure.ts';
