"""Benchmarks of the deployed cloud: workloads (``run.yml``) run with Rally and Shaker.

- :mod:`enos.bench.workload`: reading a workload directory and expanding it into runs;
- :mod:`enos.bench.rally`: Rally's own virtualenv, database, environment and tasks;
- :mod:`enos.bench.shaker`: when Shaker scenarios can run, and the hook for a runner;
- :mod:`enos.bench.results`: a run's outcome and its summary table;
- :mod:`enos.bench.session`: one ``enos bench``, run after run, results on disk.
"""
