import type { Command } from 'commander';
import path from 'node:path';
import { parseClassOption } from '../../data/classes.js';
import { GROUP_BY_HELP } from '../../evaluation/audit-groups.js';
import { DEFAULT_MIN_GROUP } from '../../evaluation/audit.js';
import { formatAudit } from '../../evaluation/audit-format.js';
import { runAudit } from '../../evaluation/run-audit.js';
import { checkAuditOutput, writeAuditReport } from '../../report/audit-report.js';
import type { InferenceBackendChoice } from '../../engine/backend.js';
import type { DetectorChoice } from '../../image/face-detector.js';
import { action } from '../run-action.js';
import { addHelpFooter } from '../help.js';
import { detectorOption, inferenceBackendOption, intOption, minFaceScoreOption, TTA_HELP, MODELS_HELP } from '../options.js';

interface AuditCliOptions {
  models: string;
  groupBy: string;
  out?: string;
  force?: boolean;
  crops?: boolean;
  classes: string;
  minGroup: number;
  detector: DetectorChoice;
  minFaceScore: number;
  tta?: boolean;
  backend: InferenceBackendChoice;
  json?: boolean;
}

export function registerAudit(program: Command): void {
  const cmd = program
    .command('audit')
    .description(
      'does a model work as well for every group of people? accuracy, macro F1 and recall per group with 95 % intervals, a chi-square test and every two groups compared (Holm-corrected), McNemar between models per group, and a report with charts',
    )
    .argument('<data...>', 'folders of images, one subfolder per class (a train/val/test folder: its test/ split)')
    .requiredOption('--models <list>', MODELS_HELP)
    .requiredOption('--group-by <rule>', GROUP_BY_HELP)
    .option('-o, --out <dir>', 'write audit.json, predictions.csv, report.html, report.md, figures/ and tables/ (CSV) into this folder')
    .option('--force', 'replace an earlier audit (or other files) in --out')
    .option('--crops', 'the images are face crops already: classify them whole (default: photos, the face found by the detector)')
    .option('--classes <list>', "classes to score: 'all' (every class folder of the data), 'paper' (the six) or a comma list every model knows", 'all')
    .option('--min-group <n>', 'groups with fewer images are shown but left out of the between-group tests', intOption('--min-group', 1), DEFAULT_MIN_GROUP)
    .addOption(detectorOption("face detector for photos: 'auto' and 'ssd' (SSD, predict's default on images), 'tiny' or 'blazeface'"))
    .addOption(minFaceScoreOption())
    .option('--tta', TTA_HELP)
    // wasm by default, as compare: face-api's expression net runs natively there.
    .addOption(inferenceBackendOption('wasm', "compute backend: 'auto' takes the fastest available (native oneDNN, else wasm)"))
    .option('--json', 'print audit.json on stdout instead of the tables');
  addHelpFooter(cmd, {
    note:
      'Each image gets a group from --group-by: a regular expression is matched against its path inside its DATA folder (class folder included) and its first capture group names the group; ' +
      "a CSV names each file (relative to the CSV's folder or to a DATA folder) in its first column and gives one breakdown per other column; dataset makes each DATA folder a group. " +
      "Images without a group are left out. Intervals are 95 % Wilson (differences: Newcombe); pairs of groups are compared with Fisher's exact test, Holm-corrected.",
    examples: [
      "visemo audit faces/ --models visemo7,faceapi --group-by '_[FM]-([A-Z]+)-' -o audit-origin",
      'visemo audit ../shared/datasets/cfee/basic --models visemo7 --group-by people.csv -o audit-cfee',
      'visemo audit ../shared/datasets/ckplus48 ../shared/datasets/facial_expressions --crops --classes paper --models visemo7,faceapi --group-by dataset',
    ],
  }).action(
    action(async (data: string[], o: AuditCliOptions) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const models = o.models
        .split(',')
        .map((m) => m.trim())
        .filter((m) => m.length > 0);
      const out = o.out ? path.resolve(o.out) : undefined;
      if (out) await checkAuditOutput(out, o.force);
      const { result, predictions } = await runAudit({
        data,
        models,
        groupBy: o.groupBy,
        crops: o.crops,
        classes: o.classes === 'all' ? 'all' : parseClassOption(o.classes),
        minGroup: o.minGroup,
        detector: o.detector,
        minFaceScore: o.minFaceScore,
        tta: o.tta,
        backend: o.backend,
        log,
      });
      const written = out ? await writeAuditReport(out, result, predictions) : undefined;
      if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(`${formatAudit(result)}\n`);
      const groups = result.breakdowns
        .map((b) => `${b.models[0]?.groups.length ?? 0} group${b.models[0]?.groups.length === 1 ? '' : 's'} by ${b.name}`)
        .join(', ');
      const shown = (file: string) => (path.relative(process.cwd(), file).startsWith('..') ? file : path.relative(process.cwd(), file));
      log(
        `audited ${result.scored} images in ${groups} with ${models.length} model${models.length === 1 ? '' : 's'} in ${result.seconds.toFixed(1)} s` +
          (written ? `; written ${shown(written.html)} (also report.md, audit.json, predictions.csv, figures/, tables/)` : ''),
      );
    }),
  );
}
