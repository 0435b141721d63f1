# min over N runs of each phase's wall and cpu
N=${N:-5}
for i in $(seq $N); do NODE_COMPILE_CACHE=/tmp/ncc node_modules/.bin/node .scratch/phases.ts 2>&1 >/dev/null; done | awk -F'\t' '{ if (!($1 in w) || $2 < w[$1]) w[$1]=$2; if (!($1 in c) || $3 < c[$1]) c[$1]=$3; if (!($1 in o)) { o[$1]=++k; name[k]=$1 } } END { for (i=1;i<=k;i++) printf "%-18s wall %7.1f  cpu %7.1f\n", name[i], w[name[i]], c[name[i]] }'
