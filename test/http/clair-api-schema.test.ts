import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { requireSharedData } from '../support/shared-data.ts';

// test/fixtures/clair-api/clair-v1-as-served.schema.json (what the API tests validate against) against Clair's
// OpenAPI types in the shared data: the same objects with the same members, except the differences its README
// lists. A member Clair's spec adds later shows up here instead of silently missing from clair-ts's answers.

type Schema = { properties?: Record<string, unknown>; $ref?: string };

/** Members the derived schema has and the spec does not (README: what Clair's server writes beyond the spec). */
const ADDED: Record<string, string[]> = {
  package: ['detector'],
  vulnerability: [],
  vulnerability_summary: ['description', 'links', 'repo'],
};
/** Members of the spec the derived schema leaves out (README: range breaks Quay's validation). */
const LEFT_OUT: Record<string, string[]> = { vulnerability: ['range'], vulnerability_summary: ['range'] };

test('the derived schema has the members of every type of Clair\'s OpenAPI document, differences as documented', async (t) => {
  const dir = requireSharedData(t, 'clair-openapi/types/v1');
  if (!dir) return;
  const derived = JSON.parse(await readFile(join(import.meta.dirname, '../fixtures/clair-api/clair-v1-as-served.schema.json'), 'utf8')) as { $defs: Record<string, Schema> };
  const spec = async (name: string): Promise<Schema> => JSON.parse(await readFile(join(dir, `${name}.schema.json`), 'utf8')) as Schema;
  const members = async (name: string): Promise<string[]> => {
    const s = await spec(name);
    // vulnerability and vulnerability_summary extend vulnerability_core by $ref.
    const core = s.$ref === 'vulnerability_core.schema.json' ? Object.keys((await spec('vulnerability_core')).properties ?? {}) : [];
    return [...new Set([...core, ...Object.keys(s.properties ?? {})])].sort();
  };
  const types = ['package', 'distribution', 'repository', 'environment', 'index_report', 'vulnerability_report', 'vulnerability', 'vulnerability_summary',
    'notification', 'notification_page', 'notification_webhook', 'index_state', 'error', 'update_operation', 'update_diff', 'affected_manifests'];
  for (const name of types) {
    const ours = Object.keys(derived.$defs[name]?.properties ?? {}).sort();
    const theirs = (await members(name)).filter((m) => !(LEFT_OUT[name] ?? []).includes(m));
    assert.deepEqual(ours, [...theirs, ...(ADDED[name] ?? [])].sort(), `${name}: members`);
  }
});
