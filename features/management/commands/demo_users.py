"""Demo accounts for trying the editorial workflow, each with a fresh random password."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from features.models import Author

ACCOUNTS = [
    ("editor", "Editors", "morgan-price"),
    ("writer", "Writers", "jordan-ellis"),
]


class Command(BaseCommand):
    help = "Create (or reset) the demo editor and writer accounts and print their passwords."

    def add_arguments(self, parser):
        parser.add_argument(
            "--address", default="http://127.0.0.1:8000", help="Where the site is served."
        )

    def handle(self, *args, **options):
        User = get_user_model()
        lines = []
        for username, group_name, author_slug in ACCOUNTS:
            user, _ = User.objects.get_or_create(username=username)
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.is_staff = True
            user.is_active = True
            user.save()
            user.groups.add(Group.objects.get(name=group_name))
            Author.objects.filter(slug=author_slug, user__isnull=True).update(user=user)
            lines.append(
                f"  {group_name[:-1].lower():7} user name: {username:7} password: {password}"
            )
        address = options["address"].rstrip("/")
        self.stdout.write(f"Log in at {address}/admin/ with:")
        self.stdout.write("\n".join(lines))
