"""What a ``stripe-sim`` sub-command is: a name, its arguments and what it runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class CommandError(Exception):
    """A mistake or a refusal the user can act on: printed as one line, exit status 2."""


class DefaultsShown(argparse.HelpFormatter):
    """``--help`` names each option's default, unless it has none or its help does."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (not action.option_strings or action.default in (None, False, argparse.SUPPRESS)
                or "default" in text):
            return text
        return f"{text} (default: {action.default})".strip()


@dataclass
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int | None]

    def add_to(self, sub: Any) -> None:
        parser = sub.add_parser(self.name, help=self.help, description=self.help,
                                formatter_class=DefaultsShown)
        self.configure(parser)
        for action in parser._actions:  # argparse prints no line for an option without help
            if action.help is None and action.default not in (None, False, argparse.SUPPRESS):
                action.help = "(default: %(default)s)"
        parser.set_defaults(run=self.run)
