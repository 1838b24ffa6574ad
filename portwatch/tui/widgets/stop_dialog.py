"""The stop dialog (`k`, F9): what exactly would happen, Cancel focused, and then what did happen.

The plan (portwatch.stop_plan) names the listener, the target pid, its name, exe, user and, where known, unit
or container, with each choice's exact command. Cancel has the focus when the dialog opens, so Enter, space
or a held key only ever cancel. A choice runs in a thread worker (portwatch.stop.Stopper.execute: check the
process is still the one named, signal, wait a bounded time) and its outcome is shown here; if SIGTERM was
ignored, SIGKILL stays on offer. Every process string reaches the screen as Content of safe() text.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from portwatch.stop import Stopper
from portwatch.stop_plan import Method, Outcome, Result, StopPlan, StopRequest, plan_lines, plan_stop, where


class StopFinished(Message):
    """A stop's outcome, from the dialog's worker (to the dialog) and from the dialog (to the app)."""

    bubble = False

    def __init__(self, outcome: Outcome) -> None:
        super().__init__()
        self.outcome = outcome


_SEVERITY = {Result.GONE: "-ok", Result.ALREADY_GONE: "-ok", Result.DRY_RUN: "-ok"}


class StopDialog(ModalScreen[Outcome | None]):
    """Dismissed with the last outcome (None when cancelled before any choice)."""

    DEFAULT_CSS = """
    StopDialog { align: center middle; }
    #stop-box { width: 100; max-width: 100%; height: auto; max-height: 100%; border: round $error;
                background: $surface; padding: 0 1; }
    #stop-title { text-style: bold; }
    /* the plan scrolls when it is long (many holders, a narrow terminal): the choices stay on screen */
    #stop-plan-box { height: auto; max-height: 40vh; margin: 1 0 0 0; }
    #stop-status { margin: 1 0 0 0; color: $text-warning; display: none; }
    #stop-status.-shown { display: block; }
    #stop-status.-ok { color: $text-success; }
    #stop-buttons { height: auto; margin: 1 0 0 0; }
    #stop-picks { height: auto; }
    #stop-box Button { width: auto; min-width: 10; margin: 0 1 0 0; }
    """
    AUTO_FOCUS = "#stop-cancel"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, request: StopRequest, stopper: Stopper) -> None:
        super().__init__()
        self.request = request
        self.stopper = stopper
        self.plan: StopPlan = plan_stop(request)
        self.outcome: Outcome | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="stop-box"):
            yield Static(Content(f"Stop {where(self.request.listener)}?"), id="stop-title")
            with VerticalScroll(id="stop-plan-box"):
                yield Static(self._plan_text(), id="stop-plan")
            yield Static(Content(""), id="stop-status")
            with Horizontal(id="stop-buttons"):
                yield Button("Cancel", id="stop-cancel", variant="primary")
                for method in Method:
                    yield Button(Content(method.value), id=f"stop-{method.name.lower()}", variant="error")
            with Horizontal(id="stop-picks"):
                for holder in self.plan.holders:
                    yield Button(Content(f"pid {holder.pid} only"), id=f"stop-pick-{holder.pid}")

    def on_mount(self) -> None:
        self._show_choices()
        self.query_one("#stop-cancel", Button).focus()

    def _plan_text(self) -> Content:
        return Content("\n".join(plan_lines(self.plan)))  # plan_lines' text is safe(): shown literally

    def _show_choices(self) -> None:
        available = {option.method for option in self.plan.options}
        for method in Method:
            button = self.query_one(f"#stop-{method.name.lower()}", Button)
            button.display = method in available
            button.disabled = self.busy
            if method in available:
                option = self.plan.option(method)
                button.tooltip = Content(option.command) if option is not None else None
        single = len(self.plan.holders) < 2
        self.query_one("#stop-picks").display = not single
        for holder in self.plan.holders:
            pick = self.query_one(f"#stop-pick-{holder.pid}", Button)
            pick.disabled = self.busy or (self.plan.target is not None and self.plan.target.pid == holder.pid)

    def _status(self, text: str, ok: bool = False) -> None:
        status = self.query_one("#stop-status", Static)
        status.update(Content(text))
        status.set_class(ok, "-ok")
        status.add_class("-shown")

    # -- choices ------------------------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if self.busy:  # the signal is sent: stay to say what came of it
            self._status("still waiting for the outcome: it is shown here in a moment")
            return
        self.dismiss(self.outcome)

    @on(Button.Pressed)
    def _chosen(self, event: Button.Pressed) -> None:
        button_id = event.button.id or ""
        event.stop()
        if button_id == "stop-cancel":
            self.action_cancel()
            return
        if self.busy:
            return
        if button_id.startswith("stop-pick-"):
            self.plan = plan_stop(self.request, int(button_id.removeprefix("stop-pick-")))
            self.query_one("#stop-plan", Static).update(self._plan_text())
            self._show_choices()
            return
        method = Method[button_id.removeprefix("stop-").upper()]
        option = self.plan.option(method)
        if option is None:
            return
        self.busy = True
        self._show_choices()
        self.query_one("#stop-cancel", Button).focus()
        self._status(f"running {option.command} … (waiting up to {self.stopper.wait:g} s for the listener to go)")
        self._execute(self.plan, method)

    @work(thread=True, group="stop", exclusive=True, exit_on_error=False)
    def _execute(self, plan: StopPlan, method: Method) -> None:
        try:
            outcome = self.stopper.execute(plan, method)
        except Exception as error:  # an unexpected OS error: say it rather than end the app
            outcome = Outcome(Result.FAILED, f"{type(error).__name__}: {error}")
        self.post_message(StopFinished(outcome))

    def on_stop_finished(self, message: StopFinished) -> None:
        outcome = message.outcome
        self.outcome, self.busy = outcome, False
        self._status(outcome.message, ok=outcome.gone)
        if outcome.result in (Result.GONE, Result.ALREADY_GONE, Result.CHANGED):
            self.plan = StopPlan(
                self.plan.listener, self.plan.target, refusal=outcome.message, holders=self.plan.holders
            )  # nothing more to do from this plan
        elif outcome.offer_kill:
            kill = self.plan.option(Method.KILL)
            self.plan = StopPlan(
                self.plan.listener, self.plan.target, (kill,) if kill else (), None, self.plan.notes, self.plan.holders
            )
        self._show_choices()
        self.query_one("#stop-cancel", Button).label = "Close"
        self.app.post_message(StopFinished(outcome))
