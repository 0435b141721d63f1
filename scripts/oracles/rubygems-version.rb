# Oracle for scripts/gen-rubygems-vectors.ts, run with Debian's ruby and its rubygems. Reads lines:
#   "cmp<TAB>A<TAB>B" -> "A<TAB>B<TAB>cmp<TAB>correctA<TAB>correctB" (Gem::Version <=>; ! when one is not correct?)
#   "req<TAB>V<TAB>R" -> "V<TAB>R<TAB>sat" (Gem::Requirement.new(*R.split(", ")).satisfied_by?(Gem::Version.new(V)),
#                         as bundler-audit reads rubysec's patched_versions; ! when either raises)
require "rubygems"

STDOUT.sync = false
STDIN.each_line do |line|
  op, a, b = line.chomp("\n").split("\t", 3)
  case op
  when "cmp"
    ca = Gem::Version.correct?(a) ? 1 : 0
    cb = Gem::Version.correct?(b) ? 1 : 0
    r = (ca == 1 && cb == 1) ? (Gem::Version.new(a) <=> Gem::Version.new(b)).to_s : "!"
    puts [a, b, r, ca, cb].join("\t")
  when "req"
    r = begin
      Gem::Requirement.new(*b.split(", ")).satisfied_by?(Gem::Version.new(a)) ? "1" : "0"
    rescue ArgumentError, Gem::Requirement::BadRequirementError
      "!"
    end
    puts [a, b, r].join("\t")
  else
    abort "unknown op #{op.inspect}"
  end
end
