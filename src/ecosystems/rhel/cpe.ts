// CPE names as Red Hat uses them: the URI binding "cpe:/part:vendor:product:version:update:edition:language"
// (CPE 2.2, NISTIR 7695 §6.1), in os-release CPE_NAME, system-release-cpe, repository-to-cpe.json and VEX
// product_identification_helper. The formatted-string binding "cpe:2.3:…" is read too. An empty attribute is ANY.

export interface Cpe {
  part: string;
  vendor: string;
  product: string;
  version: string;
  update: string;
  edition: string;
  language: string;
}

const ATTRS = ['part', 'vendor', 'product', 'version', 'update', 'edition', 'language'] as const;

/** undefined when `s` is not a CPE name in either binding. Values are lower-cased and percent-decoded. */
export function parseCpe(s: string): Cpe | undefined {
  let fields: string[];
  if (s.startsWith('cpe:/')) fields = s.slice(5).split(':');
  else if (s.startsWith('cpe:2.3:')) fields = s.slice(8).split(':').map((f) => (f === '*' || f === '-' ? '' : f));
  else return undefined;
  if (fields.length > 13 || fields[0] === undefined || !/^[aho]?$/.test(fields[0])) return undefined;
  const out = {} as Record<(typeof ATTRS)[number], string>;
  ATTRS.forEach((a, i) => {
    let v = (fields[i] ?? '').toLowerCase();
    try {
      v = decodeURIComponent(v);
    } catch {
      // a stray '%' stays as written
    }
    out[a] = v;
  });
  return out;
}

/**
 * Does the record's CPE (from the feed) name the image's CPE? Every attribute the record sets must equal the
 * image's; a trailing "*" in a record attribute is a prefix wildcard and "?" one character, as Red Hat writes
 * version ranges ("cpe:/a:redhat:openshift:4.1*"). An attribute the record leaves empty matches anything.
 */
export function cpeMatches(record: Cpe, image: Cpe): boolean {
  // A record for a whole product ("cpe:/o:redhat:enterprise_linux:9", how known_affected entries are named) has
  // no edition; it covers every repository of that product, AppStream ("a") as much as BaseOS ("o").
  const attrs = record.edition === '' ? ATTRS.filter((a) => a !== 'part') : ATTRS;
  return attrs.every((a) => attributeMatches(record[a], image[a]));
}

function attributeMatches(pattern: string, value: string): boolean {
  if (pattern === '') return true;
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return re.test(value);
}

/**
 * The looser test used when an image names no repositories, only its release (os-release CPE_NAME, e.g.
 * "cpe:/o:redhat:enterprise_linux:9::baseos"): the record must be for the same vendor and product and the same
 * major version ("enterprise_linux:9" records from BaseOS and AppStream alike). Extended-support products
 * (rhel_eus, rhel_aus, …) have other product names and do not match.
 */
export function cpeMatchesRelease(record: Cpe, release: Cpe): boolean {
  if (record.vendor !== release.vendor || record.product !== release.product || record.product === '') return false;
  const major = (v: string) => v.split('.')[0] ?? '';
  return record.version === '' || major(record.version) === major(release.version);
}
