/** `import { startServer } from 'visemo/server'`: the web app's HTTP server (the page and POST /api/recognize). */
export { startServer } from './server/server.js';
export type { ServerOptions, RunningServer } from './server/server.js';
export { SERVER_DEFAULTS, type ServerConfig } from './config/inference.js';
