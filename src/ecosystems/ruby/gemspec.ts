// Installed gems' specifications (GEM_HOME/specifications/NAME-VERSION.gemspec, default gems in
// specifications/default/) are Ruby code, never run here. RubyGems writes them in one shape (Gem::Specification#
// to_ruby): `s.name = "rack".freeze` and `s.version = "2.2.4"` inside `Gem::Specification.new do |s|`, after a
// `# stub: NAME VERSION PLATFORM PATHS` line. The assignments are read the way Trivy and Syft read them; the stub
// line is the fallback for hand-written specs.

export interface GemSpec {
  name: string;
  version: string;
}

const NAME = /^\s*\w+\.name\s*=\s*(["'])([^"']+)\1/m;
const VERSION = /^\s*\w+\.version\s*=\s*(?:Gem::Version\.new\(\s*)?(["'])([^"']+)\1/m;
const STUB = /^# stub: (\S+) (\S+)/m;

export function parseGemspec(text: string): GemSpec | undefined {
  const stub = STUB.exec(text);
  const name = NAME.exec(text)?.[2] ?? stub?.[1];
  const version = VERSION.exec(text)?.[2] ?? stub?.[2];
  if (!name || !version) return undefined;
  return { name, version };
}

/**
 * Gemfile.lock (Bundler): the gems of its GEM sections' "specs:", four spaces deep as "name (version)" or
 * "name (version-platform)"; six spaces deep are their dependencies' requirements. GIT and PATH sections are not
 * from a registry and are left out.
 */
export function parseGemfileLock(text: string): GemSpec[] {
  const out: GemSpec[] = [];
  let section = '';
  let inSpecs = false;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    if (!line.startsWith(' ')) {
      section = line.trim();
      inSpecs = false;
      continue;
    }
    if (line.trim() === 'specs:') {
      inSpecs = true;
      continue;
    }
    if (section !== 'GEM' || !inSpecs) continue;
    const m = /^ {4}([^\s(]+) \(([^)]+)\)$/.exec(line);
    if (!m) continue;
    // Gem versions never contain "-": what follows one is the platform (nokogiri (1.15.4-x86_64-linux)).
    out.push({ name: m[1]!, version: m[2]!.split('-')[0]! });
  }
  return out;
}
