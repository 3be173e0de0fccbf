"""The LinkedIn connector (members and organisation pages) on LinkedIn's versioned REST API.

Posts API: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api;
the "little" text format of ``commentary``:
https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format;
versioning (``LinkedIn-Version: YYYYMM``): https://learn.microsoft.com/en-us/linkedin/marketing/versioning;
OAuth 2 (3-legged): https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow.
"""
