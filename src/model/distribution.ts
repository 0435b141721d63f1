// The operating system an image (or a vulnerability record) belongs to; fields follow os-release(5).
export interface Distribution {
  /** os-release ID, e.g. "debian", "rhel". */
  did: string;
  name: string;
  version: string;
  versionId: string;
  versionCodeName: string;
  arch: string;
  cpe: string;
  prettyName: string;
}

export function emptyDistribution(): Distribution {
  return { did: '', name: '', version: '', versionId: '', versionCodeName: '', arch: '', cpe: '', prettyName: '' };
}

/** A stable key: two distributions with the same key are the same release. */
export function distributionKey(d: Distribution): string {
  return [d.did, d.versionId, d.versionCodeName, d.cpe, d.arch].join('|');
}
