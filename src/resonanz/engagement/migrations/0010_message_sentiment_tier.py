"""Which classifier tier judged a message (``Message.sentiment_tier``): the first pass ("fast") is stored
at ingest and refined by the full model ("full") in a low-priority task. Messages judged before this
migration were judged by the combined tier (fast + e5), so they are "full"."""

from __future__ import annotations

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def judged_are_full(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    message = apps.get_model("engagement", "Message")
    message.objects.using(schema_editor.connection.alias).filter(sentiment__isnull=False).update(
        sentiment_tier="full"
    )


class Migration(migrations.Migration):
    dependencies = [("engagement", "0009_metric_campaign_daily")]

    operations = [
        migrations.AddField(
            model_name="message",
            name="sentiment_tier",
            field=models.CharField(
                blank=True,
                choices=[("fast", "first pass"), ("full", "full model")],
                max_length=4,
                null=True,
            ),
        ),
        migrations.RunPython(judged_are_full, migrations.RunPython.noop, elidable=True),
    ]
