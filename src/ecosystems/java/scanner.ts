import type { FileRequest, FileSink, ScanFindings, Scanner } from '../../indexer/scanner.ts';
import type { Package } from '../../model/package.ts';
import { errorMessage } from '../../model/errors.ts';
import { JAVA_ARCHIVE, scanJavaArchive } from './archive.ts';
import { mavenRepository } from './repository.ts';

// Java archives (JAR, WAR, EAR, JPI, HPI) anywhere in a layer or tree, nested archives included (archive.ts).
// Each top-level archive is one package database keyed by its path in the layer; its packages name the archive
// they were found in, nested ones too: packageDb `maven:opt/app.ear!/web.war!/WEB-INF/lib/x.jar`.
// Symbolic links to jars (Debian's /usr/share/java/foo-1.2.jar -> foo.jar) are not regular files: the walker never
// hands them over, so a jar is counted once, under its real path.
// An archive is held in memory whole while it is read (the zip directory is at its end), one at a time; what it
// inflates is capped (DEFAULT_JAVA_LIMITS).

const MAX_ARCHIVE = 512 * 1024 * 1024;

function artifactPackage(groupId: string, artifactId: string, version: string, location: string): Package {
  return { name: `${groupId}:${artifactId}`, version, kind: 'binary', arch: '', module: '', cpe: '', packageDb: `maven:${location}`, repositoryHint: '' };
}

function readArchive(path: string, data: Buffer): ScanFindings {
  try {
    const { artifacts, warnings } = scanJavaArchive(data, path);
    const packages = artifacts.map((a) => artifactPackage(a.groupId, a.artifactId, a.version, a.location));
    return {
      ...(packages.length ? { packageDbs: [{ path, packages, repository: mavenRepository }] } : {}),
      ...(warnings.length ? { errors: warnings } : {}),
    };
  } catch (e) {
    return { errors: [`${path}: ${errorMessage(e)}`] };
  }
}

function openFile(file: FileRequest): FileSink {
  // The zip directory is at the end: the archive is held whole, once (a dir: tree hands it over as one chunk).
  const chunks: Buffer[] = [];
  return {
    write: (c) => void chunks.push(c),
    end: () => readArchive(file.path, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)),
  };
}

export const javaScanner: Scanner = {
  name: 'java',
  version: '2',
  kind: 'package',
  maxFileSize: MAX_ARCHIVE,
  wants: ({ path }) => JAVA_ARCHIVE.test(path),
  // Debian's lib*-java jars are dpkg's: matched through Debian's feed, not Maven advisories.
  ownable: (path) => JAVA_ARCHIVE.test(path),
  openFile,
  scan(files) {
    const out: ScanFindings = { packageDbs: [], errors: [] };
    for (const f of files) {
      const r = readArchive(f.path, f.data);
      out.packageDbs!.push(...(r.packageDbs ?? []));
      out.errors!.push(...(r.errors ?? []));
    }
    return out;
  },
};
