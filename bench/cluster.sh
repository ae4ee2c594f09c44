# Sourced by the bench scripts. pg_options prints pg_virtualenv's -o flags for the throwaway cluster from
# BENCH_PG_OPTIONS (space-separated name=value pairs), for experiments with PostgreSQL's settings, e.g.
# BENCH_PG_OPTIONS="shared_buffers=1GB" bench/size-ab. The benches' own figures use PostgreSQL's defaults
# (fsync on, which each script sets itself).
pg_options() {
  local option
  for option in ${BENCH_PG_OPTIONS:-}; do printf -- '-o %s ' "$option"; done
}

# User and system clock ticks of every postgres process on this machine, with those of their children that ended
# (the postmaster's backends and autovacuum workers), so that work of a process that came and went between two
# readings is counted. Used by bench/run and bench/profile.
postgres_cpu_ticks() {
  local total=0 pid fields
  for pid in $(pgrep -x postgres); do
    fields=$(cut -d')' -f2 "/proc/$pid/stat" 2>/dev/null) || continue
    set -- $fields
    total=$(( total + ${12} + ${13} + ${14} + ${15} ))
  done
  echo "$total"
}
