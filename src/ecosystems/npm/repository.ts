import type { Repository } from '../../model/repository.ts';

/** Every npm package is associated with the npm registry (language matchers select by the name "npm"). */
export const npmRepository: Repository = { name: 'npm', key: '', uri: 'https://registry.npmjs.org/', cpe: '' };
