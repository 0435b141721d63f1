#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ClairError, errorMessage } from '../model/errors.ts';
import { LOCAL_TRANSPORTS } from '../image/image-reference.ts';
import type { VersionScheme } from '../versions/scheme.ts';
import { EXIT_ERROR } from './cli-error.ts';
import { printableLines } from '../model/printable.ts';
import { processIo, type CliIo } from './io.ts';

// The commands' modules are imported when a command runs, not at start-up: they bring fastify, pg, amqplib,
// prom-client and jose, and `--help` or `compare-versions` need none of them (`--help` took 3.8-4.5 s before and 1.1-1.35 s after on a
// loaded 2-core machine, `node -e 0` 0.07-0.22 s, in the same runs).
const commands = () => import('./commands.ts');
// A warm scan whose output is stored loads none of commands.ts's matchers and report writers (scan-command.ts), nor
// does `index` (index-command.ts).
const feedCommands = () => import('./feed-commands.ts');
const serve = () => import('./serve-command.ts');
const notifierCommands = () => import('./notifier-commands.ts');

// clair-ts command line. Every failure ends in one line on stderr and exit code 2; `scan` exits 1 when it finds
// something at or above --fail-on, 3 when the data is older than --max-feed-age (cli-error.ts).

/** "registry reference | oci:PATH[:TAG] | …": every form an image argument takes (image-reference.ts). */
function imageForms(registry: string): string {
  return [registry, ...LOCAL_TRANSPORTS.map((t) => t.form)].join(' | ');
}

/** "dpkg | rpm | apk2 | apk3 | apk (= apk3)": the registry's ids; an id whose rule is an earlier one's says which. */
function schemeChoices(versionSchemes: ReadonlyMap<string, VersionScheme>): string {
  const schemes = [...versionSchemes.values()];
  return schemes
    .map((s, i) => {
      const same = schemes.slice(0, i).find((t) => t.compare === s.compare);
      return same ? `${s.id} (= ${same.id})` : s.id;
    })
    .join(' | ');
}

/** Commander's collector for repeatable options. */
function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

/** The top-level commands main defines. */
const COMMANDS = ['index', 'scan', 'update', 'export-feeds', 'import-feeds', 'serve', 'subscriptions', 'notifications', 'compare-versions'];

