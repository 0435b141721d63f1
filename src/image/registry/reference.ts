// Registry image references, parsed as Docker parses them: the grammar of distribution/reference
// (reference.go, regexp.go) and the Docker Hub normalization of normalize.go (ParseNormalizedNamed):
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [ domain "/" ] path-component ( "/" path-component )*
//   domain     := host [ ":" port ]          host: DNS labels joined by ".", or "[" IPv6 "]"
//   path-comp  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest     := algorithm ":" hex (at least 32 characters)
//
// The first component is a registry only when it contains "." or ":", is "localhost", or has an
// upper-case letter (which a repository path cannot); otherwise the registry is Docker Hub
// ("docker.io", served at registry-1.docker.io) and a one-part name gets "library/".
// name:tag@digest is accepted and the digest decides what is fetched, as in `docker pull`.

import { ClairError } from '../../model/errors.ts';

export interface ImageReference {
  /** Registry as the user means it: "docker.io", "quay.io", "localhost:5000", "[::1]:5000". */
  registry: string;
  /** Repository path inside the registry: "library/debian", "org/app". */
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API is served. */
const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
const DEFAULT_TAG = 'latest';
/** distribution/reference NameTotalLengthMax: registry + "/" + repository. */
const NAME_MAX_LENGTH = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const IMAGE_ID = /^[a-f0-9]{64}$/;

function bad(s: string, why: string): ClairError {
  return new ClairError('bad-input', `image reference ${JSON.stringify(s)}: ${why}`);
}

/** Parses "debian", "debian:bookworm", "quay.io/org/app@sha256:…", "localhost:5000/app:1.2". Throws 'bad-input'. */
export function parseReference(s: string): ImageReference {
  if (s === '') throw bad(s, 'is empty');
  if (/\s/.test(s)) throw bad(s, 'contains white space');
  if (IMAGE_ID.test(s)) throw bad(s, 'is a 64-character hexadecimal image ID, not a repository name; name the image by repository[:tag] or repository@digest');

  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(s, `digest ${JSON.stringify(digest)} is not of the form algorithm:hex (e.g. sha256:<64 hex digits>)`);
  }
  // A tag follows the last ':' only when no '/' comes after it; otherwise that ':' is a port.
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && !rest.slice(colon + 1).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(s, `tag ${JSON.stringify(tag)} is invalid (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')`);
  }
  if (rest === '') throw bad(s, 'has no repository name');

  let registry: string;
  let repository: string;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    registry = first;
    repository = rest.slice(slash + 1);
    if (!DOMAIN.test(registry)) throw bad(s, `registry ${JSON.stringify(registry)} is not a valid host[:port]`);
  } else {
    registry = DOCKER_HUB;
    repository = rest;
  }
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  if (repository === '') throw bad(s, 'has no repository name after the registry');
  if (repository !== repository.toLowerCase()) throw bad(s, `repository name ${JSON.stringify(repository)} must be lowercase`);
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      throw bad(s, `repository component ${JSON.stringify(component)} is invalid (lowercase letters and digits, separated by '.', '_', '__' or '-')`);
    }
  }
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (registry.length + 1 + repository.length > NAME_MAX_LENGTH) throw bad(s, `repository name is longer than ${NAME_MAX_LENGTH} characters`);

  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** The tag or digest to ask the registry for: the digest when there is one, else the tag, else "latest". */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? DEFAULT_TAG;
}

/** Canonical text: "docker.io/library/debian:bookworm", "quay.io/org/app@sha256:…". */
export function formatReference(ref: ImageReference): string {
  const name = `${ref.registry}/${ref.repository}`;
  if (ref.digest !== undefined) return ref.tag !== undefined ? `${name}:${ref.tag}@${ref.digest}` : `${name}@${ref.digest}`;
  return `${name}:${ref.tag ?? DEFAULT_TAG}`;
}

/** The host[:port] that serves the registry API for this registry name. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}
