import sys

from dashboards.api.server import main

sys.exit(main())
