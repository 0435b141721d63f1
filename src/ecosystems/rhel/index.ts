import type { Ecosystem } from '../ecosystem.ts';
import { contentManifestScanner } from './content-manifest-scanner.ts';
import { rhelMatcher } from './matcher.ts';
import { rhelReleaseScanner } from './release-scanner.ts';
import type { RepositoryCpeMapping } from './repository-to-cpe.ts';
import { rhelVexUpdater } from './updater.ts';

export interface RhelOptions {
  /** Red Hat's repository-to-CPE mapping, read by config/ (ecosystem-options.ts). */
  repositoryCpeMapping?: RepositoryCpeMapping;
}

// The Red Hat family: packages from rpm databases (src/ecosystems/rpm, registered on its own), the release from
// os-release or the family's release files, repositories from Red Hat content manifests; vulnerabilities from
// Red Hat's CSAF VEX, matched by package, module stream, product CPE and EVR.
export const rhel = (options: RhelOptions = {}): Ecosystem => ({
  name: 'rhel',
  scanners: [rhelReleaseScanner, contentManifestScanner(options.repositoryCpeMapping)],
  updaters: [rhelVexUpdater],
  matchers: [rhelMatcher],
});
