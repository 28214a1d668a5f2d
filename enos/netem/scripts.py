"""The two shell scripts ``playbooks/tc.yml`` runs on each host, rendered here from its plan.

Rendering them once per run in enos (instead of templating the plan in Ansible for every host
and task) leaves Ansible one file lookup per host and task.

- ``probe``: ``files/tc-probe.sh`` with the pieces the rules need (which installs iptables and
  python3 when the host is to use the userspace backend and lacks them); empty when the host
  has no rule (it is not probed). Prints ``backend B`` and ``the kernel lacks P`` lines.
- ``apply``: removes enos's rules (root qdisc ``e05:`` of every interface to clear, the
  netfilter chain), then adds the new ones. The backend is settled by the probe, on the host:
  the playbook puts ``tc_backend=...`` and ``tc_dir=...`` (``<enos_root>/tc``) before the
  script. With the userspace backend and delays, one ``python3`` (``files/tc_delay_up.py``)
  installs the supervisor and the delay line under ``tc_dir`` (files rewritten only when they
  changed), starts or converges the supervisor and waits for the delay line; otherwise a
  delay line left by an earlier run is stopped. Prints one line per change (nothing: nothing
  changed).
"""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path
from typing import Any

FILES = Path(__file__).parent / "playbooks" / "files"

_CLEAR = """\
set -e
for dev in {devices}; do
  if tc qdisc show dev "$dev" root 2>/dev/null | grep -q '^qdisc htb e05: root'; then
    tc qdisc del dev "$dev" root
    echo "cleared $dev"
  fi
done
for ipt in iptables ip6tables; do
  command -v $ipt >/dev/null 2>&1 || continue
  if $ipt -w -t mangle -n -L ENOS_TC >/dev/null 2>&1; then
    while $ipt -w -t mangle -D POSTROUTING -j ENOS_TC 2>/dev/null; do :; done
    $ipt -w -t mangle -F ENOS_TC
    $ipt -w -t mangle -X ENOS_TC
    echo "cleared $ipt ENOS_TC"
  fi
done
"""

_STOP_DELAY_LINE = """\
if [ -f "$tc_dir/supervisor.pid" ] && [ -f "$tc_dir/bin/supervisor.py" ]; then
  rm -f "$tc_dir/programs/enos-delay.json"
  python3 "$tc_dir/bin/supervisor.py" --dir "$tc_dir" shutdown >/dev/null
  echo "stopped the delay line"
fi
"""


def _file(name: str | Path) -> str:
    """A file as Ansible's file lookup gave it (trailing white space stripped)."""
    path = name if isinstance(name, Path) else FILES / name
    return path.read_text().rstrip()


def _heredoc(command: str, text: str, marker: str) -> str:
    """``command`` fed ``text`` (ending with a newline) by a quoted here-document."""
    if marker in text.split("\n"):
        raise ValueError(f"{marker} is a line of the text")  # cannot happen with our scripts
    return f"{command} <<'{marker}'\n{text}{marker}\n"


def probe(data: dict[str, Any]) -> str:
    """The probe of one host (``data``: its plan, :func:`enos.netem.apply.plan_data`)."""
    if not data["needs"]:
        return ""
    return (f"ENOS_TC_NEEDS={shlex.quote(' '.join(data['needs']))}\n"
            + f"ENOS_TC_BACKEND={shlex.quote(data['backend'])}\n"
            + f"ENOS_TC_USERSPACE={shlex.quote(' '.join(data['userspace']['needs']))}\n"
            + "ENOS_TC_INSTALL=1\n"
            + _file("tc-probe.sh") + "\n")


def _delay_line(queues: list[str], supervisor: Path) -> str:
    """Install, start or converge the delay line (one python3 on the host)."""
    delay = _file("enos_delay.py")
    payload = {
        "files": {"supervisor.py": _file(supervisor) + "\n", "enos_delay.py": delay + "\n"},
        "queues": queues,
        "sha1": hashlib.sha1(delay.encode()).hexdigest(),
    }
    program = f"PAYLOAD = {json.dumps(payload)!r}\n" + _file("tc_delay_up.py") + "\n"
    return _heredoc('python3 - "$tc_dir"', program, "ENOS_TC_UP")


def _batch(batch: str, rules: int, backend: str) -> str:
    if not batch:
        return ""
    return (_heredoc("tc -batch -", batch, "ENOS_TC_BATCH")
            + f'echo "applied {rules} class(es) ({backend})"\n')


def apply(data: dict[str, Any], supervisor: Path) -> str:
    """The apply script of one host, after ``tc_backend=...`` and ``tc_dir=...``."""
    us = data["userspace"]
    userspace = _delay_line(us["queues"], supervisor) if us["queues"] else _STOP_DELAY_LINE
    userspace += _batch(us["batch"], data["rules"], "userspace")
    for version, ipt in (("4", "iptables"), ("6", "ip6tables")):
        script = us[f"iptables{version}"]
        if script:
            userspace += (_heredoc(f"{ipt}-restore -w --noflush", script, "ENOS_TC_IPTABLES")
                          + f"{ipt} -w -t mangle -A POSTROUTING -j ENOS_TC\n"
                          + f'echo "{ipt}: ENOS_TC"\n')
    other = _STOP_DELAY_LINE + _batch(data["batch"], data["rules"], "$tc_backend")
    devices = " ".join(shlex.quote(d) for d in data["devices_to_clear"])
    return (_CLEAR.format(devices=devices)
            + 'if [ "$tc_backend" = userspace ]; then\n' + userspace
            + "else\n" + other + "fi\n")
