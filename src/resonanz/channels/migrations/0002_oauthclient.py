"""MastodonApp becomes the network-neutral OAuthClient (one app registration per network server);
Channel.network takes its choices from the connector registry."""

import resonanz.connectors.registry
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0001_initial"),
    ]

    operations = [
        migrations.RenameModel(old_name="MastodonApp", new_name="OAuthClient"),
        migrations.RemoveConstraint(model_name="oauthclient", name="mastodon_app_unique"),
        # Every registration stored so far was one of the fediverse network's (the only OAuth one).
        migrations.AddField(
            model_name="oauthclient",
            name="network",
            field=models.CharField(default="mastodon", max_length=32),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="oauthclient",
            constraint=models.UniqueConstraint(
                fields=("network", "base_url", "redirect_uri"), name="oauth_client_unique"
            ),
        ),
        migrations.AlterField(
            model_name="channel",
            name="network",
            field=models.CharField(
                choices=resonanz.connectors.registry.network_choices, max_length=32, verbose_name="network"
            ),
        ),
    ]
