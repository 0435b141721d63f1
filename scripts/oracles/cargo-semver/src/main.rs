// Oracle for scripts/gen-cargo-vectors.ts. Reads lines from stdin:
//   "cmp<TAB>A<TAB>B" -> "A<TAB>B<TAB>ord<TAB>validA<TAB>validB" (ord = Version::cmp, -1/0/1, or ! when one fails to parse)
//   "req<TAB>V<TAB>R" -> "V<TAB>R<TAB>matches" (1/0, or ! when Version::parse or VersionReq::parse fails)
use semver::{Version, VersionReq};
use std::cmp::Ordering;
use std::io::{self, BufRead, BufWriter, Write};

fn main() {
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for line in stdin.lock().lines() {
        let line = line.expect("read stdin");
        let parts: Vec<&str> = line.splitn(3, '\t').collect();
        if parts.len() != 3 {
            eprintln!("bad line {:?}", line);
            std::process::exit(2);
        }
        let (a, b) = (parts[1], parts[2]);
        match parts[0] {
            "cmp" => {
                let (va, vb) = (Version::parse(a), Version::parse(b));
                let ord = match (&va, &vb) {
                    (Ok(x), Ok(y)) => match x.cmp(y) {
                        Ordering::Less => "-1",
                        Ordering::Equal => "0",
                        Ordering::Greater => "1",
                    },
                    _ => "!",
                };
                writeln!(out, "{}\t{}\t{}\t{}\t{}", a, b, ord, va.is_ok() as u8, vb.is_ok() as u8).unwrap();
            }
            "req" => {
                let r = match (Version::parse(a), VersionReq::parse(b)) {
                    (Ok(v), Ok(req)) => if req.matches(&v) { "1" } else { "0" },
                    _ => "!",
                };
                writeln!(out, "{}\t{}\t{}", a, b, r).unwrap();
            }
            other => {
                eprintln!("unknown op {:?}", other);
                std::process::exit(2);
            }
        }
    }
}
