/** One colour per emotion, shared by annotated copies (predict --annotate) and the web page. No Node imports: the page bundles it. */
export const EMOTION_COLOURS: Record<string, string> = {
  anger: '#e53935',
  disgust: '#7cb342',
  fear: '#8e24aa',
  happiness: '#fdd835',
  sadness: '#1e88e5',
  surprise: '#fb8c00',
  neutral: '#9e9e9e',
  contempt: '#6d4c41',
};

export function colourFor(emotion: string): string {
  return EMOTION_COLOURS[emotion] ?? '#00acc1';
}
