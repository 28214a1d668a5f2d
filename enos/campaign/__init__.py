"""Parameter studies: ``enos campaign run|report|status FILE``.

:mod:`enos.campaign.spec` reads ``campaign.yaml`` and expands its grid into points,
:mod:`enos.campaign.runner` runs them (only what each change needs, resumable),
:mod:`enos.campaign.report` writes ``results.json`` and the report.
"""
