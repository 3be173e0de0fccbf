"""The X connector (API v2): https://docs.x.com/x-api/introduction.

Posts: https://docs.x.com/x-api/posts/create-post; OAuth 2 with PKCE:
https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code; counting: twitter-text
(https://github.com/twitter/twitter-text, config v3) through the ``twitter-text-parser`` package.
"""