export async function main(argv: string[], io: CliIo): Promise<number> {
  let code = 0;
  // Listing the version schemes loads every one of them (14 modules): only where compare-versions' help can be shown.
  const schemes = argv[0] === 'compare-versions' || argv[0] === 'help'
    ? schemeChoices((await import('../versions/registry.ts')).versionSchemes)
    : 'a version scheme (listed by compare-versions --help)';
  // Only the command run is defined (each definition costs start-up time, and a warm scan's whole budget is ~100 ms);
  // all of them when no known command is named first: the program's help, `help COMMAND`, an unknown command.
  const named = COMMANDS.includes(argv[0] ?? '') ? argv[0] : undefined;
  const defines = (command: string) => named === undefined || named === command;
  const program = new Command('clair-ts')
    .description('Container vulnerability analysis: index images, fetch vulnerability feeds, match them.')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError(false);

  const dbOpt = ['--db <location>', 'SQLite file or postgres:// connstring (default: $CLAIR_TS_DB or $XDG_DATA_HOME/clair-ts/clair-ts.db)'] as const;
  const platformOpt = ['--platform <os/arch[/variant]>', 'platform to pick from a multi-platform image (default: this host)'] as const;
  const imageOptions = (c: Command) =>
    c
      .option(...dbOpt)
      .option(...platformOpt)
      .option('--username <name>', 'registry user name (else CLAIR_TS_REGISTRY_USERNAME, else ~/.docker/config.json)')
      .option('--password-stdin', 'read the registry password from standard input')
      .option('--insecure', "allow plain HTTP for this image's registry")
      .option('--insecure-registry <host>', 'allow plain HTTP for this registry (repeatable; loopback registries always may)', (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option('--ca-file <path>', 'PEM file of a private CA to trust for registries');

  if (defines('index')) imageOptions(
    program
      .command('index')
      .description('index an image: distribution, packages, and the layer that introduced each')
      .argument('<image>', `${imageForms('registry reference (debian:bookworm, quay.io/org/app@sha256:…)')} | sbom:FILE`)
      .option('--format <format>', 'table | json | cyclonedx | spdx-json (repeatable; default table)', collect)
      .option('--output <[format=]file>', 'write a format to a file instead of stdout (repeatable: --output cyclonedx=bom.json)', collect)
      .option('--repository <name>', 'repository the image is known under, for subscriptions that select by repository'),
  ).action(async (image: string, o) => {
      code = await (await import('./index-command.ts')).indexCommand(image, o, io);
    });

  if (defines('scan')) imageOptions(
    program
      .command('scan')
      .description('index an image and report its vulnerabilities; a CI gate with --fail-on')
      .argument('<image>', `${imageForms('registry reference')} | sbom:FILE (CycloneDX or SPDX JSON)`)
      .option('--format <format>', 'table | json | sarif | cyclonedx | spdx-json (repeatable; default table)', collect)
      .option('--output <[format=]file>', 'write a format to a file instead of stdout (repeatable: --output sarif=out.sarif)', collect)
      .option(
        '--fail-on <condition>',
        'exit 1 when a finding meets it (repeatable): a severity (Negligible, Low, Medium, High, Critical: that or worse), kev, epss>=P, epss-percentile>=P, cvss>=S',
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      )
      .option('--sort <order>', 'table order: severity (grouped) | risk (KEV, then EPSS, then severity)', 'severity')
      .option('--only-fixed', 'report only findings that have a fixed version')
      .option('--severity <list>', 'report only these severities (repeatable or comma-separated: High,Critical)', collect)
      .option('--ignore-file <file>', 'ignore rules (YAML; default: .clair-ts-ignore.yaml in the working directory, when present)')
      .option('--vex <file>', 'OpenVEX or CycloneDX VEX document: not_affected and fixed statements suppress findings (repeatable)', collect)
      .option('--max-feed-age <duration>', 'exit 3 when a feed covering the image was last updated longer ago (7d, 36h, 90m)')
      .option('--base-layers <n>', 'how many of the first layers are the base image, for the per-layer advice', '1'),
  ).action(async (image: string, o) => {
      code = await (await import('./scan-command.ts')).scanCommand(image, o, io);
    });

  if (defines('update')) program
    .command('update')
    .description('fetch vulnerability feeds and store each as an update operation')
    .option('--source <name=location>', 'feed and its URL, path or file:// URL (repeatable; default: every feed at its public URL)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--retention <n>', 'update operations kept per feed; older ones are deleted (0 keeps all)', '10')
    .option('--allow-empty', 'store a feed that holds no records (refused by default: it would remove every record of the feed)')
    .option(...dbOpt)
    .action(async (o) => {
      code = await (await feedCommands()).updateCommand(o, io);
    });

  if (defines('export-feeds')) program
    .command('export-feeds')
    .description('write the current update operation of each feed into one bundle, for an air-gapped database')
    .argument('<file>', 'bundle to write (a zstd-compressed tar)')
    .option('--feed <name>', 'feed to export (repeatable; default: every feed that has data)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--sign <key.pem>', 'sign the manifest with this Ed25519 private key (PEM)')
    .option(...dbOpt)
    .action(async (file: string, o) => {
      code = await (await feedCommands()).exportFeedsCommand(file, o, io);
    });

  if (defines('import-feeds')) program
    .command('import-feeds')
    .description('load a bundle written by export-feeds: every operation, or nothing when any check fails')
    .argument('<file>', 'bundle written by export-feeds')
    .option('--verify <key.pem>', 'refuse the bundle unless its manifest is signed by this Ed25519 public key (PEM)')
    .option('--retention <n>', 'update operations kept per feed; older ones are deleted (0 keeps all)', '10')
    .option(...dbOpt)
    .action(async (file: string, o) => {
      code = await (await feedCommands()).importFeedsCommand(file, o, io);
    });

  if (defines('serve')) program
    .command('serve')
    .description("serve Clair's v4 HTTP API (indexer, matcher, notifier) until SIGTERM/SIGINT")
    .option('--config <file>', 'YAML config (default: $CLAIR_TS_CONFIG; built-in defaults without one)')
    .option('--mode <mode>', 'combo | indexer | matcher | notifier (default: $CLAIR_TS_MODE or combo)')
    .option(...dbOpt)
    .action(async (o) => {
      code = await (await serve()).serveCommand(o, io);
    });

  // Notifier commands: the local database (--db) or a server (--server, PSK from --psk-file or CLAIR_TS_PSK).
  const target = (c: Command) =>
    c
      .option(...dbOpt)
      .option('--server <url>', 'a clair-ts server (http://host:6060) instead of the local database')
      .option('--psk-file <path>', 'file holding the base64 PSK (auth.psk.key) to sign requests to --server (else $CLAIR_TS_PSK)')
      .option('--format <format>', 'table | json', 'table');
  if (defines('subscriptions')) defineSubscriptions();
  if (defines('notifications')) defineNotifications();
  function defineSubscriptions(): void {
    const subs = program.command('subscriptions').description('who is told about new notifications, about which manifests, from what severity on');
    target(
      subs
        .command('add')
        .description('add a subscription: one channel, optional manifest filter and threshold')
        .option('--name <name>', 'a name for people')
        .option('--webhook <url>', 'POST each delivery to this http(s) URL')
        .option('--amqp <uri>', 'publish each delivery on this AMQP broker (amqp[s]://user:pass@host/vhost)')
        .option('--exchange <name>', 'AMQP exchange (must exist; default: the default exchange)')
        .option('--routing-key <key>', 'AMQP routing key')
        .option('--stomp <host:port>', 'send each delivery on this STOMP broker (passcode from $CLAIR_TS_STOMP_PASSCODE)')
        .option('--destination <dest>', 'STOMP destination, e.g. /queue/clair')
        .option('--login <login>', 'STOMP login')
        .option('--manifest <digest>', 'only this manifest (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
        .option('--repository <pattern>', 'only manifests indexed under a matching repository (* matches anything)')
        .option('--min-severity <severity>', 'only vulnerabilities at least this severe: Negligible, Low, Medium, High, Critical')
        .option('--fixable-only', 'only vulnerabilities with a fixed-in version')
        .option('--kev-only', "only vulnerabilities in CISA's Known Exploited Vulnerabilities catalog")
        .option('--allow-private', 'allow a loopback or private target (local database only)'),
    ).action(async (o) => {
      code = await (await notifierCommands()).subscriptionsAddCommand(o, io);
    });
    target(subs.command('list').description('list subscriptions')).action(async (o) => {
      code = await (await notifierCommands()).subscriptionsListCommand(o, io);
    });
    target(subs.command('remove').description('remove a subscription (its pending deliveries too)').argument('<id>')).action(async (id: string, o) => {
      code = await (await notifierCommands()).subscriptionsRemoveCommand(id, o, io);
    });
  }
  function defineNotifications(): void {
    const notes = program.command('notifications').description('notification sets the notifier created');
    target(notes.command('list').description('notification sets, newest first').option('--limit <n>', 'at most this many', '50')).action(async (o) => {
      code = await (await notifierCommands()).notificationsListCommand(o, io);
    });
    target(notes.command('show').description('the notifications of one set').argument('<id>')).action(async (id: string, o) => {
      code = await (await notifierCommands()).notificationsShowCommand(id, o, io);
    });
    target(notes.command('ack').description("acknowledge (delete) a set, as Clair's DELETE /notifier/api/v1/notification/{id}").argument('<id>')).action(async (id: string, o) => {
      code = await (await notifierCommands()).notificationsAckCommand(id, o, io);
    });
  }

  if (defines('compare-versions')) program
    .command('compare-versions')
    .description('compare two versions: prints -1, 0 or 1')
    .argument('[a]')
    .argument('[b]')
    .requiredOption('--scheme <scheme>', schemes)
    .option('--stdin', 'read A<TAB>B lines from stdin, print one result per line ("error" for a line that cannot be compared)')
    .action(async (a: string | undefined, b: string | undefined, o) => {
      code = await (await commands()).compareVersionsCommand(a, b, o, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return e.exitCode === 0 ? 0 : EXIT_ERROR;
    }
    io.stderr(`clair-ts: ${printableLines(errorMessage(e))}\n`);
    if (!(e instanceof ClairError) && io.env.CLAIR_TS_DEBUG) io.stderr(`${(e as Error).stack}\n`);
    return EXIT_ERROR;
  }
}

/**
 * `clair-ts scan … | head`: the reader went away, so nothing more can be said to it. End quietly with 0 as grep and
 * ripgrep do: no EPIPE stack, and not the "findings" code, which would read as a verdict on the image.
 */
export function exitQuietlyOnBrokenPipe(stream: NodeJS.WriteStream, exit: (code: number) => void): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') exit(0);
    else throw e;
  });
}

if (import.meta.main) {
  exitQuietlyOnBrokenPipe(process.stdout, (c) => process.exit(c));
  main(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
      // serve has closed everything it owns; a socket some library still holds must not keep the process alive
      // after SIGTERM (an orchestrator would SIGKILL it). Unref'd: a process that drains by itself exits sooner.
      if (process.argv[2] === 'serve') setTimeout(() => process.exit(code), 2000).unref();
    },
    (e) => {
      process.stderr.write(`clair-ts: ${printableLines(errorMessage(e))}\n`);
      process.exitCode = EXIT_ERROR;
    },
  );
}
