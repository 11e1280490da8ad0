"""Use cases: own the transaction, take explicit arguments, never read request globals."""
