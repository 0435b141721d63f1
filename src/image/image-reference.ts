// Parsing "transport:PATH[:…]" references. Paths may contain ':' themselves, so the split is decided
// by the file system, not by syntax:
//
//   oci:PATH[:TAG]       The ':' positions are tried from the right; the first one whose left side is
//                        an existing directory splits PATH from TAG (so a TAG may itself contain ':',
//                        e.g. oci:/srv/layout:docker.io/library/alpine:3.20). When no left side is a
//                        directory, the whole text is PATH. If both "/a" and "/a:b" are directories,
//                        "oci:/a:b" means tag "b" of /a.
//   docker-archive:PATH[:REPO:TAG]
//                        The same, with "existing file" instead of "existing directory"; what follows
//                        names the image in manifest.json RepoTags (e.g. docker-archive:x.tar:alpine:3.20,
//                        docker-archive:x.tar:localhost:5000/app:1).
//   dir:PATH             A directory tree indexed as one layer (directory-tree.ts); all of PATH is the path.

import { stat } from 'node:fs/promises';
import { ClairError } from '../model/errors.ts';

export type ImageReference =
  | { transport: 'oci'; path: string; tag?: string }
  | { transport: 'docker-archive'; path: string; imageName?: string }
  | { transport: 'dir'; path: string };

/** The local transports, in the form a reference takes: the parser, the CLI (what is not a registry) and the usage text. */
export const LOCAL_TRANSPORTS = [
  { transport: 'oci', form: 'oci:PATH[:TAG]' },
  { transport: 'docker-archive', form: 'docker-archive:PATH[:REPO:TAG]' },
  { transport: 'dir', form: 'dir:PATH' },
] as const satisfies readonly { transport: ImageReference['transport']; form: string }[];

/** skopeo's other local transports: recognised, so they are refused here rather than looked up in a registry. */
const UNSUPPORTED_LOCAL_TRANSPORTS = ['oci-archive'];

const USAGE = `expected ${LOCAL_TRANSPORTS.map((t) => t.form).join(', ').replace(/, ([^,]*)$/, ' or $1')}`;

/** Is `ref` written with a local transport prefix (supported or not) rather than as a registry reference? */
export function isLocalReference(ref: string): boolean {
  const transport = ref.slice(0, Math.max(0, ref.indexOf(':')));
  return LOCAL_TRANSPORTS.some((t) => t.transport === transport) || UNSUPPORTED_LOCAL_TRANSPORTS.includes(transport);
}

export async function parseImageReference(ref: string): Promise<ImageReference> {
  const colon = ref.indexOf(':');
  const transport = LOCAL_TRANSPORTS.find((t) => t.transport === (colon < 0 ? '' : ref.slice(0, colon)))?.transport;
  const rest = colon < 0 ? '' : ref.slice(colon + 1);
  if (transport === undefined) {
    throw new ClairError('bad-input', `image reference ${JSON.stringify(ref)}: unknown or missing transport prefix; ${USAGE}`);
  }
  if (rest === '') throw new ClairError('bad-input', `image reference ${JSON.stringify(ref)} has no path; ${USAGE}`);
  if (transport === 'dir') return { transport, path: rest };
  if (transport === 'oci') {
    const split = await splitAtExisting(rest, 'directory');
    if (split === undefined) return { transport, path: rest };
    return { transport, path: split.path, tag: split.suffix };
  }
  const split = await splitAtExisting(rest, 'file');
  if (split === undefined) return { transport, path: rest };
  return { transport, path: split.path, imageName: split.suffix };
}

async function splitAtExisting(text: string, kind: 'directory' | 'file'): Promise<{ path: string; suffix: string } | undefined> {
  for (let i = text.lastIndexOf(':'); i > 0; i = text.lastIndexOf(':', i - 1)) {
    const path = text.slice(0, i);
    const suffix = text.slice(i + 1);
    if (suffix === '') continue;
    const s = await stat(path).catch(() => undefined);
    if (s && (kind === 'directory' ? s.isDirectory() : !s.isDirectory())) return { path, suffix };
  }
  return undefined;
}
