// Oracle for scripts/gen-go-vectors.ts: reads "A<TAB>B" lines and prints, per line,
// semver.Compare(A, B), semver.IsValid(A), semver.IsValid(B) and module.IsPseudoVersion(A), using
// golang.org/x/mod from Debian's golang-golang-x-mod-dev (built offline in GOPATH mode, see the generator).
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

func b(x bool) int {
	if x {
		return 1
	}
	return 0
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		parts := strings.SplitN(in.Text(), "\t", 2)
		if len(parts) != 2 {
			fmt.Fprintf(os.Stderr, "bad line %q\n", in.Text())
			os.Exit(2)
		}
		a, c := parts[0], parts[1]
		fmt.Fprintf(out, "%s\t%s\t%d\t%d\t%d\t%d\n", a, c, semver.Compare(a, c), b(semver.IsValid(a)), b(semver.IsValid(c)), b(module.IsPseudoVersion(a)))
	}
}
