"""The command-line parser every krmfn command shares: a usage error is one line, never argparse's
usage dump and exit 2."""

from __future__ import annotations

import argparse


class UsageError(Exception):
    pass


class CommandParser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")
