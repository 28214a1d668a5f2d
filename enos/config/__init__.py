"""The reservation.yaml configuration: loading, checking, summarizing, samples.

Phases call :func:`load_config` and work on the :class:`Config` it returns; ``enos validate``
shows :func:`summarize`; ``enos new`` writes :func:`sample`. Importing this package costs PyYAML
only.
"""

from __future__ import annotations

from enos.config.loader import load_config, loads_config
from enos.config.ranges import RangeError, expand_group, expand_groups
from enos.config.samples import sample, sample_providers
from enos.config.spec import Config, MachineSpec
from enos.config.summary import Summary, SummaryRow, summarize

__all__ = [
    "Config",
    "MachineSpec",
    "RangeError",
    "Summary",
    "SummaryRow",
    "expand_group",
    "expand_groups",
    "load_config",
    "loads_config",
    "sample",
    "sample_providers",
    "summarize",
]
