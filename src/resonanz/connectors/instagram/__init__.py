"""The Instagram connector (professional accounts, Instagram Graph API with Facebook Login):
https://developers.facebook.com/docs/instagram-platform/content-publishing. Graph plumbing is shared with
the Facebook Pages connector (``connectors/facebook/graph.py``)."""
