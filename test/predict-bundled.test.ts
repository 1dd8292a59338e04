/**
 * The bundled models (models/<name>/, listed in BUNDLED_MODELS): the default one is bundled, and
 * each is at most 6 MB and reproduces the accuracy its MODEL_CARD.md states for a fixed subset of FER2013 publictest:
 * the first 50 images (by file name) of each of the model's classes (six, or seven with neutral), classified whole exactly as
 * training prepares images. Skipped, saying why, when the model or the dataset is absent.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it, test } from 'node:test';
import { EmotionRecognizer } from '../src/index.js';
import { BUNDLED_MODELS, DEFAULT_MODEL, resolveModel } from '../src/model/run-folder.js';
import { BUNDLED_DIR, DATASETS, hasBundled, REPO } from './predict-helpers.js';

const PUBLICTEST = path.join(DATASETS, 'fer2013', 'publictest');
const PER_CLASS = 50;
/** The line the model card must carry, e.g. "Fixed-subset check: 300 images, accuracy 55.33%". */
const CARD_LINE = /fixed-subset check:[^\n]*?accuracy\s+(\d+(?:\.\d+)?)\s*%/i;

const hasCard = (dir: string) => existsSync(path.join(dir, 'model.json')) && existsSync(path.join(dir, 'MODEL_CARD.md'));

test('the default model is bundled', { skip: hasBundled ? false : `the bundled model is not in this checkout (${BUNDLED_DIR})` }, async () => {
  const resolved = await resolveModel();
  assert.equal(resolved.name, DEFAULT_MODEL);
  assert.ok(resolved.bundled);
});

// Every bundled model: small enough to ship, and its card's figure reproduced.
for (const [name, folder] of Object.entries(BUNDLED_MODELS)) {
  const dir = path.join(REPO, 'models', folder);
  // A model folder without its card is a model still being trained: nothing to compare yet.
  const skip = !hasCard(dir)
    ? `the bundled model '${name}' is not in this checkout (${dir}/model.json and MODEL_CARD.md)`
    : !existsSync(PUBLICTEST)
      ? `${PUBLICTEST} is not there`
      : false;

  describe(`bundled model '${name}'`, { skip }, () => {
    it('is small enough to ship', async () => {
      const resolved = await resolveModel(name);
      assert.equal(resolved.dir, dir);
      const bytes = (await fs.stat(path.join(dir, 'weights.bin'))).size + (await fs.stat(path.join(dir, 'model.json'))).size;
      assert.ok(bytes <= 6 * 1024 * 1024, `model is ${(bytes / 1024 / 1024).toFixed(2)} MB, over 6 MB`);
    });

    it("reproduces its model card's accuracy on the fixed subset of FER2013 publictest", async () => {
      const recognizer = await EmotionRecognizer.load({ model: name });
      assert.ok([6, 7].includes(recognizer.classes.length), `${recognizer.classes.length} classes`);
      const files: string[] = [];
      const labels: number[] = [];
      for (const [k, cls] of recognizer.classes.entries()) {
        const names = (await fs.readdir(path.join(PUBLICTEST, cls))).sort().slice(0, PER_CLASS);
        assert.equal(names.length, PER_CLASS, `${cls} has fewer than ${PER_CLASS} test images`);
        for (const n of names) {
          files.push(path.join(PUBLICTEST, cls, n));
          labels.push(k);
        }
      }
      const results = await recognizer.recognizeMany(files, { detect: false });
      const correct = results.filter((faces, i) => faces[0]!.emotion === recognizer.classes[labels[i]!]).length;
      const accuracy = (100 * correct) / files.length;
      recognizer.dispose();

      console.log(`bundled model ${name}: ${accuracy.toFixed(2)}% on the fixed subset (${correct}/${files.length})`);
      const card = await fs.readFile(path.join(dir, 'MODEL_CARD.md'), 'utf8');
      const stated = CARD_LINE.exec(card);
      assert.ok(
        stated,
        `MODEL_CARD.md has no fixed-subset line; measured now: add "Fixed-subset check: ${files.length} images (the first ${PER_CLASS} per class of FER2013 publictest, by file name), accuracy ${accuracy.toFixed(2)}%"`,
      );
      // Deterministic: the same files, model and preprocessing give the same count (one image of slack for float differences across CPUs).
      assert.ok(Math.abs(accuracy - Number(stated[1])) <= 100 / files.length + 1e-9, `measured ${accuracy.toFixed(2)}%, the card says ${stated[1]}%`);
      // And far above chance (1/6 or 1/7), so a broken preprocessing cannot pass by matching a broken card.
      assert.ok(accuracy > 35, `accuracy ${accuracy.toFixed(2)}% is near chance`);
    });
  });
}
