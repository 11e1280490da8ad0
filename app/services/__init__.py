"""Use cases. Services own the transaction, take explicit arguments and never read request globals."""
