"""The Threads connector (Meta's Threads API, https://developers.facebook.com/documentation/threads/overview).

Posts: https://developers.facebook.com/documentation/threads/posts (container, then ``threads_publish``);
replies: https://developers.facebook.com/documentation/threads/reply-management; insights:
https://developers.facebook.com/documentation/threads/insights; tokens:
https://developers.facebook.com/documentation/threads/get-started/long-lived-tokens.
"""
