"""`python -m l1l2`: the same as ./reproduce."""

from .cli import main

main()
