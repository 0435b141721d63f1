import { emptyDistribution, type Distribution } from '../../model/distribution.ts';

// The Red Hat family's one-line release files (etc/redhat-release, centos-release, rocky-release,
// almalinux-release, fedora-release, oracle-release, system-release) for images without os-release (RHEL/CentOS
// 6 and older) or where os-release is missing. The IDs are the os-release IDs of the same releases, so a report
// names a distribution the same way whichever file it came from.

interface ReleaseRule {
  re: RegExp;
  did: string;
  name: string;
}

// Order matters: the most specific text first ("CentOS Stream" before "CentOS", "Oracle" before "Red Hat").
const RULES: ReleaseRule[] = [
  { re: /^CentOS Stream release (\S+)/, did: 'centos', name: 'CentOS Stream' },
  { re: /^CentOS(?: Linux)? release (\S+)/, did: 'centos', name: 'CentOS Linux' },
  { re: /^Rocky Linux release (\S+)/, did: 'rocky', name: 'Rocky Linux' },
  { re: /^AlmaLinux release (\S+)/, did: 'almalinux', name: 'AlmaLinux' },
  { re: /^Fedora release (\S+)/, did: 'fedora', name: 'Fedora Linux' },
  { re: /^Oracle Linux Server release (\S+)/, did: 'ol', name: 'Oracle Linux Server' },
  { re: /^Amazon Linux(?: AMI)? release (\S+)/, did: 'amzn', name: 'Amazon Linux' },
  { re: /^Red Hat Enterprise Linux.*? release (\S+)/, did: 'rhel', name: 'Red Hat Enterprise Linux' },
];

/** The distribution a release file names; undefined when the first line is none of the family's. */
export function distributionFromReleaseFile(text: string, cpe = ''): Distribution | undefined {
  const line = text.split('\n')[0]!.trim();
  for (const rule of RULES) {
    const m = rule.re.exec(line);
    if (!m) continue;
    const versionId = m[1]!;
    return {
      ...emptyDistribution(),
      did: rule.did,
      name: rule.name,
      version: line.slice(line.indexOf(versionId)),
      versionId,
      prettyName: line,
      cpe,
    };
  }
  return undefined;
}

/** etc/system-release-cpe holds one CPE name; undefined when the text is not one. */
export function parseSystemReleaseCpe(text: string): string | undefined {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  return /^cpe:(\/|2\.3:)\S+$/.test(line) ? line : undefined;
}
