import sys

from krmfn.cli import main

sys.exit(main())
