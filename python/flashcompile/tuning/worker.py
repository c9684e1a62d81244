"""A LocalPool worker: `python -m flashcompile.tuning.worker` reads one
JSON task per line and answers one JSON result per line (measure_task)."""
import json
import sys

from flashcompile.tuning.measure import measure_task

if __name__ == "__main__":
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(measure_task(json.loads(line))), flush=True)
