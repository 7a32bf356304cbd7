"""`python -m l1l2`: the same as ./reproduce."""

import sys

try:
    from .cli import run
except ModuleNotFoundError as e:  # before `pip install -r requirements.txt`
    sys.exit(f"reproduce: error: {e.name} is not installed; run: pip install -r requirements.txt")

if __name__ == "__main__":  # not when the drawing process imports this module again
    run()
