import type { Ecosystem } from '../ecosystem.ts';
import { contentManifestScanner } from './content-manifest-scanner.ts';
import { rhelMatcher } from './matcher.ts';
import { rhelReleaseScanner } from './release-scanner.ts';
import { rhelVexUpdater } from './updater.ts';

// The Red Hat family: packages from rpm databases (src/ecosystems/rpm, registered on its own), the release from
// os-release or the family's release files, repositories from Red Hat content manifests; vulnerabilities from
// Red Hat's CSAF VEX, matched by package, module stream, product CPE and EVR.
export const rhel: Ecosystem = {
  name: 'rhel',
  scanners: [rhelReleaseScanner, contentManifestScanner],
  updaters: [rhelVexUpdater],
  matchers: [rhelMatcher],
};
