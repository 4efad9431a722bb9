"""ctr_batch: search sessions and click-through rate, in batch, from Parquet event logs."""
