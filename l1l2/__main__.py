"""`python -m l1l2`: the same as ./reproduce."""

from .cli import run

if __name__ == "__main__":  # not when the drawing process imports this module again
    run()
