// Media types of Clair's API (openapi.yaml): each body has a vendor type application/vnd.clair.<name>.v1+json and
// may also be sent or asked for as application/json.

export const JSON_TYPE = 'application/json';

export function clairType(name: string): string {
  return `application/vnd.clair.${name}.v1+json`;
}

/** "Application/JSON; charset=utf-8" → "application/json"; undefined when absent. */
export function mediaTypeOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  return t === '' ? undefined : t;
}

/**
 * Picks the answer's type from the Accept header, as Clair's pickContentType: entries ordered by q (stable), the
 * first one matching an offered type (wildcards allowed) wins; no Accept means the first offered type.
 * undefined when nothing offered is acceptable (Clair answers 415 then).
 */
export function negotiate(accept: string | undefined, offered: readonly string[]): string | undefined {
  if (accept === undefined || accept.trim() === '') return offered[0];
  const entries: { type: string; sub: string; q: number }[] = [];
  for (const part of accept.split(',')) {
    const [range, ...params] = part.split(';');
    const m = /^\s*([a-z0-9!#$&^_.+*-]+)\/([a-z0-9!#$&^_.+*-]+)\s*$/i.exec(range ?? '');
    if (!m) continue; // a malformed entry is skipped, not fatal: the others may still match
    let q = 1;
    for (const p of params) {
      const qm = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (qm) q = Number(qm[1]);
    }
    if (q > 0) entries.push({ type: m[1]!.toLowerCase(), sub: m[2]!.toLowerCase(), q });
  }
  if (entries.length === 0) return offered[0];
  entries.sort((a, b) => b.q - a.q);
  for (const e of entries) {
    for (const o of offered) {
      const [t, s] = o.split('/') as [string, string];
      if ((e.type === '*' && e.sub === '*') || (e.type === t && (e.sub === '*' || e.sub === s))) return o;
    }
  }
  return undefined;
}
