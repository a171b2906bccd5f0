"""`python -m lipeval.train` and `torchrun -m lipeval.train`."""
import sys

from .cli import main

sys.exit(main())
