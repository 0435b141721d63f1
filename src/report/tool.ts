import { readFileSync } from 'node:fs';

// The tool every report names as its producer.
export const TOOL_NAME = 'clair-ts';
export const TOOL_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
