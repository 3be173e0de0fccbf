"""The Facebook Pages connector (Graph API): https://developers.facebook.com/docs/pages-api.

The shared Graph API plumbing (pinned version, error mapping, usage headers) is ``graph.py``; the
Instagram connector uses it too.
"""
