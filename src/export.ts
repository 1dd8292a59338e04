/** `import { exportModel } from 'visemo/export'`: a model as an ONNX file (running it needs onnxruntime-node). */
export { exportModel } from './export/export-model.js';
export type { ExportResult } from './export/export-model.js';
