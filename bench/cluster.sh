# Sourced by the bench scripts. pg_options prints pg_virtualenv's -o flags for the throwaway cluster from
# BENCH_PG_OPTIONS (space-separated name=value pairs), for experiments with PostgreSQL's settings, e.g.
# BENCH_PG_OPTIONS="shared_buffers=1GB" bench/size-ab. The benches' own figures use PostgreSQL's defaults
# (fsync on, which each script sets itself).
pg_options() {
  local option
  for option in ${BENCH_PG_OPTIONS:-}; do printf -- '-o %s ' "$option"; done
}
