"""The three role groups and their permissions (see integrations/roles.py).

Permissions are normally made after all migrations run; they are made here
first so the groups can hold them on a fresh database. Running it again is
harmless; reversing it removes the groups (their members simply lose them).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from integrations import roles


def create_groups(apps, schema_editor):
    using = schema_editor.connection.alias
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = None
    roles.apply(apps, exact=True, using=using)


def remove_groups(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    names = [role.name for role in roles.ROLES]
    group_model.objects.using(schema_editor.connection.alias).filter(
        name__in=names
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0004_portal_support"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
