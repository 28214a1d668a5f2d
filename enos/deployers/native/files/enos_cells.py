"""Map Nova's cells: cell0 and cell1, in one process.

``python enos_cells.py NOVA_CONF CELL0_DATABASE_URL`` (the OpenStack virtualenv's python) does
what ``nova-manage cell_v2 map_cell0`` then ``nova-manage cell_v2 create_cell --name cell1``
do, through the same nova-manage commands, but imports Nova once instead of three times (with
``list_cells``): seconds of a deployment. Idempotent: an existing mapping is kept. Exits with
nova-manage's code.
"""

from __future__ import annotations

import sys


def main(conf: str, cell0_url: str) -> int:
    from nova import config, context, objects
    from nova.cmd import manage

    manage.CONF.register_cli_opts([manage.category_opt, manage.post_mortem_opt])
    config.parse_args(["nova-manage", "--config-file", conf, "cell_v2", "list_cells"])
    objects.register_all()
    commands = manage.CellV2Commands()
    code = commands.map_cell0(database_connection=cell0_url) or 0
    if code:
        return int(code)
    cells = objects.CellMappingList.get_all(context.get_admin_context())
    if "cell1" not in {cell.name for cell in cells}:
        code = commands.create_cell(name="cell1") or 0
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
