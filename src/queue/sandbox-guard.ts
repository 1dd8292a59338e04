/**
 * Loaded (`--import`) into every job process of `visemo worker` before BullMQ's child wrapper.
 * When the worker process dies (killed, crashed), the wrapper's uncaughtException handler tries to
 * report the error over the closed IPC channel, which fails, which raises again: the orphan spins
 * at 100 % of a core for ever (seen after `kill -9` of a worker, BullMQ 5.81). A job process
 * without its worker has nobody to report to, so it ends, before that handler runs.
 */
process.on('disconnect', () => process.exit(1));
process.on('uncaughtException', () => {
  if (!process.connected) process.exit(1);
});
