"""Line breaks of unpublished variants as ``\\n`` (``posts.services.newlines``): texts saved from the
composer before the input was normalised hold the browser's CRLF, which would reach the networks as is."""

from django.db import migrations

UNPUBLISHED = ("draft", "scheduled", "failed")


def normalise(apps, schema_editor):  # type: ignore[no-untyped-def]
    VariantPart = apps.get_model("posts", "VariantPart")
    Variant = apps.get_model("posts", "Variant")
    parts = VariantPart.objects.filter(variant__status__in=UNPUBLISHED, text__contains="\r")
    for part in parts.iterator():
        part.text = part.text.replace("\r\n", "\n").replace("\r", "\n")
        part.save(update_fields=["text"])
    for variant in Variant.objects.filter(status__in=UNPUBLISHED, first_comment__contains="\r").iterator():
        variant.first_comment = variant.first_comment.replace("\r\n", "\n").replace("\r", "\n")
        variant.save(update_fields=["first_comment"])


class Migration(migrations.Migration):
    dependencies = [
        ("posts", "0008_variant_first_comment_quote"),
    ]

    operations = [
        migrations.RunPython(normalise, migrations.RunPython.noop),
    ]
