"""Publishing and mirroring feeds (Atom 1.0, JSON Feed 1.1)."""
