// CPE names as Clair writes them: claircore keeps every CPE as a WFN and encodes it as a CPE 2.3 formatted string
// (NISTIR 7695 §6.2), whatever binding it was read in. clair-ts keeps CPEs as the source wrote them (Red Hat's
// content-set and os-release CPEs are CPE 2.2 URIs, §6.1) and re-binds them here, at the API boundary, so that
// `cpe:/o:redhat:enterprise_linux:9::baseos` is answered as `cpe:2.3:o:redhat:enterprise_linux:9:*:baseos:*:*:*:*:*`.

/** The eleven WFN attributes in formatted-string order. */
const FS_ATTRIBUTES = 11;
/** Characters the URI binding never holds unencoded (NISTIR 7695 table 6-1); a URI with one is left as written. */
const URI_DISALLOWED = /[!"#$&'()*+,/:;<=>?@[\\\]^`{|}]/;

/** One URI component value → its formatted-string form: "" is ANY (*), "-" is NA, else decoded and quoted. */
function uriValueToFs(v: string, tildeIsLiteral: boolean): string | undefined {
  if (v === '') return '*';
  if (v === '-') return '-';
  const lower = v.toLowerCase();
  if (URI_DISALLOWED.test(lower)) return undefined;
  let out = '';
  for (let i = 0; i < lower.length; i++) {
    const c = lower[i]!;
    if (c === '%') {
      const hex = lower.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hex)) return undefined;
      i += 2;
      // %01 and %02 are the URI binding's single and multiple wildcards; any other escape is a quoted character.
      if (hex === '01') out += '?';
      else if (hex === '02') out += '*';
      else {
        const ch = String.fromCharCode(parseInt(hex, 16));
        out += ch === '.' || ch === '-' || ch === '_' ? ch : /[a-z0-9]/.test(ch) ? ch : `\\${ch}`;
      }
    } else if (c === '~' && tildeIsLiteral) {
      out += '\\~';
    } else {
      // Letters, digits, ".", "-" and "_" are written bare in a formatted string.
      out += c;
    }
  }
  return out;
}

/**
 * The CPE 2.3 formatted string of a CPE name, as claircore would encode it; "" stays "". A formatted string is
 * returned as it is; a string that is neither binding (or a URI that does not bind) is returned unchanged.
 */
export function cpeAsFormattedString(cpe: string): string {
  if (cpe === '' || cpe.startsWith('cpe:2.3:')) return cpe;
  if (!/^cpe:\//i.test(cpe)) return cpe;
  const components = cpe.slice(5).split(':');
  if (components.length > 7 || !/^[aho]?$/i.test(components[0] ?? '')) return cpe;
  const attrs: string[] = new Array(FS_ATTRIBUTES).fill('*');
  for (const [i, c] of components.entries()) {
    // An edition starting with "~" packs edition, sw_edition, target_sw, target_hw and other (CPE 2.3 §6.1.3.5).
    if (i === 5 && c.startsWith('~')) {
      const packed = c.split('~').slice(1, 6);
      const slots = [5, 7, 8, 9, 10];
      for (const [j, p] of packed.entries()) {
        const fs = uriValueToFs(p, false);
        if (fs === undefined) return cpe;
        attrs[slots[j]!] = fs;
      }
      continue;
    }
    const fs = uriValueToFs(c, true);
    if (fs === undefined) return cpe;
    attrs[i] = fs;
  }
  return `cpe:2.3:${attrs.join(':')}`;
}
