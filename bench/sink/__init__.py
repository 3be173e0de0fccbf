"""The "sink network": a local HTTP server that swallows posts, and the connector that talks to it."""
