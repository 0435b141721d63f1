import type { Repository } from '../../model/repository.ts';

/** Every Python package is associated with PyPI (the contract language matchers select by: name "pypi"). */
export const pypiRepository: Repository = { name: 'pypi', key: '', uri: 'https://pypi.org/simple', cpe: '' };
