"""``manage.py migrate`` on the migration database (``MIGRATE_DATABASE`` in settings).

Production points ``DATABASE_URL`` at a transaction pooler (Neon's ``-pooler`` host,
PgBouncer), which schema changes should bypass: with ``DATABASE_DIRECT_URL`` set, ``migrate``
typed on the command line connects there instead, and never through the client-side pool.
``call_command("migrate")`` (the test runner creating its database) keeps the connection it
was given: only an operator's command switches.
"""

from django.conf import settings
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections


class Command(migrate.Command):
    help = migrate.Command.help + " From the command line: on DATABASE_DIRECT_URL when it is set."

    def run_from_argv(self, argv):
        self.from_command_line = True
        super().run_from_argv(argv)

    def handle(self, *args, **options):
        if getattr(self, "from_command_line", False) and options["database"] == DEFAULT_DB_ALIAS:
            connection = connections[DEFAULT_DB_ALIAS]
            connection.close()
            # In place: the configured dict (with Django's filled-in defaults) is shared.
            direct = {**connection.settings_dict, **settings.MIGRATE_DATABASE}
            connection.settings_dict.clear()
            connection.settings_dict.update(direct)
        return super().handle(*args, **options)
