"""The per-user-bucket unit of work on Apache Spark (``pip install 'ctr-batch[spark]'``)."""
