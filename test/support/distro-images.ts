import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildLayer, layerTar, OciLayoutWriter, type BuiltLayer } from '../../src/image/testdata/image-builder.ts';

// Test images of the apk and Ubuntu families, built at test time from real data (nothing large is committed):
// - Alpine: the official minirootfs tarball as the base layer, exactly as Alpine publishes it, plus a layer that
//   rewrites lib/apk/db/installed the way `apk upgrade` / `apk del` would (package blocks changed or dropped).
// - Ubuntu: a dpkg status file from a real Ubuntu root plus its os-release, then a layer that upgrades or removes.

/** The blocks of an apk installed database, keyed by package name (P:). */
export function apkBlocks(db: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of db.split(/\n\n+/)) {
    const name = /^P:(.*)$/m.exec(block)?.[1];
    if (name) out.set(name, block.trim());
  }
  return out;
}

/** The database with `upgrade` (name → new version) applied and `remove` dropped, as apk would write it. */
export function apkDbEdit(db: string, upgrade: Record<string, string>, remove: string[]): string {
  const blocks = apkBlocks(db);
  for (const name of remove) blocks.delete(name);
  for (const [name, version] of Object.entries(upgrade)) {
    const b = blocks.get(name);
    if (!b) throw new Error(`no package ${name} to upgrade`);
    blocks.set(name, b.replace(/^V:.*$/m, `V:${version}`));
  }
  return [...blocks.values()].join('\n\n') + '\n\n';
}

/** The file at `path` inside a .tar.gz (the minirootfs), or undefined. */
export function fileInTarGz(tarGz: string, path: string): Buffer | undefined {
  const tar = gunzipSync(readFileSync(tarGz));
  for (let off = 0; off + 512 <= tar.length; ) {
    const name = tar.toString('latin1', off, off + 100).replace(/\0.*$/s, '');
    if (name === '') break;
    const size = parseInt(tar.toString('latin1', off + 124, off + 136).replace(/\0.*$/s, '').trim() || '0', 8);
    if (name.replace(/^\.\//, '') === path) return tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

export interface ApkTestImage {
  /** oci:… reference of the image (base + change). */
  ref: string;
  /** oci:… reference of the base alone. */
  baseRef: string;
  layers: BuiltLayer[];
}

/** An OCI layout with the minirootfs as base layer and one layer that upgrades and removes packages. */
export async function apkTestImage(
  dir: string,
  minirootfs: string,
  upgrade: Record<string, string>,
  remove: string[],
  /** Blocks to append to the database (packages the layer installs) and files the layer adds. */
  install: { blocks?: string[]; files?: Record<string, string> } = {},
): Promise<ApkTestImage> {
  const base = buildLayer(gunzipSync(readFileSync(minirootfs)), 'gzip');
  const installed = fileInTarGz(minirootfs, 'lib/apk/db/installed');
  if (!installed) throw new Error(`${minirootfs} has no lib/apk/db/installed`);
  const db = apkDbEdit(installed.toString('utf8'), upgrade, remove) + (install.blocks ?? []).map((b) => b.trim() + '\n\n').join('');
  const change = buildLayer(await layerTar({ 'lib/apk/db/installed': db, ...(install.files ?? {}) }), 'gzip');
  const w = await new OciLayoutWriter(join(dir, 'image')).init();
  const full = await w.addImage([base, change]);
  const only = await w.addImage([base]);
  await w.writeIndex([{ descriptor: full.manifest, tag: 'changed' }, { descriptor: only.manifest, tag: 'base' }]);
  return { ref: `oci:${join(dir, 'image')}:changed`, baseRef: `oci:${join(dir, 'image')}:base`, layers: [base, change] };
}

/** The files of a txtar archive ("-- path --" headers), as trivy keeps its fixtures. */
export function txtarFiles(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = text.split(/^-- (.+?) --$/m);
  for (let i = 1; i + 1 < parts.length; i += 2) out.set(parts[i]!.trim(), parts[i + 1]!.replace(/^\n/, ''));
  return out;
}

/** dpkg status stanzas, keyed by package name. */
export function dpkgStanzas(status: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const st of status.split(/\n\n+/)) {
    const name = /^Package: (\S+)/m.exec(st)?.[1];
    if (name) out.set(name, st.trim());
  }
  return out;
}

export interface UbuntuTestImage {
  ref: string;
  baseRef: string;
  layers: BuiltLayer[];
}

/**
 * An Ubuntu image: layer 1 holds a real root's etc/os-release, etc/lsb-release and var/lib/dpkg/status; layer 2
 * rewrites the status file as dpkg would after installing `install` (stanzas) and purging `remove`.
 */
export async function ubuntuTestImage(
  dir: string,
  files: { osRelease: string; lsbRelease: string; status: string },
  install: string[],
  remove: string[],
): Promise<UbuntuTestImage> {
  const base = buildLayer(await layerTar({ 'etc/os-release': files.osRelease, 'etc/lsb-release': files.lsbRelease, 'var/lib/dpkg/status': files.status }), 'gzip');
  const stanzas = dpkgStanzas(files.status);
  for (const name of remove) if (!stanzas.delete(name)) throw new Error(`no package ${name} to remove`);
  for (const st of install) stanzas.set(/^Package: (\S+)/m.exec(st)![1]!, st.trim());
  const change = buildLayer(await layerTar({ 'var/lib/dpkg/status': [...stanzas.values()].join('\n\n') + '\n' }), 'gzip');
  const w = await new OciLayoutWriter(join(dir, 'image')).init();
  const full = await w.addImage([base, change]);
  const only = await w.addImage([base]);
  await w.writeIndex([{ descriptor: full.manifest, tag: 'changed' }, { descriptor: only.manifest, tag: 'base' }]);
  return { ref: `oci:${join(dir, 'image')}:changed`, baseRef: `oci:${join(dir, 'image')}:base`, layers: [base, change] };
}

/**
 * The finding rows of `scan`'s table output, cell by header ("VULNERABILITY", "PACKAGE", "FIXED IN", …), read by
 * the headers' column positions so a cell with spaces ("1.0 (Ubuntu Pro)") and an empty one stay whole.
 */
export function scanTableRows(out: string): Record<string, string>[] {
  const rows: Record<string, string>[] = [];
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const header = lines[i]!;
    if (!/^ECOSYSTEM\s+VULNERABILITY\s/.test(header)) continue;
    const cols = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], start: m.index! }));
    for (i++; i < lines.length && lines[i]!.trim() !== ''; i++) {
      const line = lines[i]!;
      const row: Record<string, string> = {};
      cols.forEach((c, k) => (row[c.name] = line.slice(c.start, cols[k + 1]?.start ?? line.length).trim()));
      rows.push(row);
    }
  }
  return rows;
}

/** "VULNERABILITY | PACKAGE | INSTALLED | FIXED IN | LAYER" per finding row, in output order. */
export function scanFindings(out: string): string[] {
  return scanTableRows(out).map((r) => [r['VULNERABILITY'], r['PACKAGE'], r['INSTALLED'], r['FIXED IN'], r['LAYER']].join(' | '));
}
