import type { Repository } from '../../model/repository.ts';

/** Go modules, the toolchain (`stdlib`) included, are associated with the Go module proxy (matchers select "go"). */
export const goRepository: Repository = { name: 'go', key: '', uri: 'https://proxy.golang.org/', cpe: '' };
