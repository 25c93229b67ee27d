"""Runs a command and prints its wall time and peak RSS as JSON: {"seconds": .., "max_rss_mb": ..}.

Usage: python measure.py COMMAND [ARGS...]
The peak RSS is the child's own high-water mark (ru_maxrss of the waited process, via wait4), so
a command's start-up is included, as a user would see it. The command's stdout is discarded.
"""

import json
import os
import subprocess
import sys
import time


def main():
    started = time.perf_counter()
    child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(f"{sys.argv[1]} exited with {code}", file=sys.stderr)
        sys.exit(1)
    # Linux reports ru_maxrss in kilobytes.
    print(json.dumps({"seconds": seconds, "max_rss_mb": usage.ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
