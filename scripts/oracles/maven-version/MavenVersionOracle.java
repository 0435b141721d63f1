// Oracle for scripts/gen-maven-vectors.ts: reads "A<TAB>B" lines and prints
// "A<TAB>B<TAB>signum(new ComparableVersion(A).compareTo(new ComparableVersion(B)))<TAB>A's canonical form",
// using org.apache.maven.artifact.versioning.ComparableVersion from Debian's libmaven3-core-java
// (/usr/share/java/maven-artifact-3.x.jar).
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class MavenVersionOracle {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            int tab = line.indexOf('\t');
            if (tab < 0) throw new IllegalArgumentException("bad line " + line);
            String a = line.substring(0, tab), b = line.substring(tab + 1);
            ComparableVersion va = new ComparableVersion(a), vb = new ComparableVersion(b);
            out.write(a + "\t" + b + "\t" + Integer.signum(va.compareTo(vb)) + "\t" + va.getCanonical() + "\n");
        }
        out.flush();
    }
}
