from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "resonanz.posts"
    label = "posts"
