/** `import { evaluateRun } from 'visemo/evaluate'`: score a trained run, compare models on the same faces, audit accuracy by group of people. */
export { evaluateRun } from './evaluation/evaluate.js';
export type { EvaluateOptions } from './evaluation/evaluate.js';
export type { Metrics } from './evaluation/types.js';
export { compareModels } from './evaluation/compare.js';
export { runAudit } from './evaluation/run-audit.js';
export type { AuditOptions, AuditResult } from './evaluation/run-audit.js';
export { auditBreakdown } from './evaluation/audit.js';
export { writeAuditReport } from './report/audit-report.js';
