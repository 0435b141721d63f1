import { copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { run } from './system-tool.ts';

// Java archives for the tests, assembled at test time from Debian's lib*-java jars with Info-ZIP's zip (no
// archive is committed): a WAR with its libraries in WEB-INF/lib, an EAR holding that WAR and a library, a shaded
// jar (two jars' contents merged, as maven-shade-plugin does), and jars stripped of their pom.properties.
// Truth comes from unzip: `unzip -Z1` lists entries, `unzip -p` prints each pom.properties.

export const DEBIAN_JARS = {
  lang3: '/usr/share/java/commons-lang3.jar',
  io: '/usr/share/java/commons-io.jar',
  guava: '/usr/share/java/guava.jar',
  databind: '/usr/share/java/jackson-databind.jar',
  slf4j: '/usr/share/java/slf4j-api.jar',
};
export const DEBIAN_JAR_PACKAGES = 'libcommons-lang3-java libcommons-io-java libguava-java libjackson2-databind-java libslf4j-java';

export function haveDebianJars(): boolean {
  return Object.values(DEBIAN_JARS).every((j) => existsSync(j));
}

/** groupId:artifactId@version for each pom.properties in a (non-nested) archive, read by unzip. */
export function unzipPomArtifacts(jar: string): string[] {
  const names = run('unzip', ['-Z1', jar]).split('\n').filter((n) => /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(n));
  return names
    .map((n) => {
      const text = run('unzip', ['-p', jar, n]);
      const get = (k: string): string => new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
      return `${get('groupId')}:${get('artifactId')}@${get('version')}`;
    })
    .sort();
}

export interface JavaFixtures {
  dir: string;
  war: string;
  ear: string;
  shaded: string;
  /** commons-lang3 and jackson-databind with META-INF/maven removed: identified by MANIFEST.MF only. */
  lang3NoPom: string;
  databindNoPom: string;
}

export function buildJavaFixtures(): JavaFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'clair-ts-java-'));
  const d = (...p: string[]): string => join(dir, ...p);

  // WAR: classes plus WEB-INF/lib, libraries stored (zip -0) as Maven's war plugin does, one deflated for variety.
  mkdirSync(d('war', 'WEB-INF', 'lib'), { recursive: true });
  mkdirSync(d('war', 'WEB-INF', 'classes'), { recursive: true });
  copyFileSync(DEBIAN_JARS.io, d('war', 'WEB-INF', 'lib', 'commons-io-2.11.0.jar'));
  copyFileSync(DEBIAN_JARS.guava, d('war', 'WEB-INF', 'lib', 'guava.jar'));
  run('sh', ['-c', 'echo "<web-app/>" > WEB-INF/web.xml'], { cwd: d('war') });
  const war = d('shop.war');
  run('zip', ['-q', '-0', war, 'WEB-INF/lib/commons-io-2.11.0.jar'], { cwd: d('war') });
  run('zip', ['-q', '-r', war, 'WEB-INF/lib/guava.jar', 'WEB-INF/web.xml'], { cwd: d('war') });

  // EAR: the WAR and lib/commons-lang3.jar.
  mkdirSync(d('ear', 'lib'), { recursive: true });
  copyFileSync(war, d('ear', 'shop.war'));
  copyFileSync(DEBIAN_JARS.lang3, d('ear', 'lib', 'commons-lang3.jar'));
  const ear = d('shop.ear');
  run('zip', ['-q', '-r', ear, 'shop.war', 'lib'], { cwd: d('ear') });

  // Shaded: slf4j-api's and commons-io's contents in one jar, both pom.properties kept.
  mkdirSync(d('shade'));
  run('unzip', ['-q', '-o', DEBIAN_JARS.slf4j], { cwd: d('shade') });
  run('unzip', ['-q', '-o', DEBIAN_JARS.io], { cwd: d('shade') });
  const shaded = d('app-all.jar');
  run('zip', ['-q', '-r', shaded, '.'], { cwd: d('shade') });

  const noPom = (src: string, name: string): string => {
    const out = d(name);
    copyFileSync(realpathSync(src), out);
    run('zip', ['-q', '-d', out, 'META-INF/maven/*']);
    return out;
  };
  return {
    dir, war, ear, shaded,
    lang3NoPom: noPom(DEBIAN_JARS.lang3, 'commons-lang3-3.12.0.jar'),
    databindNoPom: noPom(DEBIAN_JARS.databind, basename('jackson-databind.jar')),
  };
}
