/**
 * What a compute backend gives the registry in backend.ts, kept apart from the registry (as
 * onnxruntime-common keeps `Backend` apart from `registerBackend`) so that a backend's module
 * depends on this interface only and the registry can load it lazily without an import cycle.
 */
export interface Backend {
  /** Registers the backend with tfjs; returns why it is unavailable, or null when ready. */
  prepare(): Promise<string | null>;
}
