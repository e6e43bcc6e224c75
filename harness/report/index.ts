export { buildReport, exitCodeFor, faultWindows, generatorHealth, SATURATION, type ReportInput } from './build.ts';
export { collectEnvironment } from './environment.ts';
export { toMarkdown } from './markdown.ts';
export { formatSummary } from './summary.ts';
export { readReport, writeReport, REPORT_JSON, REPORT_MD, type WrittenReport } from './write.ts';
export type { Counts, FaultWindow, GeneratorHealth, Report, StageLatency, TimelinePoint } from './types.ts';
export { CHARTS, REPORT_HTML, toHtml, writeHtmlReport } from './html.ts';
export { evaluateRun, recheckRunDir, thresholdSpecOf, type EvaluateInput, type RecheckOptions } from './evaluate.ts';
