"""Listening (issue 10, parts 3 and 4): saved queries over sources, mentions with sentiment, early warning."""
