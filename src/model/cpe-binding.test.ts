import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpeAsFormattedString } from './cpe-binding.ts';

// CPE 2.2 URIs re-bound as CPE 2.3 formatted strings (NISTIR 7695 §6.1.3 and §6.2.2), as claircore writes every CPE.

test('URIs become formatted strings: ANY, NA, quoting, wildcards, packed edition', () => {
  const cases: [string, string][] = [
    ['', ''],
    ['cpe:/o:redhat:enterprise_linux:9::baseos', 'cpe:2.3:o:redhat:enterprise_linux:9:*:baseos:*:*:*:*:*'],
    ['cpe:/a:redhat:enterprise_linux:8::appstream', 'cpe:2.3:a:redhat:enterprise_linux:8:*:appstream:*:*:*:*:*'],
    ['cpe:/o:redhat:enterprise_linux:8', 'cpe:2.3:o:redhat:enterprise_linux:8:*:*:*:*:*:*:*'],
    ['cpe:/a:redhat:rhel_eus:8.6::appstream', 'cpe:2.3:a:redhat:rhel_eus:8.6:*:appstream:*:*:*:*:*'],
    ['CPE:/O:RedHat:Enterprise_Linux:9', 'cpe:2.3:o:redhat:enterprise_linux:9:*:*:*:*:*:*:*'],
    ['cpe:/a:vendor:product:-:beta', 'cpe:2.3:a:vendor:product:-:beta:*:*:*:*:*:*'],
    ['cpe:/a:vendor:product:1.0%2b:%01%02', 'cpe:2.3:a:vendor:product:1.0\\+:?*:*:*:*:*:*:*'],
    ['cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~', 'cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:*:*:*:online:win2003:x64:*'],
    ['cpe:/a:vendor:product:1~2', 'cpe:2.3:a:vendor:product:1\\~2:*:*:*:*:*:*:*'],
    ['cpe:2.3:o:redhat:enterprise_linux:9:*:baseos:*:*:*:*:*', 'cpe:2.3:o:redhat:enterprise_linux:9:*:baseos:*:*:*:*:*'],
  ];
  for (const [input, want] of cases) assert.equal(cpeAsFormattedString(input), want, input);
});

test('what does not bind is left as written', () => {
  for (const s of ['not a cpe', 'cpe:/x:vendor:product', 'cpe:/a:redhat:openshift:4.1*', 'cpe:/a:v:p:1:2:3:4:5', 'cpe:/a:v:p:%zz']) {
    assert.equal(cpeAsFormattedString(s), s, s);
  }
});
