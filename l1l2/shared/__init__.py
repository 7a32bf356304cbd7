"""What the commands share: the runs of a comparison, pruning trained runs, checkpoint records,
the L1-vs-L2 verdict, the analyses' reports. Commands import these, never each other."""
