"""User.language becomes optional: empty = the browser's language.

Until now the field was only the language of e-mails and always held the default ("de") unless someone set
it in the admin; from now on a saved language also sets the interface language. So that nobody's
interface changes by surprise, the old default is reset to "not chosen" (e-mails stay German: an empty
language is written to in the site's default). Other values were chosen on purpose and are kept.
"""

from django.db import migrations, models


def forget_the_old_default(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.filter(language="de").update(language="")


def restore_the_old_default(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.filter(language="").update(language="de")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="language",
            field=models.CharField(
                blank=True,
                choices=[("de", "German"), ("en", "English")],
                default="",
                help_text="Empty: the browser's language (e-mails in the site's default language).",
                max_length=8,
                verbose_name="language",
            ),
        ),
        migrations.RunPython(forget_the_old_default, restore_the_old_default),
    ]
