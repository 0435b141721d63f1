import { readFileSync } from 'node:fs';
import type { EcosystemOptions } from '../ecosystems/registry.ts';
import { parseRepositoryCpeMapping } from '../ecosystems/rhel/repository-to-cpe.ts';
import { ClairError } from '../model/errors.ts';

// The ecosystems' options, from the config file and the environment: the one place that reads what an ecosystem is
// built from (ecosystems/registry.ts buildEcosystems), so no ecosystem reads process.env or caches a file itself.
// `serve` passes its config; the other commands have no config file and pass the environment alone.

/** Named before the config key existed (README, Red Hat); like every environment variable, it wins over the file. */
export const REPO2CPE_ENV = 'CLAIR_TS_RHEL_REPO2CPE';
const REPO2CPE_KEY = 'indexer.scanner.repo.rhel-repository-scanner.repo2cpe_mapping_file';

export interface EcosystemSettings {
  /** The config's REPO2CPE_KEY. */
  rhelRepositoryCpeMappingFile?: string;
}

/** Reads the files the settings name. Throws ClairError('bad-input') naming the key or variable of a bad file. */
export function loadEcosystemOptions(settings: EcosystemSettings, env: NodeJS.ProcessEnv): EcosystemOptions {
  const fromEnv = env[REPO2CPE_ENV];
  const path = fromEnv || settings.rhelRepositoryCpeMappingFile;
  if (!path) return {};
  const source = fromEnv ? `${REPO2CPE_ENV}=${path}` : `${REPO2CPE_KEY} ${path}`;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ClairError('bad-input', `${source} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { rhel: { repositoryCpeMapping: parseRepositoryCpeMapping(bytes, path) } };
}
