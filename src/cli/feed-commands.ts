import { printable } from '../model/printable.ts';
import { ClairError } from '../model/errors.ts';
import { allFeeds, allMatchers, findUpdater } from '../ecosystems/registry.ts';
import { runUpdaterInCluster } from '../updater/cluster-updater-run.ts';
import { processUpdateOperation } from '../notifier/processor.ts';
import { exportFeeds, importFeeds } from '../updater/feed-bundle.ts';
import { isEnrichmentUpdater } from '../updater/updater.ts';
import { EXIT_OK } from './cli-error.ts';
import { withStore } from './with-store.ts';
import type { CliIo } from './io.ts';

// update, export-feeds and import-feeds: the feed side of the command line, apart from commands.ts so that index
// and scan do not load the archive readers, the cluster updater and the notifier.

/** "debian=PATH" → ["debian", "PATH"]. */
function parseSource(s: string): [string, string] {
  const eq = s.indexOf('=');
  const name = eq < 0 ? s : s.slice(0, eq);
  const updater = findUpdater(name);
  if (!updater) {
    throw new ClairError('bad-input', `unknown feed "${name}" in --source; known: ${allFeeds().map((u) => u.name).join(', ')}`);
  }
  if (eq === 0 || (eq > 0 && eq === s.length - 1)) throw new ClairError('bad-input', `--source ${s}: expected NAME=URL|PATH`);
  return [name, eq < 0 ? updater.defaultLocation : s.slice(eq + 1)];
}

export async function updateCommand(o: { source: string[]; db?: string; retention?: string; allowEmpty?: boolean }, io: CliIo): Promise<number> {
  const retention = parseRetention(o.retention);
  const sources = o.source.length > 0 ? o.source.map(parseSource) : allFeeds().map((u) => [u.name, u.defaultLocation] as [string, string]);
  return withStore(o.db, io, async (store) => {
    for (const [name, location] of sources) {
      const started = performance.now();
      // With a shared PostgreSQL store this waits for another instance running the same updater, then runs after it
      // (an unchanged feed then ends as "unchanged"); with SQLite it is a plain run.
      // Records a feed could not use are skipped, each with its reason; the first few are shown, the rest counted.
      const warnings: string[] = [];
      const run = await runUpdaterInCluster(store, findUpdater(name)!, location, {
        wait: true,
        retention,
        ...(o.allowEmpty ? { allowEmpty: true } : {}),
        warn: (m) => void (warnings.length < 5 && warnings.push(m)),
      });
      if (run.kind !== 'ran') throw new ClairError('internal', `${name}: update did not run (${run.kind})`);
      const r = run.result;
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      for (const w of warnings) io.stderr(`warning: ${r.updater}: skipped ${printable(w)}\n`);
      if ((r.skipped ?? 0) > warnings.length) io.stderr(`warning: ${r.updater}: ${r.skipped! - warnings.length} more records skipped\n`);
      io.stdout(
        r.unchanged
          ? `${r.updater}: unchanged since the last update (${location})\n`
          : `${r.updater}: update operation ${r.operation!.ref} with ${r.operation!.count} records from ${location} in ${secs}s\n`,
      );
      if (r.operation && !isEnrichmentUpdater(findUpdater(name)!)) {
        // Notifications for the new operation are created now; a running service's notifier delivers them.
        const n = await processUpdateOperation(store, allMatchers(), r.operation);
        if (n.kind === 'created') io.stdout(`${name}: notification ${n.notificationId} with ${n.count} notifications\n`);
      }
    }
    return EXIT_OK;
  });
}

function parseRetention(v: string | undefined): number {
  const retention = Number(v ?? '10');
  if (!Number.isInteger(retention) || retention < 0) throw new ClairError('bad-input', `--retention must be a whole number ≥ 0, not "${v}"`);
  return retention;
}

export async function exportFeedsCommand(file: string, o: { feed?: string[]; sign?: string; db?: string }, io: CliIo): Promise<number> {
  return withStore(o.db, io, async (store) => {
    const m = await exportFeeds(store, allFeeds(), file, {
      ...(o.feed && o.feed.length > 0 ? { feeds: o.feed } : {}),
      ...(o.sign ? { signKeyFile: o.sign } : {}),
    });
    for (const op of m.operations) io.stdout(`${op.updater}: update operation ${op.ref} of ${op.date}, ${op.count} records\n`);
    io.stdout(`wrote ${file}${o.sign ? ' (signed)' : ''}\n`);
    return EXIT_OK;
  });
}

export async function importFeedsCommand(file: string, o: { verify?: string; retention?: string; db?: string }, io: CliIo): Promise<number> {
  const retention = parseRetention(o.retention);
  return withStore(o.db, io, async (store) => {
    const r = await importFeeds(store, allFeeds(), file, { ...(o.verify ? { verifyKeyFile: o.verify } : {}), retention });
    for (const op of r.imported) io.stdout(`${op.updater}: imported update operation ${op.ref} of ${op.date}, ${op.count} records\n`);
    for (const ref of r.present) io.stdout(`update operation ${ref} is already in the database\n`);
    if (!r.signed) io.stderr(`warning: ${file} is not signed; its digests prove it is whole, not who wrote it\n`);
    for (const op of r.imported) {
      if (isEnrichmentUpdater(findUpdater(op.updater)!)) continue;
      const n = await processUpdateOperation(store, allMatchers(), op);
      if (n.kind === 'created') io.stdout(`${op.updater}: notification ${n.notificationId} with ${n.count} notifications\n`);
    }
    return EXIT_OK;
  });
}

