"""The floor the throughput targets are measured against: each NDJSON line of a file parsed and
written again with the standard library, nothing else.

    python bench/json_loop.py FILE > out.ndjson
"""

import json
import sys

with open(sys.argv[1], encoding="utf-8") as lines:
    write = sys.stdout.write
    for line in lines:
        write(json.dumps(json.loads(line)) + "\n")
