import { apkMatcher } from '../apk/matcher.ts';
import { alpineBranch, apkSchemeForRelease } from './releases.ts';

/** Alpine's secdb records of the image's branch, compared with the apk generation of the image's release. */
export const alpineMatcher = apkMatcher({
  name: 'alpine',
  did: 'alpine',
  updaterPrefix: 'alpine',
  release: alpineBranch,
  scheme: (d) => apkSchemeForRelease(d.versionId),
});
