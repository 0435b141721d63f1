import { ClairError } from '../../model/errors.ts';
import { newVulnerability, type Vulnerability } from '../../model/vulnerability.ts';
import { moduleStream } from '../rpm/rpmdb.ts';
import { parseCpe } from './cpe.ts';
import { parsePurl, type Purl } from './purl.ts';
import { normalizeRedHatImpact } from './severity.ts';

// One Red Hat CSAF VEX document (one CVE, https://security.access.redhat.com/data/csaf/v2/vex/YYYY/cve-….json)
// → vulnerability records, with claircore's rhel/vex semantics:
//
// * A product id in product_status is a relationship "<platform>:<component>": the platform branch carries the
//   CPE of a Red Hat product stream (cpe:/a:redhat:enterprise_linux:8::appstream), the component branch the purl
//   of an rpm (pkg:rpm/redhat/NAME@VERSION-RELEASE?arch=…&epoch=…&rpmmod=NAME:STREAM:…).
// * fixed → one record per (platform, module, package, fixed EVR), its arches joined with "|"; fixed_in_version
//   is "EPOCH:VERSION-RELEASE" (epoch 0 when the purl has none), the package kind binary.
// * known_affected → one unfixed record per (platform, module, component); the component is named without a
//   version and is matched against the binary or the source package name (kind source).
// * known_not_affected and under_investigation → no record: nothing to report (Red Hat has not found the product
//   affected, or has not decided yet), exactly as claircore.
// * Not rpm content (container images, generic, maven), rpms outside the "redhat" namespace, and kernel packages
//   (a container does not choose its kernel) are skipped.

export const RHEL_VEX_UPDATER = 'rhel-vex';
/** Repository key of records and of image repositories named by CPE (claircore's RedHatRepositoryKey). */
export const RHEL_CPE_REPOSITORY_KEY = 'rhel-cpe-repository';

export interface ParsedVexDocument {
  /** tracking.id, e.g. "CVE-2025-40907". */
  name: string;
  /** tracking.status "deleted": the CVE is withdrawn, its records must go. */
  deleted: boolean;
  records: Vulnerability[];
}

