"""The sample workload directory (package marker so its files ship with enos)."""
