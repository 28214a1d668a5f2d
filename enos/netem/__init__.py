"""Network emulation between topology groups (``enos tc``).

- :mod:`enos.netem.units`: delay, rate and loss values as reservation.yaml writes them;
- :mod:`enos.netem.constraints`: ``network_constraints`` -> the rule of every pair of groups;
- :mod:`enos.netem.plan`: the rules of each host as a ``tc -batch`` script;
- :mod:`enos.netem.apply`: probe, enforce and remove them with one Ansible run;
- :mod:`enos.netem.measure`: ``enos tc --test``, measures next to what was asked.
"""
