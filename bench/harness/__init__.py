"""What the benchmarks share: the bare target, fakes in a process, TLS for them, load, CPU, logs and the report."""
