import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import AjvDraft04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';

// Validators for the official SARIF 2.1.0, CycloneDX 1.6 and SPDX 2.3 JSON schemas (test/fixtures/schemas/, with
// their provenance). Each returns the schema errors as lines; [] means valid.

const DIR = join(import.meta.dirname, '../fixtures/schemas');
const schema = (f: string) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Record<string, unknown>;
type AnyAjv = { addFormat(n: string, f: RegExp): unknown; addSchema(s: object): unknown; compile(s: object): ((d: unknown) => boolean) & { errors?: unknown[] | null } };
const addFormats = addFormatsModule as unknown as (ajv: AnyAjv) => AnyAjv;
const AjvDraft04 = AjvDraft04Module as unknown as new (o: object) => AnyAjv;

function errors(v: ((d: unknown) => boolean) & { errors?: unknown[] | null }, doc: unknown): string[] {
  return v(doc) ? [] : (v.errors ?? []).slice(0, 20).map((e) => JSON.stringify(e));
}

let sarif: ReturnType<AnyAjv['compile']> | undefined;
let cdx: ReturnType<AnyAjv['compile']> | undefined;
let spdx: ReturnType<AnyAjv['compile']> | undefined;

export function sarifErrors(doc: unknown): string[] {
  if (!sarif) {
    const ajv = addFormats(new AjvDraft04({ strict: false, allErrors: true }));
    sarif = ajv.compile(schema('sarif-schema-2.1.0.json'));
  }
  return errors(sarif, doc);
}

export function cycloneDxErrors(doc: unknown): string[] {
  if (!cdx) {
    const ajv = addFormats(new Ajv({ strict: false, allErrors: true }) as unknown as AnyAjv);
    // ajv-formats has no IRI formats; these are as strict as the URI ones (no blanks) and the email one.
    ajv.addFormat('iri-reference', /^\S*$/);
    ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/);
    ajv.addSchema(schema('spdx.schema.json'));
    ajv.addSchema(schema('jsf-0.82.schema.json'));
    cdx = ajv.compile(schema('bom-1.6.schema.json'));
  }
  return errors(cdx, doc);
}

export function spdxErrors(doc: unknown): string[] {
  if (!spdx) {
    const ajv = addFormats(new Ajv({ strict: false, allErrors: true }) as unknown as AnyAjv);
    spdx = ajv.compile(schema('spdx-schema-2.3.json'));
  }
  return errors(spdx, doc);
}
