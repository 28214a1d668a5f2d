"""Ansible stdout callback that reports to enos as JSON lines.

Each event (play start, task start, one host's result, final stats) is one JSON object written
to the file named by ``ENOS_EVENTS``; enos turns them into a progress display and into errors
that name the host and the task. Nothing is printed on Ansible's own stdout but a final recap.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: enos_progress
    type: stdout
    short_description: JSON-lines events for enos's progress display
    description: Writes one JSON object per event to the file named by ENOS_EVENTS.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "enos_progress"

    def __init__(self) -> None:
        super().__init__()
        path = os.environ.get("ENOS_EVENTS")
        self._out = open(path, "a", buffering=1) if path else None  # noqa: SIM115
        # (host, task uuid) -> when the task started on the host (monotonic).
        self._started: dict[tuple[str, str], float] = {}

    def _emit(self, **event: object) -> None:
        if self._out is not None:
            self._out.write(json.dumps(event, default=str) + "\n")

    def v2_playbook_on_play_start(self, play):
        hosts = play.get_variable_manager()._inventory.get_hosts(play.hosts)
        self._emit(event="play", name=play.get_name(), hosts=[h.name for h in hosts])

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit(event="task", name=task.get_name())

    def v2_playbook_on_handler_task_start(self, task):
        self._emit(event="task", name=task.get_name())

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task._uuid)] = time.monotonic()

    def _result(self, status: str, result, ignore_errors: bool = False) -> None:
        res = result._result
        began = self._started.pop((result._host.get_name(), result._task._uuid), None)
        msg = res.get("msg") or res.get("stderr") or res.get("module_stderr") or ""
        if msg == "non-zero return code":
            # A failed command: what it said matters more than Ansible's summary.
            said = (res.get("stderr") or res.get("stdout") or "").strip()
            msg = f"exit code {res.get('rc')}: {said}" if said else msg
        failed = [r for r in res.get("results") or [] if isinstance(r, dict) and r.get("failed")]
        if failed:
            # A loop: say which items failed and why, not only "One or more items failed".
            msg = "; ".join(
                f"item {r.get('item')!r}: {r.get('msg') or r.get('stderr') or r.get('stdout')}"
                for r in failed[:5]
            )
        self._emit(
            event="result",
            status=status,
            host=result._host.get_name(),
            task=result._task.get_name(),
            changed=bool(res.get("changed")),
            ignored=ignore_errors,
            msg=str(msg)[-2000:],
            stdout=str(res.get("stdout", ""))[-2000:] if status != "ok" else "",
            seconds=round(time.monotonic() - began, 3) if began is not None else None,
        )

    def v2_runner_on_ok(self, result):
        self._result("ok", result)
        # Facts named enos_* (set_fact) are how a playbook reports values back to enos.
        facts = {k: v for k, v in (result._result.get("ansible_facts") or {}).items()
                 if k.startswith("enos_")}
        if facts:
            self._emit(event="facts", host=result._host.get_name(), facts=facts)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result("failed", result, ignore_errors)

    def v2_runner_on_unreachable(self, result):
        self._result("unreachable", result)

    def v2_runner_on_skipped(self, result):
        self._result("skipped", result)

    def v2_playbook_on_stats(self, stats):
        summary = {h: stats.summarize(h) for h in sorted(stats.processed)}
        self._emit(event="stats", hosts=summary)
        for host, s in summary.items():
            self._display.display(
                f"{host}: ok={s['ok']} changed={s['changed']} failed={s['failures']} "
                f"unreachable={s['unreachable']} skipped={s['skipped']}"
            )