interface ProductInfo {
  cpe?: string;
  purl?: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Parses one document (already JSON-decoded). `source` names it in errors. */
export function parseVexDocument(doc: unknown, source: string): ParsedVexDocument {
  if (!isObject(doc) || !isObject(doc.document)) throw new ClairError('bad-feed', `${source}: not a CSAF document (no "document" object)`);
  const tracking = isObject(doc.document.tracking) ? doc.document.tracking : {};
  const name = str(tracking.id);
  if (!name) throw new ClairError('bad-feed', `${source}: CSAF document without document.tracking.id`);
  if (str(tracking.status) === 'deleted') return { name, deleted: true, records: [] };

  const selfLink = arr(doc.document.references).filter(isObject).find((r) => r.category === 'self');
  const aggregate = isObject(doc.document.aggregate_severity) ? str(doc.document.aggregate_severity.text) : '';

  const products = new Map<string, ProductInfo>();
  const relationships = new Map<string, { component: string; platform: string }>();
  const tree = isObject(doc.product_tree) ? doc.product_tree : {};
  const walk = (branches: unknown[]) => {
    for (const b of branches.filter(isObject)) {
      if (isObject(b.product)) addProduct(products, b.product);
      walk(arr(b.branches));
    }
  };
  walk(arr(tree.branches));
  for (const p of arr(tree.full_product_names).filter(isObject)) addProduct(products, p);
  for (const r of arr(tree.relationships).filter(isObject)) {
    const full = isObject(r.full_product_name) ? str(r.full_product_name.product_id) : '';
    const component = str(r.product_reference);
    const platform = str(r.relates_to_product_reference);
    if (full && component && platform) relationships.set(full, { component, platform });
  }

  const records: Vulnerability[] = [];
  for (const v of arr(doc.vulnerabilities).filter(isObject)) {
    const description = arr(v.notes).filter(isObject).find((n) => n.category === 'description');
    const links = arr(v.references).filter(isObject).map((r) => str(r.url)).filter((u) => u !== '');
    if (selfLink && str(selfLink.url)) links.push(str(selfLink.url));
    const impactOf = productMap(v.threats, (t) => (t.category === 'impact' ? str(t.details) : ''));
    const fixUrlOf = productMap(v.remediations, (r) => (r.category === 'vendor_fix' ? str(r.url) : ''));
    const status = isObject(v.product_status) ? v.product_status : {};
    const base = (productId: string) => {
      const impact = impactOf.get(productId) ?? aggregate;
      return {
        updater: RHEL_VEX_UPDATER,
        name,
        description: description ? str(description.text) : '',
        issued: str(v.release_date),
        severity: impact,
        normalizedSeverity: normalizeRedHatImpact(impact),
        versionScheme: 'rpm',
      };
    };

    // fixed: deduplicated across arches, as claircore's createPackageKey.
    const fixed = new Map<string, Vulnerability>();
    for (const id of arr(status.fixed).map(str)) {
      const rel = resolve(id, relationships, products);
      if (!rel) continue;
      const { purl, cpe, platform } = rel;
      if (!purl.version) continue;
      const fixedIn = `${purl.qualifiers.get('epoch') || '0'}:${purl.version}`;
      const module = moduleOf(purl);
      const key = [platform, module, purl.name, fixedIn].join('\u0000');
      const arch = purl.qualifiers.get('arch') ?? '';
      const seen = fixed.get(key);
      if (seen) {
        if (arch && !seen.package.arch.split('|').includes(arch)) seen.package.arch += `|${arch}`;
        continue;
      }
      const fixUrl = fixUrlOf.get(id);
      const b = base(id);
      fixed.set(key, newVulnerability({
        ...b,
        links: [...links, ...(fixUrl ? [fixUrl] : [])].join(' '),
        package: { name: purl.name, kind: 'binary', module, arch },
        repo: { name: cpe, key: RHEL_CPE_REPOSITORY_KEY, uri: '', cpe },
        fixedInVersion: fixedIn,
        archOperation: arch ? 'pattern match' : '',
      }));
    }
    records.push(...fixed.values());

    const affected = new Set<string>();
    for (const id of arr(status.known_affected).map(str)) {
      const rel = resolve(id, relationships, products);
      if (!rel) continue;
      const { purl, cpe, platform } = rel;
      const module = moduleOf(purl);
      const key = [platform, module, purl.name].join('\u0000');
      if (affected.has(key)) continue;
      affected.add(key);
      records.push(newVulnerability({
        ...base(id),
        links: links.join(' '),
        package: { name: purl.name, kind: 'source', module, arch: '' },
        repo: { name: cpe, key: RHEL_CPE_REPOSITORY_KEY, uri: '', cpe },
      }));
    }
  }
  return { name, deleted: false, records };
}

function addProduct(products: Map<string, ProductInfo>, p: Json): void {
  const id = str(p.product_id);
  if (!id) return;
  const helper = isObject(p.product_identification_helper) ? p.product_identification_helper : {};
  const info: ProductInfo = {};
  if (str(helper.cpe)) info.cpe = str(helper.cpe);
  if (str(helper.purl)) info.purl = str(helper.purl);
  products.set(id, info);
}

/** product id → the first non-empty value `pick` gives for an entry listing it. */
function productMap(entries: unknown, pick: (e: Json) => string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of arr(entries).filter(isObject)) {
    const value = pick(e);
    if (!value) continue;
    for (const id of arr(e.product_ids).map(str)) if (!out.has(id)) out.set(id, value);
  }
  return out;
}

/** The rpm and platform CPE a product-status id names; undefined for anything we do not match (see above). */
function resolve(
  id: string,
  relationships: Map<string, { component: string; platform: string }>,
  products: Map<string, ProductInfo>,
): { purl: Purl; cpe: string; platform: string } | undefined {
  const rel = relationships.get(id);
  if (!rel) return undefined;
  const cpe = products.get(rel.platform)?.cpe;
  // A component may itself be a relationship (a package inside a module inside a product): follow it down.
  let component = rel.component;
  for (let depth = 0; depth < 4 && !products.get(component)?.purl && relationships.has(component); depth++) {
    component = relationships.get(component)!.component;
  }
  const purlText = products.get(component)?.purl;
  if (!cpe || !purlText || !parseCpe(cpe)) return undefined;
  const purl = parsePurl(purlText);
  if (!purl || purl.type !== 'rpm' || purl.namespace !== 'redhat' || purl.name.startsWith('kernel')) return undefined;
  return { purl, cpe, platform: rel.platform };
}

/** rpmmod "NAME:STREAM:VERSION:CONTEXT" (or "NAME:STREAM") → "NAME:STREAM", the form the rpm scanner reports. */
function moduleOf(purl: Purl): string {
  const mod = purl.qualifiers.get('rpmmod') ?? '';
  if (!mod) return '';
  const parts = mod.split(':');
  return parts.length >= 3 ? moduleStream(mod) : parts.length === 2 && parts[0] && parts[1] ? mod : '';
}
