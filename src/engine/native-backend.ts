// Replaced by the native backend work (issue 6).
export async function registerNativeBackend(): Promise<string | null> {
  return 'native backend not built';
}
