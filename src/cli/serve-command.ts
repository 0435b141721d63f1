import { loadConfig } from '../config/load-config.ts';
import { ClairError, errorMessage } from '../model/errors.ts';
import { SERVE_MODES, startService, type ServeMode } from '../composition/start-service.ts';
import { EXIT_ERROR, EXIT_OK } from './cli-error.ts';
import type { CliIo } from './io.ts';

// `clair-ts serve`: Clair's v4 HTTP API until SIGTERM or SIGINT, then a graceful stop (in-flight requests finish,
// the store is closed) and exit code 0. The mode comes from --mode, else CLAIR_TS_MODE, else combo.

export interface ServeCommandOptions {
  config?: string;
  mode?: string;
  db?: string;
}

export function parseMode(text: string | undefined, from: string): ServeMode {
  const mode = text ?? 'combo';
  if (!(SERVE_MODES as readonly string[]).includes(mode)) throw new ClairError('bad-input', `${from} must be one of ${SERVE_MODES.join(', ')}, not "${mode}"`);
  return mode as ServeMode;
}

export async function serveCommand(o: ServeCommandOptions, io: CliIo, signals: NodeJS.EventEmitter = process): Promise<number> {
  const mode = o.mode !== undefined ? parseMode(o.mode, '--mode') : parseMode(io.env.CLAIR_TS_MODE, 'CLAIR_TS_MODE');
  const config = await loadConfig(o.config ?? (io.env.CLAIR_TS_CONFIG || undefined), io.env);
  const service = await startService(config, { mode, env: io.env, ...(o.db ? { db: o.db } : {}) });
  let failed = false;
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      signals.off('SIGTERM', onTerm);
      signals.off('SIGINT', onInt);
      service.logger.info({ signal }, 'shutting down');
      // A second signal while draining is not caught any more: it ends the process the default way.
      service.close().then(resolve, (e) => {
        service.logger.error({ err: errorMessage(e) }, 'error while shutting down');
        failed = true;
        resolve();
      });
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    signals.on('SIGTERM', onTerm);
    signals.on('SIGINT', onInt);
  });
  return failed ? EXIT_ERROR : EXIT_OK;
}
