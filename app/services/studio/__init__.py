"""Process studio services: drafts, diffs, deploys, registry lookups, test runs, operating."""
