"""What a configuration asks for, as a small table (``enos validate``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from enos.config.spec import Config


@dataclass
class SummaryRow:
    """The machines of one group (``-`` without topology) and label (``-`` without label).

    ``roles`` maps a role (``a+b`` for machines carrying several roles) to its machine count.
    For the static provider a row is one host: ``label`` is its alias, each role counts 1.
    """

    group: str
    label: str
    roles: dict[str, int] = field(default_factory=dict)
    machines: int = 0


@dataclass
class Summary:
    """What :func:`summarize` returns; :meth:`lines` renders it for ``enos validate``."""

    provider: str
    deployer: str
    rows: list[SummaryRow]
    total: int
    by_role: dict[str, int]
    groups: list[str]
    constraints: int | None = None

    def lines(self) -> list[str]:
        """The table and totals as text lines."""
        head = ("group", "label", "machines", "roles")
        body = [
            (row.group, row.label, str(row.machines),
             ", ".join(f"{role}: {count}" for role, count in row.roles.items()))
            for row in self.rows
        ]
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(3)]
        out = []
        for cells in [head, *body]:
            out.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False))
                       + "  " + cells[3])
        plural = "" if self.total == 1 else "s"
        out.append(f"total: {self.total} machine{plural} ("
                   + ", ".join(f"{role}: {n}" for role, n in self.by_role.items()) + ")")
        if self.groups:
            out.append(f"groups: {', '.join(self.groups)}")
        if self.constraints is not None:
            out.append(f"network constraints: {self.constraints} rule"
                       + ("" if self.constraints == 1 else "s") + " besides the defaults")
        return out


def summarize(config: Config) -> Summary:
    """Per group and label, the roles and their machine counts; the totals."""
    rows: dict[tuple[str, object], SummaryRow] = {}
    by_role: dict[str, int] = {}
    total = 0
    if config.static_hosts:
        for role, hosts in config.static_hosts.items():
            by_role[role] = by_role.get(role, 0) + len(hosts)
            for host in hosts:
                ident = (host["address"], host["port"])
                if ident not in rows:
                    rows[ident] = SummaryRow("-", host["alias"], machines=1)
                    total += 1
                rows[ident].roles[role] = 1
    else:
        for spec in config.machines:
            row = rows.setdefault((spec.group or "-", spec.label or "-"),
                                  SummaryRow(spec.group or "-", spec.label or "-"))
            role = "+".join(spec.roles)
            row.roles[role] = row.roles.get(role, 0) + spec.number
            row.machines += spec.number
            for one in spec.roles:
                by_role[one] = by_role.get(one, 0) + spec.number
            total += spec.number
    nc = config.network_constraints
    constraints = len(nc["constraints"]) if nc and nc.get("enable") else None
    return Summary(
        provider=config.provider_type,
        deployer=config.data.get("deployer", {}).get("type", "-"),
        rows=list(rows.values()),
        total=total,
        by_role=by_role,
        groups=list(config.groups),
        constraints=constraints,
    )
