import { apkMatcher } from '../apk/matcher.ts';
import { WOLFI_SCHEME } from './releases.ts';

// Rolling distributions: every image of the distribution matches every record of its feed (release "").
export const wolfiMatcher = apkMatcher({ name: 'wolfi', did: 'wolfi', updaterPrefix: 'wolfi', release: () => '', scheme: () => WOLFI_SCHEME });
export const chainguardMatcher = apkMatcher({ name: 'chainguard', did: 'chainguard', updaterPrefix: 'chainguard', release: () => '', scheme: () => WOLFI_SCHEME });
