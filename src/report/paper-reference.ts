/**
 * The numbers Iliev & Mote (2022) publish, as data, each with the table or figure it comes from,
 * so the report can put this run's values beside the paper's. Transcribed from
 * shared/paper/visual-emotion-recognition-iliev-mote-2022.md; nothing here is computed.
 */

export const PAPER_CITATION = 'Iliev & Mote (2022), "Visual Emotion Recognition Using Deep Neural Networks"';

/** The paper's dataset: eNTERFACE'05 video frames, augmented (15° rotation, noise, monochrome). */
export const PAPER_DATASET = "eNTERFACE'05 frames (augmented: 15° rotation, noise, monochrome)";

/** How the paper split its data: it does not say; Table 1 only gives the counts. */
export const PAPER_SPLIT = 'not stated in the paper (frames of the same subjects and videos may appear in train and test)';

export interface PaperValue<T> {
  /** "Table 1", "Fig. 4", … */
  source: string;
  value: T;
}

type Split = 'train' | 'val' | 'test';

/** Table 1: images per class and split. */
export const PAPER_TABLE1: PaperValue<Record<string, Record<Split, number>>> = {
  source: 'Table 1',
  value: {
    happiness: { train: 1922, test: 241, val: 240 },
    anger: { train: 1896, test: 237, val: 237 },
    sadness: { train: 1922, test: 241, val: 240 },
    disgust: { train: 1891, test: 237, val: 236 },
    fear: { train: 1922, test: 241, val: 240 },
    surprise: { train: 1922, test: 241, val: 240 },
  },
};

/** Fig. 4: per-channel (RGB) mean and standard deviation of the training images on 0–1 pixels. */
export const PAPER_FIG4: PaperValue<{ mean: number[]; std: number[] }> = {
  source: 'Fig. 4',
  value: {
    mean: [0.21988911368700648, 0.21988911368700648, 0.21988911368700648],
    std: [0.2091009344354088, 0.2091009344354088, 0.2091009344354088],
  },
};

export interface PaperSizeReference {
  size: number;
  /** Figs. 3.1–3.3: total parameters of the model summary (6 classes, 3 input channels). */
  params: PaperValue<number>;
  /** Table 2: seconds per epoch on the paper's CPU and GPU (Google Colab, K80). */
  secondsPerEpoch: PaperValue<{ cpu: number; gpu: number }>;
  /** Section 2 text: total training time in minutes. */
  totalMinutes: PaperValue<number>;
  /** Section 2 text: test and train accuracy, percent. */
  testAccuracy: PaperValue<number>;
  trainAccuracy: PaperValue<number>;
  /** Tables 3 and 4: per-class precision and recall, where the paper gives them. */
  perClass?: PaperValue<Record<string, { precision: number; recall: number }>>;
  /** Which accuracy/loss and confusion figures the paper shows for this size. */
  curvesFigure: string;
  confusionFigure: string;
  summaryFigure: string;
}

export const PAPER_SIZES: PaperSizeReference[] = [
  {
    size: 100,
    params: { source: 'Fig. 3.1', value: 4_813_638 },
    secondsPerEpoch: { source: 'Table 2', value: { cpu: 430, gpu: 67 } },
    totalMinutes: { source: 'Section 2', value: 74 },
    testAccuracy: { source: 'Section 2', value: 90.75 },
    trainAccuracy: { source: 'Section 2', value: 96 },
    curvesFigure: 'Fig. 5',
    confusionFigure: 'Fig. 6',
    summaryFigure: 'Fig. 3.1',
  },
  {
    size: 50,
    params: { source: 'Fig. 3.2', value: 1_274_694 },
    secondsPerEpoch: { source: 'Table 2', value: { cpu: 137, gpu: 50 } },
    totalMinutes: { source: 'Section 2', value: 55 },
    testAccuracy: { source: 'Section 2', value: 87 },
    trainAccuracy: { source: 'Section 2', value: 94 },
    perClass: {
      source: 'Table 3',
      value: {
        anger: { precision: 0.96, recall: 0.98 },
        disgust: { precision: 0.91, recall: 0.93 },
        fear: { precision: 0.88, recall: 0.81 },
        happiness: { precision: 0.91, recall: 0.8 },
        sadness: { precision: 0.85, recall: 0.93 },
        surprise: { precision: 0.88, recall: 0.93 },
      },
    },
    curvesFigure: 'Fig. 7',
    confusionFigure: 'Fig. 8',
    summaryFigure: 'Fig. 3.2',
  },
  {
    size: 20,
    params: { source: 'Fig. 3.3', value: 226_118 },
    secondsPerEpoch: { source: 'Table 2', value: { cpu: 66, gpu: 36 } },
    totalMinutes: { source: 'Section 2', value: 48 },
    testAccuracy: { source: 'Section 2', value: 72.39 },
    trainAccuracy: { source: 'Section 2', value: 78 },
    perClass: {
      source: 'Table 4',
      value: {
        anger: { precision: 0.98, recall: 0.83 },
        disgust: { precision: 0.71, recall: 0.77 },
        fear: { precision: 0.74, recall: 0.54 },
        happiness: { precision: 0.68, recall: 0.7 },
        sadness: { precision: 0.61, recall: 0.79 },
        surprise: { precision: 0.72, recall: 0.73 },
      },
    },
    curvesFigure: 'Fig. 9',
    confusionFigure: 'Fig. 10',
    summaryFigure: 'Fig. 3.3',
  },
];

/** The paper's reference for an input size, or undefined for a size the paper did not try. */
export function paperForSize(size: number): PaperSizeReference | undefined {
  return PAPER_SIZES.find((p) => p.size === size);
}
