"""A stand-in CLI that records how it was started (argv, environment) and exits with code 3.

``RECORD_TO`` in its environment names the JSON file it writes."""

import json
import os
import sys

with open(os.environ["RECORD_TO"], "w") as f:
    json.dump({"argv": sys.argv[1:], "env": dict(os.environ)}, f)
sys.stderr.write("recorded\n")
sys.exit(3)
