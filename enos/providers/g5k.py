"""Provider ``g5k``: Grid'5000 bare-metal nodes reserved through OAR.

Its configuration schema and defaults are those of the reference documentation, so a
reservation.yaml written for it validates. Acquiring machines on this testbed is not built yet
(its class cannot acquire): ``enos up`` says so. The same ``resources`` run on this machine by
changing only ``provider: local``.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import TYPE_CHECKING, Any, ClassVar

from enos.providers.base import Provider

if TYPE_CHECKING:
    from enos.config.checks import Checker

JOB_TYPES = ("deploy", "allow_classic_ssh")
_WALLTIME = re.compile(r"^\d{1,4}(:[0-5]\d){0,2}$")


def check_walltime(section: dict[str, Any], ck: Checker) -> None:
    """``walltime``: hours, or HH:MM, or HH:MM:SS (as OAR reads it)."""
    value = section.get("walltime")
    if value is None:
        return
    text = ck.text(value, "provider.walltime", "a duration such as 02:00:00")
    if not _WALLTIME.match(text):
        raise ck.error("provider.walltime", f"'{text}' is not a walltime",
                       "write HH:MM:SS, e.g. walltime: '02:00:00' (quoted)")
    section["walltime"] = text


def check_reservation(section: dict[str, Any], ck: Checker) -> None:
    """``reservation``: empty (now) or a start date ``YYYY-MM-DD HH:MM:SS``."""
    value = section.get("reservation")
    if value in (None, ""):
        return
    text = ck.text(value, "provider.reservation", "a start date")
    try:
        _dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ck.error("provider.reservation", f"'{text}' is not a start date",
                       "write `reservation: '2026-12-01 19:00:00'` (local time of the site), "
                       "or remove it to start now") from None


DEFAULTS: dict[str, Any] = {
    "job_name": "Enos",
    "walltime": "02:00:00",
    "env_name": "debian9-x64-nfs",
    "reservation": "",
    "job_type": "deploy",
    "queue": "default",
}


class G5kProvider(Provider):
    label = "cluster"
    example_label = "paravance"
    defaults: ClassVar[dict[str, Any]] = DEFAULTS
    keys = ("resources", "role_distribution")
    can_acquire = False

    def check_section(self, section: dict[str, Any], ck: Checker) -> None:
        check_walltime(section, ck)
        check_reservation(section, ck)
        if section.get("job_type") is not None:
            section["job_type"] = ck.choice(section["job_type"], "provider.job_type",
                                            JOB_TYPES)
