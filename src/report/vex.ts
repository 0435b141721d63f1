import { readFile } from 'node:fs/promises';
import { ClairError, errorMessage } from '../model/errors.ts';

// VEX documents (`--vex FILE`, repeatable): statements by a supplier or the team that a vulnerability does or does
// not affect a product. Two formats are read:
// - OpenVEX (https://github.com/openvex/spec): statements[] with vulnerability {name, aliases} (v0.0.1: a string),
//   products [{@id, subcomponents [{@id}]}] (v0.0.1: strings), status not_affected | affected | fixed |
//   under_investigation, justification, impact_statement.
// - CycloneDX VEX: vulnerabilities[] with id, analysis {state, justification, detail}, affects [{ref}]; the states
//   map to OpenVEX's: not_affected and false_positive → not_affected, resolved(_with_pedigree) → fixed,
//   exploitable → affected, in_triage → under_investigation.
// not_affected and fixed suppress the matching findings (said in the report); affected and under_investigation keep them.

export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';

export interface VexStatement {
  /** The vulnerability id and its aliases. */
  ids: string[];
  /** Products the statement is about: a purl, an image reference or digest; subcomponents are purls. Empty: any. */
  products: { id: string; subcomponents: string[] }[];
  status: VexStatus;
  justification?: string;
  detail?: string;
  /** "<file>" or "<file>: statement 3", for the report. */
  source: string;
}

const CDX_STATE: Readonly<Record<string, VexStatus>> = {
  not_affected: 'not_affected', false_positive: 'not_affected', resolved: 'fixed', resolved_with_pedigree: 'fixed',
  exploitable: 'affected', in_triage: 'under_investigation',
};

const OPENVEX_STATUS = new Set<VexStatus>(['not_affected', 'affected', 'fixed', 'under_investigation']);

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function idOf(v: unknown): string | undefined {
  return str(v) ?? (typeof v === 'object' && v !== null ? str((v as Record<string, unknown>)['@id']) ?? str((v as Record<string, unknown>).id) : undefined);
}

export function parseVex(doc: unknown, file: string): VexStatement[] {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ClairError('bad-input', `--vex ${file}: not a JSON object`);
  const o = doc as Record<string, unknown>;
  if (Array.isArray(o.statements)) return openVex(o.statements, file);
  if (o.bomFormat === 'CycloneDX') return cycloneDxVex(o, file);
  throw new ClairError('bad-input', `--vex ${file}: neither OpenVEX (statements) nor CycloneDX (bomFormat "CycloneDX")`);
}

function openVex(statements: unknown[], file: string): VexStatement[] {
  return statements.map((raw, i) => {
    const where = `${file}: statement ${i + 1}`;
    if (typeof raw !== 'object' || raw === null) throw new ClairError('bad-input', `--vex ${where}: not an object`);
    const s = raw as Record<string, unknown>;
    const v = s.vulnerability;
    const ids = [idOf(v) ?? (typeof v === 'object' && v !== null ? str((v as Record<string, unknown>).name) : undefined)].filter((x): x is string => x !== undefined);
    if (typeof v === 'object' && v !== null) {
      const vv = v as Record<string, unknown>;
      if (str(vv.name) && !ids.includes(vv.name as string)) ids.unshift(vv.name as string);
      if (Array.isArray(vv.aliases)) for (const a of vv.aliases) if (str(a)) ids.push(a as string);
    }
    if (ids.length === 0) throw new ClairError('bad-input', `--vex ${where}: no vulnerability name`);
    const status = s.status as VexStatus;
    if (!OPENVEX_STATUS.has(status)) throw new ClairError('bad-input', `--vex ${where}: status must be not_affected, affected, fixed or under_investigation, not ${JSON.stringify(s.status)}`);
    const products = (Array.isArray(s.products) ? s.products : []).map((p: unknown) => ({
      id: idOf(p) ?? '',
      subcomponents: typeof p === 'object' && p !== null && Array.isArray((p as Record<string, unknown>).subcomponents)
        ? ((p as Record<string, unknown>).subcomponents as unknown[]).map(idOf).filter((x): x is string => x !== undefined)
        : [],
    })).filter((p) => p.id !== '');
    return {
      ids, products, status, source: where,
      ...(str(s.justification) ? { justification: s.justification as string } : {}),
      ...(str(s.impact_statement) ?? str(s.status_notes) ? { detail: (str(s.impact_statement) ?? str(s.status_notes))! } : {}),
    };
  });
}

function cycloneDxVex(o: Record<string, unknown>, file: string): VexStatement[] {
  // affects[].ref is a bom-ref of a component of this document (or a purl): resolve it to the component's purl.
  const purlByRef = new Map<string, string>();
  const walk = (cs: unknown): void => {
    if (!Array.isArray(cs)) return;
    for (const c of cs as Record<string, unknown>[]) {
      if (str(c['bom-ref']) && str(c.purl)) purlByRef.set(c['bom-ref'] as string, c.purl as string);
      walk(c.components);
    }
  };
  walk(o.components);
  const out: VexStatement[] = [];
  for (const [i, raw] of (Array.isArray(o.vulnerabilities) ? o.vulnerabilities : []).entries()) {
    const v = raw as Record<string, unknown>;
    const where = `${file}: vulnerability ${i + 1}`;
    const a = (v.analysis ?? {}) as Record<string, unknown>;
    if (!str(a.state)) continue; // a vulnerability without an analysis is a finding, not a statement
    const status = CDX_STATE[a.state as string];
    if (!status) throw new ClairError('bad-input', `--vex ${where}: unknown analysis state ${JSON.stringify(a.state)}`);
    const id = str(v.id);
    if (!id) throw new ClairError('bad-input', `--vex ${where}: no id`);
    const ids = [id, ...(Array.isArray(v.references) ? (v.references as Record<string, unknown>[]).map((r) => str(r.id)).filter((x): x is string => x !== undefined) : [])];
    const products = (Array.isArray(v.affects) ? (v.affects as Record<string, unknown>[]) : [])
      .map((af) => str(af.ref))
      .filter((r): r is string => r !== undefined)
      .map((ref) => ({ id: purlByRef.get(ref) ?? ref.replace(/^urn:cdx:[^#]*#/, ''), subcomponents: [] }));
    out.push({
      ids, products, status, source: where,
      ...(str(a.justification) ? { justification: a.justification as string } : {}),
      ...(str(a.detail) ? { detail: a.detail as string } : {}),
    });
  }
  return out;
}

export async function loadVexFile(file: string): Promise<VexStatement[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ClairError('bad-input', `--vex ${file}: ${errorMessage(e)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ClairError('bad-input', `--vex ${file}: not JSON: ${errorMessage(e)}`);
  }
  return parseVex(doc, file);
}
