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
