import path from 'node:path';
import { Option, type Command } from 'commander';
import { EXPORT_FORMATS, exportModel, type ExportFormat } from '../../export/export-model.js';
import { BUNDLED_MODELS } from '../../model/run-folder.js';
import { action } from '../run-action.js';
import { addHelpFooter } from '../help.js';

export function registerExport(program: Command): void {
  const cmd = program
    .command('export')
    .description(
      'write a model as an ONNX file for other runtimes (onnxruntime in Python, C++, C#, the browser), its preprocessing and classes in the metadata',
    )
    .argument('<model>', `a bundled model name (${Object.keys(BUNDLED_MODELS).join(', ')}) or a run folder written by visemo train`)
    .requiredOption('-o, --out <file>', 'the file to write, e.g. model.onnx (refused if it exists, unless --force)')
    .addOption(new Option('--format <format>', 'file format: ONNX, opset 13').choices([...EXPORT_FORMATS]).default('onnx'))
    .option('--force', 'replace the --out file');
  addHelpFooter(cmd, {
    note:
      "The graph takes float32 input 'input' [batch, channels, size, size] (NCHW), normalised as the model was trained, and gives\n" +
      "'probabilities' [batch, classes]. metadata_props hold classes, input_size, channels, input_layout, normalisation, face_cut and\n" +
      'preprocessing (in words). Before writing, onnxruntime-node must match tfjs within 1e-4 on random inputs.',
    examples: ['visemo export visemo7 -o visemo7.onnx', 'visemo export runs/ck50 --format onnx --out ck50.onnx --force'],
  }).action(
    action(async (model: string, o: { out: string; format: ExportFormat; force?: boolean }) => {
      const r = await exportModel(model, o.out, { format: o.format, force: o.force });
      const from = path.relative(process.cwd(), r.dir);
      process.stdout.write(
        `exported ${r.model} (${from.startsWith('..') || path.isAbsolute(from) ? r.dir : from}) to ${o.out}: ${(r.bytes / 1e6).toFixed(2)} MB, ONNX opset ${r.opset}, IR version ${r.irVersion}\n` +
          `checked: ${r.check.runtime} and tfjs (${r.check.tfjsBackend}) agree within ${r.check.maxDiff.toExponential(1)} on ${r.check.images} random inputs\n` +
          `metadata_props: ${r.metadataKeys.join(', ')}\n`,
      );
    }),
  );
}
