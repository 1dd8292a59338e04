/** What `visemo worker` tells its job processes (sandbox.ts), in their environment: BullMQ passes them only the job. */
import type { BackendChoice } from '../engine/backend.js';

export interface SandboxConfig {
  out: string;
  backend: BackendChoice;
  batch: number;
  /** hostname:pid of the worker process. */
  worker: string;
}

export const SANDBOX_CONFIG_ENV = 'VISEMO_WORKER_SANDBOX';
