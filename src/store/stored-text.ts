import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { LruCache } from '../model/lru-cache.ts';

// The stored form of a record's text (vuln_text.data: record-row.ts's JSON of description and links, the record's
// name as NAME_MARK). Texts are stored deflated (raw deflate) with a preset dictionary of what advisory texts
// repeat: language feeds carry real prose, and as plain JSON their texts were most of the database (the RustSec
// advisory-db: 924 KB of texts in 1,172 rows, 1.11 MB of a 1.48 MB SQLite file). A text is still found by the hash
// of its plain form (record-row.ts textHash): only the bytes stored change, not what makes two texts one.

/**
 * The preset dictionary of every stored text's deflate stream: link prefixes of the feeds, the text form's
 * separators, phrases of advisory prose (Go's note on unmapped versions, RustSec's crate notes), most frequent
 * last (closest to the text: the shortest distances). Chosen from the texts of the RustSec and Go databases and
 * the link forms of the OS feeds: RustSec's texts deflate to 0.53 of their size without it, 0.45 with it; Go's
 * 0.58 -> 0.39; a Debian text (a sentence and its tracker link) 0.77 -> 0.43.
 * Part of the stored format: changing it makes every stored text unreadable (it would take a migration rewriting
 * them). Raw inflate with it still reads a stream deflated without one.
 */
const TEXT_DICTIONARY = Buffer.from([
  // Prose.
  ' does not properly ', ' allows remote attackers to ', ' via a crafted ', ' denial of service ', ' arbitrary code execution',
  ' could allow an attacker to ', ' an attacker can ', ' can be exploited ', ' memory corruption', ' out-of-bounds ', ' use-after-free',
  ' buffer overflow', ' integer overflow', ' null pointer dereference', ' cross-site scripting (XSS)', ' SQL injection', ' path traversal',
  ' remote code execution', ' unauthenticated ', ' authentication ', ' authorization ', ' information disclosure', ' sensitive information',
  ' This vulnerability ', ' This issue ', ' has been fixed in version ', ' is fixed in ', ' Users are advised to upgrade',
  ' There are no known workarounds', ' prior to version ', ' versions prior to ', ' and earlier', ' is vulnerable to ',
  ' undefined behavior', ' `unsafe` ', ' `Send` ', ' `Sync` ', ' safe API ', ' implementation ', ' memory ',
  ' was removed from crates.io for malicious ', ' See the GitHub-hosted security advisory.', ' is unmaintained\\n\\nThe ',
  '\\n\\n## Recommended alternatives\\n\\n- ', ' Affected versions of this crate ', ' The flaw was corrected in ',
  '\\n\\n## Impact\\n\\n', '\\n\\n## Patches\\n\\n', '\\n\\n## Workarounds\\n\\n', '\\n\\n### Impact\\n', '\\n\\n### Patches\\n',
  '\\n\\n### Workarounds\\n', '\\n\\n### References\\n', '\\n```rust\\n', '\\n```\\n\\n', '](https://crates.io/crates/',
  '\\n\\nNOTE: The source advisory for this report contains additional versions that could not be automatically mapped to standard'
  + ' Go module versions.\\n\\n(If this is causing false-positive reports from vulnerability scanners, please suggest an edit to the'
  + ' report.)\\n\\nThe additional affected modules and versions are: ',
  // Links ('\u0001' is the record's name: record-row.ts NAME_MARK).
  'https://bugzilla.redhat.com/show_bug.cgi?id=', 'https://access.redhat.com/security/cve/CVE-20', 'https://access.redhat.com/errata/RHSA-20',
  'https://ubuntu.com/security/CVE-20', 'https://ubuntu.com/security/notices/USN-', 'https://security.alpinelinux.org/vuln/\u0001',
  'https://www.cve.org/CVERecord?id=CVE-20', 'https://security-tracker.debian.org/tracker/\u0001', 'https://lists.debian.org/debian-lts-announce/20',
  'https://groups.google.com/g/golang-announce/c/', 'https://go.dev/issue/', 'https://go.dev/cl/', 'https://osv.dev/vulnerability/',
  'https://security.snyk.io/vuln/SNYK-', 'https://github.com/rustsec/advisory-db/', 'https://crates.io/crates/', 'https://docs.rs/',
  'https://pypi.org/project/', 'https://www.npmjs.com/package/', 'https://gitlab.com/', 'https://security.netapp.com/advisory/ntap-20',
  '/security/advisories/GHSA-', '/releases/tag/v', '/pull/', '/issues/', '/commit/',
  ' https://rustsec.org/advisories/\u0001.html', 'https://pkg.go.dev/vuln/\u0001', ' https://nvd.nist.gov/vuln/detail/CVE-20',
  ' https://github.com/advisories/GHSA-', ' https://github.com/',
  // The text form: JSON [description, links].
  '","https://', '"]',
].join(''));

/** Output buffers of 4 KiB (zlib's default is 16): most texts are under 1 KiB inflated. */
const ZLIB_OPTIONS = { dictionary: TEXT_DICTIONARY, chunkSize: 4096 };
/** encodeText's deflate options (the deflate worker, deflate-worker.ts, is given them: the same bytes). */
export const TEXT_DEFLATE_OPTIONS: { readonly dictionary: Buffer; readonly chunkSize: number } = ZLIB_OPTIONS;

/** A text's stored bytes (vuln_text.data). */
export function encodeText(text: string): Buffer {
  return deflateRawSync(text, ZLIB_OPTIONS);
}

/** A text from its stored bytes. A string is a text stored before texts were deflated, read as it is. */
export function decodeText(data: Uint8Array | string): string {
  return typeof data === 'string' ? data : inflateRawSync(data, ZLIB_OPTIONS).toString('utf8');
}

/**
 * Inflated texts by row id, bounded by their total length (not their number: a report on a big image reads
 * thousands of texts, ~10,000 for the 7,718 findings of the big Debian image, and a bound below that would make every
 * report inflate them all again; OSV's texts are ~1 KB, Debian's ~200 bytes). Least recently used first out. For
 * stores whose text ids are never given again (a row's text never changes), so an entry cannot go stale.
 */
export class InflatedTexts extends LruCache<number, string> {
  constructor(maxChars = 16 * 1024 * 1024) {
    super(maxChars, (text) => text.length);
  }

  /** The cached texts of these ids (0, no text, left out), and the distinct ids a store must read. */
  lookup(ids: Iterable<number>): { found: Map<number, string>; missing: number[] } {
    const found = new Map<number, string>();
    const missing = new Set<number>();
    for (const id of ids) {
      if (id === 0 || found.has(id) || missing.has(id)) continue;
      const t = this.get(id);
      if (t === undefined) missing.add(id);
      else found.set(id, t);
    }
    return { found, missing: [...missing] };
  }

  /** A text read from the store: decoded, kept, and added to `found`. */
  keep(found: Map<number, string>, id: number, data: Uint8Array | string): void {
    const text = decodeText(data);
    this.set(id, text);
    found.set(id, text);
  }
}
