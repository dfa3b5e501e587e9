"""The tags that say what a node is: set by the pipelines, read by the runtime (hooks and
runners), so that neither has to import the other."""

# A node that fits models: n_jobs: auto shares the cores among those that run at once.
FIT = "fit"
# A node that takes long: the project's ParallelRunner starts first the nodes with the
# longest chain of LONG nodes ahead of them.
LONG = "long"
