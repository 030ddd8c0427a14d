"""The ``rcrop`` command (and ``python -m rcrop``): the command line, run by
the extension module as the ``rcrop`` binary runs it, with its exit
statuses and its handling of SIGINT, SIGTERM and SIGHUP."""

import sys

from rcrop import _rcrop


def main() -> None:
    """Runs the command line of this process and exits with its status."""
    sys.exit(_rcrop.main(sys.argv))


if __name__ == "__main__":
    main()
