"""督查 ducha: the application shell (settings, clock, context, CLI, jobs, scheduler, Prefect flows)."""

import logging

# A library's loggers stay quiet unless the program (the scheduler, a Prefect worker) configures logging.
logging.getLogger("ducha").addHandler(logging.NullHandler())
