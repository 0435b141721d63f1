import type { FileSink, LayerFile, ScanFindings, Scanner } from '../../indexer/scanner.ts';
import { StatusFileReader } from './status-file.ts';

const STATUS = 'var/lib/dpkg/status';
const STATUS_D = 'var/lib/dpkg/status.d/';

function statusSink(path: string): FileSink {
  const reader = new StatusFileReader(path, path === STATUS);
  return {
    write: (chunk) => reader.write(chunk),
    end: () => {
      const errors = reader.end();
      return { packageDbs: [{ path, packages: reader.packages }], ...(errors.length ? { errors } : {}) };
    },
  };
}

/** Reads dpkg's status file and distroless status.d entries (but not their .md5sums companions), as they stream. */
export const dpkgStatusScanner: Scanner = {
  name: 'dpkg',
  version: '2',
  kind: 'package',
  wants: ({ path }) =>
    path === STATUS || (path.startsWith(STATUS_D) && !path.endsWith('.md5sums') && !path.slice(STATUS_D.length).includes('/')),
  openFile: ({ path }) => statusSink(path),
  scan(files: LayerFile[]): ScanFindings {
    const out: Required<Pick<ScanFindings, 'packageDbs' | 'errors'>> = { packageDbs: [], errors: [] };
    for (const f of files) {
      const sink = statusSink(f.path);
      sink.write(f.data);
      const found = sink.end();
      for (const db of found.packageDbs ?? []) out.packageDbs.push(db);
      for (const e of found.errors ?? []) out.errors.push(e);
    }
    return out.errors.length ? out : { packageDbs: out.packageDbs };
  },
};
