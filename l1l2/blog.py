"""What the blog post reports: the anchor our numbers sit beside (docs/PROTOCOL.md)."""

TITLE = (
    "Difference between L1 and L2 regularization, implementation and visualization in Tensorflow"
)
AUTHOR = "Juan Miguel Valverde"
URL = (
    "http://laid.delanover.com/"
    "difference-between-l1-and-l2-regularization-implementation-and-visualization-in-tensorflow/"
)
SCRIPT_URL = "https://github.com/jmlipman/LAID/blob/master/Tensorflow/Regularization/L1vsL2.py"

# Total absolute test error of the five L1 runs.
L1_TEST_ERRORS = (22.68515524, 41.64545712, 4.77383674, 24.04390211, 7.25596004)

# After pruning L1's disconnected units: the architecture and five retrained runs.
PRUNED_SIZES = (1, 10, 10, 1, 1)
PRUNED_TEST_ERRORS = (7.61984439, 13.85177842, 11.95983347, 16.95491162, 25.17294774)
